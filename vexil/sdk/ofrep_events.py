"""OFREP's change channel (ADR-0008): ``GET /ofrep/v1/events/{client key}``, server-sent events
that tell a static-context provider (``@openfeature/ofrep-web-provider``) to fetch its flags
again. The bulk answer advertises it in ``eventStreams`` (vexil.sdk.ofrep)::

    event: message
    data: {"type": "refetchEvaluation", "lastModified": 1771622898}

Written by the same change hub as Flagsmith's stream (vexil.sdk.changes): one event per change
of the environment (rendered once for all the channel's streams), no event on connect (a
provider refetches unconditionally after every (re)connect) but a ``: keep-alive`` comment, and
one every ``heartbeat`` seconds. The key in the path is
the environment's client-side key (public, as in Flagsmith's stream): an EventSource cannot send
headers, and a server key never goes in a URL.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import math

import orjson

from vexil.sdk import cors
from vexil.sdk.changes import KEEP_ALIVE, HubClosedError, StreamLimitError, Subscription
from vexil.sdk.context import SDKContext
from vexil.sdk.http import Receive, Request, Response, Scope, Send, error_response, send_response

logger = logging.getLogger(__name__)

PREFIX = "/ofrep/v1/events/"
INACTIVITY_DELAY_SECONDS = 120  # what providers wait, tab hidden, before closing the stream
RETRY_AFTER = "1"
HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache, no-store"),
    (b"x-accel-buffering", b"no"),
]
_ids = itertools.count(1)


def events_key(path: str) -> str | None:
    """The client key of an events path, or None if ``path`` is not one."""
    if not path.startswith(PREFIX):
        return None
    key = path[len(PREFIX) :]
    return key if key and "/" not in key else None


def event_streams(client_key: str) -> list[dict[str, object]]:
    """The bulk answer's ``eventStreams``: this server's channel, relative to the provider's
    base URL (its origin), so it works behind any load balancer or proxy name."""
    return [
        {
            "type": "sse",
            "endpoint": {"requestUri": PREFIX + client_key},
            "inactivityDelaySec": INACTIVITY_DELAY_SECONDS,
        }
    ]


def event(updated_at: float) -> bytes:
    """One change's message (the hub renders it once for all the channel's open streams)."""
    data = orjson.dumps({"type": "refetchEvaluation", "lastModified": math.floor(updated_at)})
    return b"id: %d\nevent: message\ndata: %s\n\n" % (next(_ids), data)


async def serve(
    context: SDKContext, key: str, scope: Scope, receive: Receive, send: Send, *, heartbeat: float
) -> None:
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
        refused, subscription = await _open(context, key, heartbeat)
    if subscription is None:
        assert refused is not None
        await send_response(send, refused, extra)
        return
    with subscription:
        await _stream(subscription, receive, send, extra)


async def _open(
    context: SDKContext, key: str, heartbeat: float
) -> tuple[Response | None, Subscription | None]:
    try:
        found = await context.resolve(key)
    except Exception:
        logger.warning("OFREP events: resolving the key failed", exc_info=True)
        return _unavailable("The server cannot check this key now; retry shortly."), None
    if found is None or found.is_server:
        return error_response(404, "Environment not found.", "not_found"), None
    try:
        return None, context.changes.subscribe(found.environment.id, idle=heartbeat)
    except StreamLimitError:
        return _unavailable("This server holds its maximum of open streams; retry shortly."), None
    except HubClosedError:
        return _unavailable("This server is shutting down; reconnect."), None
    except LookupError:
        return error_response(404, "Environment not found.", "not_found"), None


def _unavailable(detail: str) -> Response:
    return error_response(503, detail, "service_unavailable").header("retry-after", RETRY_AFTER)


async def _stream(
    subscription: Subscription, receive: Receive, send: Send, extra: list[tuple[bytes, bytes]]
) -> None:
    start = {"type": "http.response.start", "status": 200, "headers": [*HEADERS, *extra]}
    watcher = asyncio.ensure_future(_close_on_disconnect(subscription, receive))
    try:
        await send(start)
        # Nothing to refetch on connect (the provider has just fetched): a comment, so the
        # response's head and first chunk reach the client at once.
        await subscription.run(send, event, first=KEEP_ALIVE)
    except Exception as error:
        logger.debug("OFREP events ended by the connection: %s", error)
    finally:
        watcher.cancel()


async def _close_on_disconnect(subscription: Subscription, receive: Receive) -> None:
    with contextlib.suppress(Exception):
        while (await receive())["type"] != "http.disconnect":
            pass
    subscription.close()
