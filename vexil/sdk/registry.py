"""The SDK hot path's in-process view of environments: which keys are valid, and the current
precomputed snapshot of each environment.

Every process keeps the whole key index in memory (client keys and server-key prefixes of every
environment), so an unknown key is refused without touching the database. A poller reloads the
index and the environments' revisions every ``interval`` seconds (and at once when this process
commits a change), and drops or rebuilds snapshots whose revision moved. That is what makes a
change committed through the management API visible on every process within a second, with or
without Redis.

Keys created since the last poll are found by a database fallback that is rate-limited and backed
by a negative cache, so a scanner trying random keys cannot turn into database load.

When the database is unreachable (docs/reliability.md), everything already in memory keeps being
served: the last index, and the last snapshot of each environment even if a newer revision is
known but cannot be built (a build is retried at most every ``BUILD_RETRY_SECONDS``). The poller
drops its broken connection after a failure and reconnects on its next poll, logs the outage once
and the recovery once, and the view's age (``staleness``) is what readiness reports.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from vexil.evaluation.keys import EnvironmentRow, ServerKeyRow, server_key_prefix
from vexil.sdk.reads import database_failed

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ResolvedKey:
    environment: EnvironmentRow
    is_server: bool


class Snapshot(Protocol):
    @property
    def revision(self) -> int: ...


S = TypeVar("S", bound=Snapshot)


class Loader(Protocol):
    """Reads the index from the database (vexil.evaluation.keys.DatabaseKeyLoader)."""

    def environments(self) -> Iterable[EnvironmentRow]: ...

    def server_keys(self) -> Iterable[ServerKeyRow]: ...

    def reset(self) -> None:
        """Drop this thread's database connection (after a failure), to reconnect on next use."""


BUILD_RETRY_SECONDS = 1.0


@dataclass
class _Index:
    by_client_key: dict[str, EnvironmentRow]
    by_id: dict[int, EnvironmentRow]
    server_keys: dict[str, ServerKeyRow]


class _MissGuard:
    """Negative cache plus a token bucket on database look-ups for keys not in the index."""

    def __init__(self, per_second: float, negative_ttl: float, max_entries: int = 10_000) -> None:
        self.per_second = per_second
        self.negative_ttl = negative_ttl
        self.max_entries = max_entries
        self._tokens = per_second
        self._stamp = time.monotonic()
        self._negative: dict[str, float] = {}
        self._lock = threading.Lock()

    def may_look_up(self, key: str) -> bool:
        now = time.monotonic()
        with self._lock:
            expiry = self._negative.get(key)
            if expiry is not None and expiry > now:
                return False
            self._tokens = min(
                self.per_second, self._tokens + (now - self._stamp) * self.per_second
            )
            self._stamp = now
            if self._tokens < 1:
                return False
            self._tokens -= 1
            return True

    def remember_unknown(self, key: str) -> None:
        with self._lock:
            if len(self._negative) >= self.max_entries:
                self._negative.clear()
            self._negative[key] = time.monotonic() + self.negative_ttl


