"""The SDK endpoints as a lean ASGI application in front of Django.

``/api/v1/flags/``, ``identities/``, ``environment-document/``, ``analytics/flags/`` and the
legacy ``traits/`` endpoints (with or without the trailing slash) are answered here from the
in-memory snapshot of the environment; every other path goes to Django. Work that needs the
database (writes of identities and traits, a snapshot rebuild) runs on a thread pool; the one
read of every identify call runs on the loop without blocking it (``vexil.sdk.reads``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, TypeVar

from django.db import connection

from vexil.environments.services import off_environment_revision, on_environment_revision
from vexil.evaluation.keys import DatabaseKeyLoader, EnvironmentRow
from vexil.sdk import analytics, compression, cors, endpoints
from vexil.sdk.http import (
    BodyTooLargeError,
    Receive,
    Request,
    Response,
    Scope,
    Send,
    error_response,
    read_body,
    send_response,
)
from vexil.sdk.reads import identity_reader
from vexil.sdk.registry import Registry, ResolvedKey
from vexil.sdk.results import IdentityResults
from vexil.sdk.snapshot import EnvironmentSnapshot, build_snapshot

logger = logging.getLogger(__name__)

ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
Handler = Callable[["SDKContext", Request], Awaitable[Response]]
T = TypeVar("T")

API = "/api/v1/"
ROUTES: dict[str, tuple[str, Handler]] = {
    "flags": ("GET", endpoints.flags),
    "identities": ("GET, POST", endpoints.identities),
    "environment-document": ("GET", endpoints.environment_document),
    "analytics/flags": ("POST", endpoints.analytics),
    "traits": ("POST", endpoints.traits_set),
    "traits/bulk": ("PUT", endpoints.traits_bulk),
    "traits/increment-value": ("POST", endpoints.traits_increment),
}
_PATHS = {f"{API}{name}{slash}": name for name in ROUTES for slash in ("/", "")}


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
    ) -> None:
        self.registry = registry
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
    connection is kept for CONNECTION_MAX_AGE_SECONDS and checked only after an error.
    """
    now = time.monotonic()
    opened = getattr(_connection_state, "opened", None)
    if opened is None or now - opened > CONNECTION_MAX_AGE_SECONDS:
        connection.close()
        _connection_state.opened = now
    try:
        return function(*args)
    finally:
        if connection.errors_occurred:
            if not connection.is_usable():
                connection.close()
            connection.errors_occurred = False


def _close_connection(barrier: threading.Barrier) -> None:
    with contextlib.suppress(threading.BrokenBarrierError):
        barrier.wait(timeout=5)
    connection.close()


class SDKApplication:
    def __init__(self, fallback: ASGIApp, context: SDKContext, *, gzip: bool = False) -> None:
        self.fallback = fallback
        self.context = context
        self.gzip = gzip
        self._started = False
        # This process sees its own committed changes at once; other processes within the
        # registry's polling interval.
        self._on_revision = lambda _ids: context.registry.refresh()
        on_environment_revision(self._on_revision)

    async def shutdown(self) -> None:
        """Close the loop's own database connections, then everything else (``close``)."""
        await self.context.reader.close()
        await asyncio.get_running_loop().run_in_executor(None, self.close)

    def close(self) -> None:
        """Stop polling, forget the revision listener and flush buffered analytics."""
        off_environment_revision(self._on_revision)
        self.context.registry.stop_polling()
        self.context.shutdown()
        analytics.flush()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            name = _PATHS.get(scope["path"])
            if name is not None:
                await self._serve(name, scope, receive, send)
                return
        elif scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        await self.fallback(scope, receive, send)

    async def _serve(self, name: str, scope: Scope, receive: Receive, send: Send) -> None:
        self._start()
        request = Request.from_scope(scope)
        methods, handler = ROUTES[name]
        try:
            if request.method == "OPTIONS":
                response = cors.preflight(request, f"{methods}, OPTIONS")
            elif request.method not in methods.split(", "):
                response = error_response(
                    405, f'Method "{request.method}" not allowed.', "method_not_allowed"
                ).header("allow", methods)
            else:
                if request.method in ("POST", "PUT"):
                    request.body = await read_body(receive)
                response = await handler(self.context, request)
        except BodyTooLargeError:
            response = error_response(413, "Request body too large.", "payload_too_large")
        except Exception:
            logger.exception("SDK endpoint %s failed", name)
            response = error_response(500, "Internal Server Error.", "internal_server_error")
        if self.gzip:
            response = compression.compress(response, request)
        await send_response(send, response, cors.response_headers(request))

    def _start(self) -> None:
        if not self._started:
            self._started = True
            self.context.registry.start_polling()

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self._start()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return


def create_application(
    fallback: ASGIApp,
    *,
    interval: float,
    threads: int,
    identity_cache_bytes: int = 0,
    prepared_statements: bool = True,
    gzip: bool = False,
) -> SDKApplication:
    registry: Registry[EnvironmentSnapshot] = Registry(
        DatabaseKeyLoader(), build_snapshot, interval=interval
    )
    context = SDKContext(
        registry,
        threads,
        IdentityResults(identity_cache_bytes),
        prepared_statements=prepared_statements,
    )
    return SDKApplication(fallback, context, gzip=gzip)
