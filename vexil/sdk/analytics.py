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

from django.db import InterfaceError, OperationalError, close_old_connections

from vexil.analytics.services import feature_evaluations_record
from vexil.sdk.snapshot import EnvironmentSnapshot

logger = logging.getLogger(__name__)

Bucket = tuple[int, int, datetime]  # environment id, feature id, hour
_pending: Counter[Bucket] = Counter()
_lock = threading.Lock()
_flusher: threading.Thread | None = None
_interval = 10.0


# One post's count of one feature: an SDK sends what it evaluated in ~10 s. Larger counts are
# ignored like any other malformed one; a buffered bucket stops growing at MAX_PENDING, so no
# sum can leave the database's 64-bit column.
MAX_COUNT_PER_POST = 2**31 - 1
MAX_PENDING = 2**40


def record(snapshot: EnvironmentSnapshot, counts: dict[str, Any]) -> None:
    """Keep counts whose name is a feature of the environment and whose value is an integer
    from 1 to MAX_COUNT_PER_POST."""
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    feature_ids = snapshot.feature_ids
    with _lock:
        for name, count in counts.items():
            feature_id = feature_ids.get(name)
            if feature_id is not None and type(count) is int and 0 < count <= MAX_COUNT_PER_POST:
                bucket = (snapshot.environment_id, feature_id, hour)
                _pending[bucket] = min(_pending[bucket] + count, MAX_PENDING)
    _ensure_flusher()


def flush() -> None:
    """Store the buffered counts. If the batch fails, each bucket is tried on its own: one that
    the database refuses is dropped (and logged), so it cannot block the others; while the
    database is unreachable, everything is kept for the next flush."""
    with _lock:
        batch = dict(_pending)
        _pending.clear()
    if not batch:
        return
    close_old_connections()
    try:
        feature_evaluations_record(counts=batch)
    except Exception:
        _flush_one_by_one(batch)
    finally:
        close_old_connections()


def _flush_one_by_one(batch: dict[Bucket, int]) -> None:
    remaining = dict(batch)
    for bucket, count in batch.items():
        close_old_connections()
        try:
            feature_evaluations_record(counts={bucket: count})
        except (OperationalError, InterfaceError):
            logger.warning(
                "Flushing flag analytics failed (database unreachable); keeping %d buckets",
                len(remaining),
            )
            _keep(remaining)
            return
        except Exception:
            logger.exception("Dropping a flag-analytics bucket the database refuses: %s", bucket)
        del remaining[bucket]


def _keep(buckets: dict[Bucket, int]) -> None:
    with _lock:
        for bucket, count in buckets.items():
            _pending[bucket] = min(_pending[bucket] + count, MAX_PENDING)


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
