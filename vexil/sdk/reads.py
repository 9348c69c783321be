"""The identity read of the SDK hot path, on the event loop itself.

Every identify call reads its identity, traits and overrides (one statement,
``vexil.identities.selectors.identity_state_sql``). Sending that read to the thread pool and back
cost more than the read and, worse, made the loop thread and the pool threads queue on the GIL:
at 64 connections the p99 of an identity request was 3-5 times its median (docs/performance.md,
"SDK endpoints"). So the read runs without leaving the loop:

* **SQLite**: on a connection of the loop's own, read-only (``PRAGMA query_only``). A read of a
  local WAL database takes tens of microseconds and never waits for a writer.
* **PostgreSQL**: through psycopg's asyncio connections (a small pool per process), so the loop
  keeps serving other requests while the statement is on the wire; the statement is prepared
  once per connection (``VEXIL_SDK_PREPARED_STATEMENTS``).
* Anything else: on the thread pool, as before.

Writes (a new identity, changed traits) still go to the thread pool through the ORM.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine
from typing import Any, Protocol

from django.db import InterfaceError, OperationalError, connections
from django.db.backends.base.base import BaseDatabaseWrapper

from vexil.identities.selectors import (
    IdentityEvaluationState,
    identity_evaluation_state,
    identity_state_from_rows,
    identity_state_parameters,
    identity_state_sql,
)

InThread = Callable[..., Coroutine[Any, Any, Any]]
POSTGRES_POOL_SIZE = 4
# An identity read that has not answered in this long fails (503), so SDKs fall back at once
# instead of waiting on a database that is down (docs/reliability.md).
READ_TIMEOUT_SECONDS = 0.8
# After a failed read, reads fail at once for this long; the next one tries a new pool.
RETRY_AFTER_SECONDS = 0.5


class DatabaseUnavailableError(Exception):
    """The database did not answer an SDK read in time; the endpoint answers 503."""


# What an SDK endpoint answers with 503 and Retry-After (vexil.sdk.app): the database is down,
# unreachable or too slow, through this module's readers or Django's connections.
UNAVAILABLE = (DatabaseUnavailableError, OperationalError, InterfaceError)

_SQLITE_UNAVAILABLE = ("database is locked", "unable to open", "disk i/o")


def is_unavailable(error: BaseException) -> bool:
    """Whether ``error`` means "the database cannot be reached now" (503), not a bug (500).
    SQLite raises OperationalError for a missing table too."""
    if not isinstance(error, UNAVAILABLE):
        return False
    cause = error.__cause__
    if isinstance(error, OperationalError) and type(cause).__module__ == "sqlite3":
        return any(text in str(cause).lower() for text in _SQLITE_UNAVAILABLE)
    return True


_failures = [0]  # SDK database failures in this process so far (an epoch, see failure_epoch)


def database_failed() -> None:
    """Note that an SDK database access failed: connections opened before are suspect."""
    _failures[0] += 1


def failure_epoch() -> int:
    return _failures[0]


class IdentityReader(Protocol):
    async def read(self, environment_id: int, identifier: str) -> IdentityEvaluationState | None:
        """The stored identity with its traits and overrides, or None."""

    async def close(self) -> None: ...


def identity_reader(
    in_thread: InThread, alias: str = "default", *, prepare: bool = True
) -> IdentityReader:
    """The reader for the database ``alias``. ``prepare``: PostgreSQL prepared statements on the
    reader's own connections (off behind a transaction-pooling PgBouncer before 1.21)."""
    vendor = connections[alias].vendor
    if vendor == "sqlite":
        return SQLiteReader(in_thread, alias)
    if vendor == "postgresql":
        return PostgresReader(alias, prepare=prepare)
    return ThreadReader(in_thread)


class ThreadReader:
    def __init__(self, in_thread: InThread) -> None:
        self._in_thread = in_thread

    async def read(self, environment_id: int, identifier: str) -> IdentityEvaluationState | None:
        state: IdentityEvaluationState | None = await self._in_thread(
            identity_evaluation_state, environment_id, identifier
        )
        return state

    async def close(self) -> None:
        return None


