"""Flagsmith's real-time stream: ``GET /sse/environments/<client key>/stream`` (docs/realtime.md,
protocol notes §6).

The SDKs open it without credentials (the client-side key in the path is the only key) and
refetch flags when an ``environment_updated`` event carries an ``updated_at`` newer than the
document they hold::

    event: environment_updated
    data: {"updated_at": 1712345678.123456}
    retry: 15000

The current value is sent on connect, then each change, with a comment line (``: keep-alive``)
every ``heartbeat`` seconds so proxies keep the connection; the change hub (vexil.sdk.changes)
writes them all, once the stream has started. Each event is its own body chunk (HTTP/1.1 chunked
encoding: the Python SDK reads 128-byte chunks and would otherwise sit on small events). A
stream is a coroutine on the event loop, waiting for its end, plus one waiting for the client
to leave; it ends when the client disconnects, the environment is deleted or the process shuts
down (the clients reconnect, to another process behind a load balancer).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging

import orjson

from vexil.sdk import cors
from vexil.sdk.changes import HubClosedError, Render, StreamLimitError, Subscription
from vexil.sdk.context import SDKContext
from vexil.sdk.http import Receive, Request, Response, Scope, Send, error_response, send_response

logger = logging.getLogger(__name__)

PREFIX = "/sse/environments/"
SUFFIX = "/stream"
EVENT = "environment_updated"
RETRY_MILLISECONDS = 15000  # the reference server's; the SDKs reconnect on their own schedule
RETRY_AFTER = "1"  # seconds, when this process holds its maximum of streams or is stopping
HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache, no-store"),
    (b"x-accel-buffering", b"no"),  # nginx: pass each event on at once
]


def stream_key(path: str) -> str | None:
    """The environment key of a stream path, or None if ``path`` is not one."""
    if not (path.startswith(PREFIX) and path.endswith(SUFFIX)):
        return None
    key = path[len(PREFIX) : -len(SUFFIX)]
    return key if key and "/" not in key else None


@functools.lru_cache(maxsize=256)  # one value goes to every stream of its environment
def event(updated_at: float) -> bytes:
    data = orjson.dumps({"updated_at": updated_at}).decode()
    return f"event: {EVENT}\ndata: {data}\nretry: {RETRY_MILLISECONDS}\n\n".encode()


async def serve(
    context: SDKContext, key: str, scope: Scope, receive: Receive, send: Send, *, heartbeat: float
) -> None:
    """Answer one stream request: a refusal, or the stream until it ends."""
    await serve_events(
        context, key, scope, receive, send, heartbeat=heartbeat, render=event, what="Stream"
    )


async def serve_events(
    context: SDKContext,
    key: str,
    scope: Scope,
    receive: Receive,
    send: Send,
    *,
    heartbeat: float,
    render: Render,
    first: bytes | None = None,
    what: str,
) -> None:
    """A server-sent event stream of an environment's changes, keyed by its client-side key in
    the path, for Flagsmith's stream and OFREP's change channel alike: each renders its own
    events (``render``) and may start with ``first`` instead of the current value. ``what``
    names the stream in the log."""
    request = Request.from_scope(scope)
    extra = cors.response_headers(request)
    refused: Response | None = None
    subscription: Subscription | None = None
    if request.method == "OPTIONS":
        refused = cors.preflight(request, "GET, OPTIONS")
    elif request.method != "GET":
        refused = error_response(
            405, f'Method "{request.method}" not allowed.', "method_not_allowed"
        ).header("allow", "GET")
    else:
        refused, subscription = await _open(context, key, heartbeat, what)
    if subscription is None:
        assert refused is not None
        await send_response(send, refused, extra)
        return
    with subscription:
        await _stream(subscription, receive, send, extra, render, first, what)


async def _open(
    context: SDKContext, key: str, heartbeat: float, what: str
) -> tuple[Response | None, Subscription | None]:
    try:
        found = await context.resolve(key)
    except Exception:
        logger.warning("%s: resolving the key failed", what, exc_info=True)
        return _unavailable("The server cannot check this key now; retry shortly."), None
    if found is None or found.is_server:
        # A server-side key never goes in a URL; Flagsmith's stream takes the client key only.
        return error_response(404, "Environment not found.", "not_found"), None
    try:
        return None, context.changes.subscribe(found.environment.id, idle=heartbeat)
    except StreamLimitError:
        return _unavailable("This server holds its maximum of open streams; retry shortly."), None
    except HubClosedError:
        return _unavailable("This server is shutting down; reconnect."), None
    except LookupError:  # deleted between the look-up and now
        return error_response(404, "Environment not found.", "not_found"), None


def _unavailable(detail: str) -> Response:
    return error_response(503, detail, "service_unavailable").header("retry-after", RETRY_AFTER)


async def _stream(
    subscription: Subscription,
    receive: Receive,
    send: Send,
    extra: list[tuple[bytes, bytes]],
    render: Render,
    first: bytes | None,
    what: str,
) -> None:
    start = {"type": "http.response.start", "status": 200, "headers": [*HEADERS, *extra]}
    watcher = asyncio.ensure_future(_close_on_disconnect(subscription, receive))
    try:
        await send(start)
        await subscription.run(send, render, first=first)  # the hub writes every event from here
    except Exception as error:  # the client went away before the stream began
        logger.debug("%s ended by the connection: %s", what, error)
    finally:
        watcher.cancel()


async def _close_on_disconnect(subscription: Subscription, receive: Receive) -> None:
    with contextlib.suppress(Exception):
        while (await receive())["type"] != "http.disconnect":
            pass
    subscription.close()
