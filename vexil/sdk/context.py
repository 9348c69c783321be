"""What the SDK endpoint functions share in one process (``SDKContext``): the registry, the
cache of identities' flags, the identity reader and the thread pool with its connections.

Its own module so that ``app`` -> ``endpoints`` -> ``identify`` -> ``keys`` -> ``context`` is a
one-way chain (an import-linter layers contract keeps it so).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, TypeVar

from django.db import connection

from vexil.evaluation.keys import EnvironmentRow
from vexil.sdk.changes import DEFAULT_MAX_SUBSCRIBERS, ChangeHub
from vexil.sdk.reads import UNAVAILABLE, database_failed, failure_epoch, identity_reader
from vexil.sdk.registry import Registry, ResolvedKey
from vexil.sdk.results import IdentityResults
from vexil.sdk.snapshot import EnvironmentSnapshot

T = TypeVar("T")


# How long an SDK thread keeps its database connection. The pool's threads live as long as the
# process, so each holds one connection across requests instead of opening one per request (with
# SQLite's CONN_MAX_AGE=0 that was a third of an identity request's time).
CONNECTION_MAX_AGE_SECONDS = 60.0


class SDKContext:
    """What the endpoint functions share in one process: the registry, the cache of identities'
    flags and the thread pool."""

    def __init__(
        self,
        registry: Registry[EnvironmentSnapshot],
        threads: int,
        identity_results: IdentityResults | None = None,
        *,
        prepared_statements: bool = True,
        max_streams: int = DEFAULT_MAX_SUBSCRIBERS,
    ) -> None:
        self.registry = registry
        # Change notifications for the real-time streams, fed by every reload of the key index
        self.changes = ChangeHub(max_subscribers=max_streams)
        registry.on_refresh(self.changes.observe)
        self.identity_results = IdentityResults(0) if identity_results is None else identity_results
        self.reader = identity_reader(self.in_thread, prepare=prepared_statements)
        self._threads = 0
        self._threads_lock = threading.Lock()
        self._executor = ThreadPoolExecutor(
            max_workers=threads, thread_name_prefix="vexil-sdk", initializer=self._count_thread
        )

    def _count_thread(self) -> None:
        with self._threads_lock:
            self._threads += 1

    def shutdown(self) -> None:
        """Close every pool thread's database connection, then stop the pool."""
        with self._threads_lock:
            started = self._threads
        if started:
            # One task per thread: each waits at the barrier until all are running, so every
            # thread takes exactly one and closes its own (thread-local) connection.
            barrier = threading.Barrier(started)
            for _ in range(started):
                self._executor.submit(_close_connection, barrier)
        self._executor.shutdown(wait=True)

    async def in_thread(self, function: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._executor, partial(_with_connection, function, *args)
        )

    async def resolve(self, key: str) -> ResolvedKey | None:
        found = self.registry.lookup(key)
        if found is None:
            found = await self.in_thread(self.registry.resolve, key)
        return found

    async def snapshot(self, environment: EnvironmentRow) -> EnvironmentSnapshot:
        cached = self.registry.cached_snapshot(environment)
        if cached is not None:
            return cached
        return await self.in_thread(self.registry.snapshot, environment)


_connection_state = threading.local()


def _with_connection(function: Callable[..., T], *args: Any) -> T:
    """Run ``function`` on this thread's persistent connection.

    Django's ``close_old_connections`` per call would open a connection per request with SQLite
    (CONN_MAX_AGE=0) and cost a health-check query per request with PostgreSQL. Here the
    connection is kept for CONNECTION_MAX_AGE_SECONDS and checked only after an error. After any
    SDK database failure in this process (``reads.database_failed``), every thread opens a new
    connection before its next use: one opened before a database restart is dead, and each
    thread finding that out on a request of its own would answer 503s after the recovery.
    """
    now = time.monotonic()
    opened = getattr(_connection_state, "opened", None)
    epoch = failure_epoch()
    if (
        opened is None
        or now - opened > CONNECTION_MAX_AGE_SECONDS
        or _connection_state.epoch != epoch
    ):
        connection.close()
        _connection_state.opened = now
        _connection_state.epoch = epoch
    try:
        return function(*args)
    except UNAVAILABLE:
        database_failed()
        raise
    finally:
        if connection.errors_occurred:
            if not connection.is_usable():
                connection.close()
            connection.errors_occurred = False


def _close_connection(barrier: threading.Barrier) -> None:
    with contextlib.suppress(threading.BrokenBarrierError):
        barrier.wait(timeout=5)
    connection.close()
