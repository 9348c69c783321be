"""The in-process deliverer of the embedded default (no Celery broker).

One daemon thread per server process delivers what is due in the outbox table, then sleeps until
the next delivery is due, a new one is queued (:func:`wake`), or ``VEXIL_WEBHOOK_POLL_SECONDS``
pass (rows queued by other processes). Because the table is the queue, deliveries that were
pending when a process died are picked up when any process starts again (:func:`start`); leases
keep two processes from sending the same attempt.
"""

from __future__ import annotations

import logging
import threading

from django.conf import settings
from django.db import close_old_connections, connections

from vexil.webhooks import delivery

logger = logging.getLogger(__name__)

_thread: threading.Thread | None = None
_lock = threading.Lock()
_wake = threading.Event()


def start() -> None:
    """Start this process's deliverer, once."""
    global _thread
    with _lock:
        if _thread is None or not _thread.is_alive():
            _thread = threading.Thread(target=_run, name="vexil-webhooks", daemon=True)
            _thread.start()


def wake() -> None:
    """Deliver now: something was queued."""
    start()
    _wake.set()


def _run() -> None:
    while True:
        pause = settings.VEXIL_WEBHOOK_POLL_SECONDS
        try:
            pause = min(pause, _pass())
        except Exception:
            logger.exception("Webhook delivery pass failed")
        finally:
            connections.close_all()
        _wake.wait(timeout=max(pause, 0.01))
        _wake.clear()


def _pass() -> float:
    close_old_connections()
    while delivery.run_due():
        pass
    delivery.purge_if_due()
    next_due = delivery.seconds_until_next_due()
    return settings.VEXIL_WEBHOOK_POLL_SECONDS if next_due is None else next_due
