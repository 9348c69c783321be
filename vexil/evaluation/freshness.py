"""How old this process's view of the environments is, for readiness (vexil.health).

The SDK layer registers a source (its registry's ``staleness``); readiness asks ``problem()``.
A process whose view is older than ``VEXIL_SDK_MAX_STALENESS_SECONDS`` may be serving flags that
changed since: it reports not-ready so a load balancer sends SDKs elsewhere (docs/reliability.md).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

logger = logging.getLogger(__name__)

Staleness = Callable[[], "float | None"]

_sources: list[Staleness] = []
_lock = threading.Lock()
_reported = False


def register(source: Staleness) -> None:
    with _lock:
        _sources.append(source)


def unregister(source: Staleness) -> None:
    with _lock:
        if source in _sources:
            _sources.remove(source)


def problem(max_staleness: float) -> str | None:
    """None when every view is fresher than ``max_staleness`` seconds, else the reason (logged
    once per stale spell, not on every readiness probe)."""
    global _reported
    with _lock:
        ages = [age for age in (source() for source in _sources) if age is not None]
    oldest = max(ages, default=0.0)
    if oldest <= max_staleness:
        _reported = False
        return None
    reason = (
        f"the SDK view of the environments is {oldest:.1f} s old "
        f"(more than {max_staleness:g} s): the database has not answered its refreshes"
    )
    if not _reported:
        _reported = True
        logger.error("Not ready: %s", reason)
    return reason