class Registry(Generic[S]):
    """Key index, revisions and snapshots for one process. Thread-safe."""

    def __init__(
        self,
        loader: Loader,
        build: Callable[[int], S],
        *,
        interval: float = 0.5,
        misses_per_second: float = 2.0,
        negative_ttl: float = 10.0,
    ) -> None:
        self._loader = loader
        self._build = build
        self.interval = interval
        self._misses = _MissGuard(misses_per_second, negative_ttl)
        self._index = _Index({}, {}, {})
        self._snapshots: dict[int, S] = {}
        self._build_locks: dict[int, threading.Lock] = {}
        self._locks_lock = threading.Lock()
        self._refresh_lock = threading.Lock()
        self._wake = threading.Event()
        self._stopped = threading.Event()
        self._poller: threading.Thread | None = None
        self._loaded = False
        self._refreshed_at: float | None = None  # monotonic, last successful refresh
        self._failing_since: float | None = None
        self._build_retry_at: dict[int, float] = {}
        self._refresh_listeners: list[Callable[[Mapping[int, EnvironmentRow]], None]] = []

    def on_refresh(self, listener: Callable[[Mapping[int, EnvironmentRow]], None]) -> None:
        """Call ``listener`` with every environment by id after each reload of the index (on the
        thread that reloaded it; vexil.sdk.changes turns that into change notifications)."""
        self._refresh_listeners.append(listener)

    # --- keys ---------------------------------------------------------------------------
    def lookup(self, key: str) -> ResolvedKey | None:
        """In-memory only (safe on the event loop); None may mean "not loaded yet"."""
        return self._lookup(key) if self._loaded else None

    def resolve(self, key: str) -> ResolvedKey | None:
        """The environment a key opens, or None. In-memory; a key missing from the index (created
        since the last poll) triggers a refresh, at most ``misses_per_second`` times a second
        and once per unknown key per ``negative_ttl``."""
        self._ensure_loaded()
        found = self._lookup(key)
        if found is None and self._misses.may_look_up(key):
            self.refresh()
            found = self._lookup(key)
            if found is None:
                self._misses.remember_unknown(key)
        return found

    def _lookup(self, key: str) -> ResolvedKey | None:
        index = self._index
        prefix = server_key_prefix(key)
        if prefix is None:
            environment = index.by_client_key.get(key)
            return ResolvedKey(environment, is_server=False) if environment else None
        row = index.server_keys.get(prefix)
        if row is None or not row.accepts(key, time.time()):
            return None
        environment = index.by_id.get(row.environment_id)
        return ResolvedKey(environment, is_server=True) if environment else None

    # --- snapshots ------------------------------------------------------------------------
    def snapshot(self, environment: EnvironmentRow) -> S:
        """The snapshot for the environment's current revision, built once per revision. If the
        build fails (the database is unreachable) and an older snapshot exists, that one."""
        current = self.cached_snapshot(environment)
        if current is not None:
            return current
        with self._build_lock(environment.id):
            current = self._snapshots.get(environment.id)
            if current is not None and (
                current.revision >= environment.revision or self._retry_later(environment.id)
            ):
                return current
            try:
                fresh = self._build(environment.id)
            except Exception:
                if current is None:
                    raise
                self._build_retry_at[environment.id] = time.monotonic() + BUILD_RETRY_SECONDS
                logger.warning(
                    "Building revision %d of environment %d failed; serving revision %d",
                    environment.revision,
                    environment.id,
                    current.revision,
                    exc_info=True,
                )
                return current
            self._build_retry_at.pop(environment.id, None)
            self._snapshots[environment.id] = fresh
            return fresh

    def cached_snapshot(self, environment: EnvironmentRow) -> S | None:
        """The snapshot if it is current (or its rebuild failed a moment ago), without building
        (for the async fast path)."""
        current = self._snapshots.get(environment.id)
        if current is not None and (
            current.revision >= environment.revision or self._retry_later(environment.id)
        ):
            return current
        return None

    def _retry_later(self, environment_id: int) -> bool:
        retry_at = self._build_retry_at.get(environment_id)
        return retry_at is not None and time.monotonic() < retry_at

    def _build_lock(self, environment_id: int) -> threading.Lock:
        with self._locks_lock:
            return self._build_locks.setdefault(environment_id, threading.Lock())

    # --- freshness ------------------------------------------------------------------------
    def refresh(self) -> None:
        """Reload the key index and revisions; forget snapshots of deleted environments (those
        of changed ones are replaced when rebuilt, so a failed rebuild can still serve)."""
        with self._refresh_lock:
            environments = list(self._loader.environments())
            server_keys = {row.prefix: row for row in self._loader.server_keys()}
            by_id = {row.id: row for row in environments}
            self._index = _Index({row.client_key: row for row in environments}, by_id, server_keys)
            self._loaded = True
            for environment_id in list(self._snapshots):
                if environment_id not in by_id:
                    self._snapshots.pop(environment_id, None)
            self._refreshed(time.monotonic())
            for listener in self._refresh_listeners:
                listener(by_id)

    def _refreshed(self, now: float) -> None:
        self._refreshed_at = now
        if self._failing_since is not None:
            logger.warning(
                "The SDK key index is current again, after %.1f s of failed refreshes",
                now - self._failing_since,
            )
            self._failing_since = None

    def staleness(self) -> float | None:
        """Seconds since the index was last read from the database; None before the first read."""
        refreshed = self._refreshed_at
        return None if refreshed is None else time.monotonic() - refreshed

    def current(self, environment_id: int) -> EnvironmentRow | None:
        return self._index.by_id.get(environment_id)

    def start_polling(self) -> None:
        with self._refresh_lock:
            if self._poller is not None and self._poller.is_alive():
                return
            self._poller = threading.Thread(target=self._poll, name="vexil-sdk-poller", daemon=True)
            self._poller.start()

    def wake(self) -> None:
        """Poll now (after this process committed a change) rather than at the next interval."""
        self._wake.set()

    def _ensure_loaded(self) -> None:
        if not self._loaded:
            self.refresh()

    def stop_polling(self) -> None:
        self._stopped.set()
        self._wake.set()
        if self._poller is not None:
            self._poller.join(timeout=5)

    def _poll(self) -> None:
        while not self._stopped.is_set():
            self._wake.wait(self.interval)
            self._wake.clear()
            if self._stopped.is_set():
                return
            try:
                self.refresh()
                self._rebuild_changed()
            except Exception as error:
                self._loader.reset()
                database_failed()
                self._poll_failed(error)

    def _rebuild_changed(self) -> None:
        """Build the new revision of every environment this process serves, so a change is
        served within the polling interval (and is built before an outage can prevent it)."""
        for environment_id, snapshot in list(self._snapshots.items()):
            row = self._index.by_id.get(environment_id)
            if row is not None and snapshot.revision < row.revision:
                self.snapshot(row)

    def _poll_failed(self, error: Exception) -> None:
        if self._failing_since is None:
            self._failing_since = time.monotonic()
            logger.warning(
                "Refreshing the SDK key index failed (%s: %s); serving the last one and "
                "retrying every %.1f s until the database answers",
                type(error).__name__,
                str(error).strip(),
                self.interval,
            )
        else:
            logger.debug("Refreshing the SDK key index failed again", exc_info=True)
