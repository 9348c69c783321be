"""The bare applications `bench/servers.py` measures servers with.

``/`` answers fixed bytes, the floor under any Vexil endpoint. ``/stream`` is a server-sent-event
stream that sends one event and then stays open, as an SDK's real-time connection would: the
asynchronous one holds it in a task, the WSGI one holds a thread for as long as it lasts.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from typing import Any

BODY = b'{"status": "ok"}'
FIRST_EVENT = b"data: hello\n\n"
KEEP_ALIVE = b": keep-alive\n\n"
KEEP_ALIVE_SECONDS = 5

_JSON = [(b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode())]
_EVENTS = [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache")]


async def bare_asgi(
    scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]
) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            await send({"type": message["type"] + ".complete"})
            if message["type"] == "lifespan.shutdown":
                return
    if scope["path"] == "/stream":
        await send({"type": "http.response.start", "status": 200, "headers": _EVENTS})
        await send({"type": "http.response.body", "body": FIRST_EVENT, "more_body": True})
        while True:
            await asyncio.sleep(KEEP_ALIVE_SECONDS)
            await send({"type": "http.response.body", "body": KEEP_ALIVE, "more_body": True})
    await send({"type": "http.response.start", "status": 200, "headers": _JSON})
    await send({"type": "http.response.body", "body": BODY})


def bare_wsgi(
    environ: dict[str, Any], start_response: Callable[..., Any]
) -> Iterator[bytes] | list[bytes]:
    if environ["PATH_INFO"] == "/stream":
        start_response("200 OK", [(k.decode(), v.decode()) for k, v in _EVENTS])
        return _events()
    start_response("200 OK", [(k.decode(), v.decode()) for k, v in _JSON])
    return [BODY]


def _events() -> Iterator[bytes]:
    yield FIRST_EVENT
    while True:
        time.sleep(KEEP_ALIVE_SECONDS)
        yield KEEP_ALIVE


def _fixed_responses() -> dict[str, tuple[int, list[tuple[bytes, bytes]], bytes]]:
    """``bench/sdk.py``'s fixed answers: {name: {status, headers, body}} in a JSON file."""
    import json
    import os

    path = os.environ.get("BENCH_FIXED_RESPONSES")
    if not path:
        return {}
    with open(path) as source:
        loaded = json.load(source)
    fixed = {}
    for name, answer in loaded.items():
        body = answer["body"].encode()
        headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in answer["headers"]]
        headers.append((b"content-length", str(len(body)).encode()))
        fixed[name] = (answer["status"], headers, body)
    return fixed


_FIXED = _fixed_responses()
_HEALTH = (200, _JSON, BODY)


async def fixed_asgi(
    scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]
) -> None:
    """The floor under each SDK endpoint: ``/<endpoint name>/...`` answers that endpoint's real
    response bytes (status, headers, body) as fetched once from ``vexil serve``. The request body,
    if any, is read, as any server must."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            await send({"type": message["type"] + ".complete"})
            if message["type"] == "lifespan.shutdown":
                return
    if scope["method"] in ("POST", "PUT"):
        more = True
        while more:
            message = await receive()
            more = message.get("more_body", False)
    name = scope["path"].split("/", 2)[1]
    status, headers, body = _FIXED.get(name, _HEALTH)
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
