"""The SDK endpoints as a lean ASGI application in front of Django.

``/api/v1/flags/``, ``identities/``, ``environment-document/``, ``analytics/flags/`` and the
legacy ``traits/`` endpoints (with or without the trailing slash), and OFREP's
``/ofrep/v1/evaluate/flags[/{key}]`` (``vexil.sdk.ofrep``, and its change channel
``vexil.sdk.ofrep_events``) are answered here from the
in-memory snapshot of the environment; every other path goes to Django. Work that needs the
database (writes of identities and traits, a snapshot rebuild) runs on a thread pool; the one
read of every identify call runs on the loop without blocking it (``vexil.sdk.reads``).
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from collections.abc import Awaitable, Callable

from vexil.environments.services import off_environment_revision, on_environment_revision
from vexil.evaluation import freshness
from vexil.evaluation.keys import DatabaseKeyLoader
from vexil.sdk import analytics, compression, cors, endpoints, ofrep, ofrep_events, stream
from vexil.sdk.caching import cache_headers
from vexil.sdk.changes import DEFAULT_MAX_SUBSCRIBERS, RedisRelay
from vexil.sdk.context import SDKContext
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
    watch_disconnect,
)
from vexil.sdk.reads import is_unavailable
from vexil.sdk.registry import Registry
from vexil.sdk.results import IdentityResults
from vexil.sdk.snapshot import EnvironmentSnapshot, build_snapshot

logger = logging.getLogger(__name__)

ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
Handler = Callable[[SDKContext, Request], Awaitable[Response]]

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
RETRY_AFTER = "1"  # seconds, on a 503 while the database is unavailable
# Routes whose work stops when the client disconnects (the largest write an SDK key can ask for;
# docs/reliability.md, "Limits and hostile input")
_WATCHED = frozenset({"traits/bulk"})
_PATHS = {f"{API}{name}{slash}": name for name in ROUTES for slash in ("/", "")}


class SDKApplication:
    def __init__(
        self,
        fallback: ASGIApp,
        context: SDKContext,
        *,
        gzip: bool = False,
        redis_url: str = "",
        heartbeat_seconds: float = 15.0,
        ofrep_rate_limiter: ofrep.RateLimiter | None = None,
    ) -> None:
        self.fallback = fallback
        self.context = context
        self.gzip = gzip
        self.heartbeat_seconds = heartbeat_seconds
        self.ofrep = ofrep.OFREP(ofrep_rate_limiter)
        self.ofrep_routes: dict[str, tuple[str, Handler]] = {
            "flag": ("POST", self.ofrep.flag),
            "bulk": ("POST", self.ofrep.bulk),
        }
        self._started = False
        self._closing: asyncio.Future[None] | None = None
        # This process sees its own committed changes at once; other processes within the
        # registry's polling interval, or at once through Redis when it is configured.
        self.relay = RedisRelay(redis_url, context.registry.wake) if redis_url else None
        self._on_revision = self._revision_committed
        on_environment_revision(self._on_revision)

    def _revision_committed(self, environment_ids: list[int]) -> None:
        self.context.registry.refresh()
        self.context.registry.wake()  # the poller builds the new snapshots
        if self.relay is not None:
            self.relay.publish(environment_ids)

    async def shutdown(self) -> None:
        """End the open streams (their clients reconnect elsewhere), close the loop's own
        database connections, then everything else (``close``)."""
        await self.context.changes.close()
        await self.context.reader.close()
        await asyncio.get_running_loop().run_in_executor(None, self.close)

    def close(self) -> None:
        """Stop polling, forget the revision listener and flush buffered analytics."""
        off_environment_revision(self._on_revision)
        freshness.unregister(self.context.registry.staleness)
        self.context.registry.stop_polling()
        if self.relay is not None:
            self.relay.stop()
        self.context.shutdown()
        analytics.flush()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            name = _PATHS.get(scope["path"])
            if name is not None:
                await self._serve(name, ROUTES[name], scope, receive, send)
                return
            name = ofrep.route(scope["path"])
            if name is not None:
                await self._serve(f"ofrep {name}", self.ofrep_routes[name], scope, receive, send)
                return
            key = ofrep_events.events_key(scope["path"])
            if key is not None:
                self._start()
                await ofrep_events.serve(
                    self.context, key, scope, receive, send, heartbeat=self.heartbeat_seconds
                )
                return
            key = stream.stream_key(scope["path"])
            if key is not None:
                self._start()
                await stream.serve(
                    self.context, key, scope, receive, send, heartbeat=self.heartbeat_seconds
                )
                return
        elif scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        await self.fallback(scope, receive, send)

    async def _serve(
        self, name: str, route: tuple[str, Handler], scope: Scope, receive: Receive, send: Send
    ) -> None:
        self._start()
        request = Request.from_scope(scope)
        methods, handler = route
        watcher: asyncio.Future[None] | None = None
        try:
            if request.method == "OPTIONS":
                response = cors.preflight(request, f"{methods}, OPTIONS")
            elif request.method not in methods.split(", "):
                response = _error(
                    name, request, 405, f'Method "{request.method}" not allowed.',
                    "method_not_allowed",
                ).header("allow", methods)  # fmt: skip
            else:
                if request.method in ("POST", "PUT"):
                    request.body = await read_body(receive)
                if name in _WATCHED:
                    request.gone = threading.Event()
                    watcher = asyncio.ensure_future(watch_disconnect(receive, request.gone))
                    await asyncio.sleep(0)  # it takes a disconnect already known before any work
                response = await handler(self.context, request)
        except BodyTooLargeError:
            response = _error(name, request, 413, "Request body too large.", "payload_too_large")
        except Exception as error:
            if is_unavailable(error):
                logger.debug("SDK endpoint %s: database unavailable (%s)", name, error)
                response = _error(
                    name, request, 503, "The database is unavailable; retry shortly.",
                    "service_unavailable",
                ).header("retry-after", RETRY_AFTER)  # fmt: skip
            else:
                logger.exception("SDK endpoint %s failed", name)
                response = _error(
                    name, request, 500, "Internal Server Error.", "internal_server_error"
                )
        finally:
            if watcher is not None:
                watcher.cancel()
        if request.gone is not None and request.gone.is_set():
            logger.debug("SDK endpoint %s: the client left; its work was stopped", name)
            return
        if self.gzip:
            response = compression.compress(response, request)
        response = cache_headers(response)
        await send_response(send, response, cors.response_headers(request))

    def _start(self) -> None:
        if not self._started:
            self._started = True
            freshness.register(self.context.registry.staleness)
            self.context.registry.start_polling()
            if self.relay is not None:
                self.relay.start()

    def _end_streams(self) -> None:
        self._closing = asyncio.ensure_future(self.context.changes.close())

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self._start()
                _before_stop_signal(asyncio.get_running_loop(), self._end_streams)
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return


def _error(name: str, request: Request, status: int, detail: str, code: str) -> Response:
    """An error of the app itself (not of an endpoint): OFREP's shape on OFREP's routes, so
    its providers read the reason, the house shape everywhere else."""
    if name.startswith("ofrep "):
        return ofrep.general_failure(request, status, detail, code)
    return error_response(status, detail, code)


def _before_stop_signal(loop: asyncio.AbstractEventLoop, callback: Callable[[], None]) -> None:
    """Run ``callback`` when SIGTERM or SIGINT reaches this worker, before the server's own handler.

    granian drains a worker's open connections before it sends the ASGI lifespan shutdown, so an
    open stream would hold the worker until it is killed (``workers_kill_timeout``) and its clients
    would see a reset. Ending the streams at the signal lets them finish cleanly and the clients
    reconnect to another process. granian installs its handlers on the loop before the lifespan
    startup; asyncio keeps them in ``_signal_handlers``, the only place to chain onto them. Where
    there is no such handler (another server, the tests' own loop), nothing is installed.
    """
    handlers = getattr(loop, "_signal_handlers", None)
    if not isinstance(handlers, dict):
        return
    for signum in (signal.SIGTERM, signal.SIGINT):
        previous = handlers.get(signum)
        if previous is None:
            continue

        def chained(previous: asyncio.Handle = previous) -> None:
            callback()
            previous._callback(*previous._args)  # type: ignore[attr-defined]

        loop.add_signal_handler(signum, chained)


def create_application(
    fallback: ASGIApp,
    *,
    interval: float,
    threads: int,
    identity_cache_bytes: int = 0,
    prepared_statements: bool = True,
    gzip: bool = False,
    max_streams: int = DEFAULT_MAX_SUBSCRIBERS,
    heartbeat_seconds: float = 15.0,
    redis_url: str = "",
    ofrep_rate: str = "",
) -> SDKApplication:
    registry: Registry[EnvironmentSnapshot] = Registry(
        DatabaseKeyLoader(), build_snapshot, interval=interval
    )
    context = SDKContext(
        registry,
        threads,
        IdentityResults(identity_cache_bytes),
        prepared_statements=prepared_statements,
        max_streams=max_streams,
    )
    return SDKApplication(
        fallback,
        context,
        gzip=gzip,
        redis_url=redis_url,
        heartbeat_seconds=heartbeat_seconds,
        ofrep_rate_limiter=ofrep.RateLimiter.parse(ofrep_rate),
    )
