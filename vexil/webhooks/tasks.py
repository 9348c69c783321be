"""Celery tasks of webhook delivery (used when ``CELERY_BROKER_URL`` is set).

The broker holds a delivery between attempts: a retry is the same task sent again with a
countdown. The outbox table stays the record, so a task the broker lost (a Redis restart without
persistence, a crash between commit and send) is found by the worker's sweeper
(:func:`sweep`, every ``VEXIL_WEBHOOK_SWEEP_SECONDS``) and sent again. Without a broker,
:mod:`vexil.webhooks.worker` delivers from the outbox table.
"""

from __future__ import annotations

import logging
import threading
import uuid
from typing import Any

from celery.signals import worker_ready
from django.conf import settings
from django.db import connections

from vexil.celery import app
from vexil.webhooks import delivery

logger = logging.getLogger(__name__)


@app.task(name="vexil.webhooks.delivery_attempt")
def webhook_delivery_attempt(delivery_id: str) -> None:
    pk = uuid.UUID(delivery_id)
    # None from attempt() may also mean "leased by an attempt that died": come back when the
    # lease runs out, so a delivery is never left pending with no task to run it.
    retry_in = delivery.attempt(pk)
    if retry_in is None:
        retry_in = delivery.claimable_in(pk)
    if retry_in is not None:
        webhook_delivery_attempt.apply_async(args=[delivery_id], countdown=retry_in)
    delivery.purge_if_due()


def sweep() -> int:
    """Send the task again for every delivery overdue by a sweep period; return how many."""
    overdue = delivery.overdue_delivery_ids(by_seconds=settings.VEXIL_WEBHOOK_SWEEP_SECONDS)
    for delivery_id in overdue:
        webhook_delivery_attempt.apply_async(args=[str(delivery_id)])
    if overdue:
        logger.warning("Sent %d webhook deliveries again: their tasks were lost", len(overdue))
    return len(overdue)


def _sweep_forever(stop: threading.Event) -> None:
    while not stop.wait(settings.VEXIL_WEBHOOK_SWEEP_SECONDS):
        try:
            sweep()
        except Exception:
            logger.exception("Webhook delivery sweep failed")
        finally:
            connections.close_all()


_stop = threading.Event()


@worker_ready.connect
def _start_sweeper(**_: Any) -> None:
    """One sweeper thread per worker (a duplicate task is harmless: a lease lets one run)."""
    threading.Thread(
        target=_sweep_forever, args=(_stop,), name="vexil-webhook-sweep", daemon=True
    ).start()