class SQLiteReader:
    """One read-only connection used only from the event loop's thread."""

    def __init__(self, in_thread: InThread, alias: str) -> None:
        self._in_thread = in_thread
        self._alias = alias
        self._wrapper: BaseDatabaseWrapper | None = None
        self._sql = identity_state_sql().replace("%s", "?")

    async def read(self, environment_id: int, identifier: str) -> IdentityEvaluationState | None:
        wrapper = self._wrapper
        if wrapper is None:
            # Django opens it (its pragmas, converters and functions), on a thread: Django
            # refuses to connect from async code. SQLite connections are made with
            # check_same_thread=False, and only the loop uses this one afterwards.
            wrapper = self._wrapper = await self._in_thread(self._open)
        try:
            cursor = wrapper.connection.execute(
                self._sql, identity_state_parameters(environment_id, identifier)
            )
            rows = cursor.fetchall()
        except Exception:
            self._wrapper = None  # reopen on the next read
            with contextlib.suppress(Exception):
                wrapper.connection.close()
            raise
        return identity_state_from_rows(rows)

    def _open(self) -> BaseDatabaseWrapper:
        wrapper = connections.create_connection(self._alias)
        wrapper.ensure_connection()
        wrapper.connection.execute("PRAGMA query_only = 1")
        return wrapper

    async def close(self) -> None:
        wrapper, self._wrapper = self._wrapper, None
        if wrapper is not None:
            wrapper.connection.close()


class PostgresReader:
    """psycopg asyncio connections with Django's connection parameters, opened on first use in
    the loop that reads (each server process has its own)."""

    def __init__(self, alias: str, *, prepare: bool) -> None:
        self._alias = alias
        self._prepare = prepare
        self._pool: Any = None
        self._opening: asyncio.Lock | None = None
        self._sql = identity_state_sql()
        self._failed_until = 0.0
        self._closing: set[asyncio.Future[None]] = set()

    async def read(self, environment_id: int, identifier: str) -> IdentityEvaluationState | None:
        from psycopg import InterfaceError, OperationalError
        from psycopg_pool import PoolTimeout

        loop = asyncio.get_running_loop()
        if loop.time() < self._failed_until:
            raise DatabaseUnavailableError("the last identity read failed a moment ago")
        try:
            async with asyncio.timeout(READ_TIMEOUT_SECONDS):
                pool = self._pool or await self._open()
                async with pool.connection() as connection:
                    cursor = await connection.execute(
                        self._sql, identity_state_parameters(environment_id, identifier)
                    )
                    rows = await cursor.fetchall()
        except (OperationalError, InterfaceError, PoolTimeout, TimeoutError, OSError) as error:
            self._failed_until = loop.time() + RETRY_AFTER_SECONDS
            database_failed()
            await self._discard_pool()
            raise DatabaseUnavailableError(f"{type(error).__name__}: {error}") from error
        return identity_state_from_rows(rows)

    async def _discard_pool(self) -> None:
        """Close the pool in the background: its connections may be dead, and psycopg's own
        reconnection backs off for seconds; a new pool connects as soon as the database is up."""
        pool, self._pool = self._pool, None
        if pool is not None:
            task = asyncio.ensure_future(pool.close(timeout=1))
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)

    async def _open(self) -> Any:
        from psycopg import AsyncConnection
        from psycopg_pool import AsyncConnectionPool

        if self._opening is None:
            self._opening = asyncio.Lock()
        async with self._opening:
            if self._pool is None:
                parameters = connections[self._alias].get_connection_params()
                parameters.pop("cursor_factory", None)  # Django's is a sync cursor
                parameters["autocommit"] = True  # no transaction to end after each read
                parameters.setdefault("connect_timeout", 2)
                if self._prepare:
                    # Planning the statement cost 3/4 of its round trip here (450 -> 115 us).
                    parameters["prepare_threshold"] = 0
                if self._failed_until:
                    # After a failure, one plain connection first: a database that is still
                    # down refuses it at once, where the pool would retry until its timeout.
                    probe = await AsyncConnection.connect(**parameters)
                    await probe.close()
                pool = AsyncConnectionPool(
                    kwargs=parameters,
                    connection_class=AsyncConnection,
                    min_size=1,
                    max_size=POSTGRES_POOL_SIZE,
                    open=False,
                    name="vexil-sdk-reads",
                )
                try:
                    await pool.open(wait=True, timeout=READ_TIMEOUT_SECONDS)
                except BaseException:
                    await pool.close(timeout=0)
                    raise
                self._pool = pool
        return self._pool

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)
