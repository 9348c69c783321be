"""Flag analytics from the SDKs: counted in memory on the hot path, flushed in the background.

``POST /api/v1/analytics/flags/`` only adds to a dictionary; a daemon thread writes the totals
to hourly buckets every ``interval`` seconds (and at exit). A process that dies between flushes
loses at most that many seconds of counts, which is the trade the SDKs make too.
"""

from __future__ import annotations

import atexit
import logging
import threading
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from django.db import close_old_connections

from vexil.analytics.services import feature_evaluations_record
from vexil.sdk.snapshot import EnvironmentSnapshot

logger = logging.getLogger(__name__)

_pending: Counter[tuple[int, int, datetime]] = Counter()
_lock = threading.Lock()
_flusher: threading.Thread | None = None
_interval = 10.0


def record(snapshot: EnvironmentSnapshot, counts: dict[str, Any]) -> None:
    """Keep counts whose name is a feature of the environment and whose value is an integer."""
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    feature_ids = snapshot.feature_ids
    with _lock:
        for name, count in counts.items():
            feature_id = feature_ids.get(name)
            if feature_id is not None and type(count) is int and count > 0:
                _pending[(snapshot.environment_id, feature_id, hour)] += count
    _ensure_flusher()


def flush() -> None:
    with _lock:
        batch = dict(_pending)
        _pending.clear()
    if not batch:
        return
    close_old_connections()
    try:
        feature_evaluations_record(counts=batch)
    except Exception:
        logger.exception("Flushing %d flag-analytics buckets failed; keeping them", len(batch))
        with _lock:
            _pending.update(batch)
    finally:
        close_old_connections()


def configure(interval: float) -> None:
    global _interval
    _interval = interval


def _ensure_flusher() -> None:
    global _flusher
    if _flusher is not None:
        return
    with _lock:
        if _flusher is None:
            _flusher = threading.Thread(target=_run, name="vexil-analytics", daemon=True)
            _flusher.start()
            atexit.register(flush)


def _run() -> None:
    stop = threading.Event()
    while not stop.wait(_interval):
        flush()
