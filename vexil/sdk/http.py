"""Just enough HTTP on raw ASGI for the SDK endpoints: parse a request, send a response.

The SDK paths bypass Django's request cycle (it costs about two thirds of what a bare Python
server can do here, docs/performance.md), so this module is their whole web framework.
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import orjson

Scope = Mapping[str, Any]
Message = Mapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

MAX_BODY_BYTES = 1024 * 1024


class BodyTooLargeError(Exception):
    pass


@dataclass(slots=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]
    query_string: bytes
    body: bytes = b""
    # Set when the client disconnects, on routes that watch for it (vexil.sdk.app, _WATCHED)
    gone: threading.Event | None = None
    _query: dict[str, list[str]] | None = field(default=None, repr=False)

    @classmethod
    def from_scope(cls, scope: Scope) -> Request:
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        return cls(scope["method"], scope["path"], headers, scope.get("query_string", b""))

    def header(self, name: str) -> str:
        return self.headers.get(name, "")

    def query(self, name: str) -> str | None:
        if self._query is None:
            self._query = parse_qs(self.query_string.decode("latin-1"), keep_blank_values=True)
        values = self._query.get(name)
        return values[0] if values else None

    def json(self) -> Any:
        return orjson.loads(self.body) if self.body else None


async def read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise BodyTooLargeError
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def watch_disconnect(receive: Receive, gone: threading.Event) -> None:
    """Set ``gone`` when the client disconnects (after its body has been read).

    granian answers the first ``receive()`` after the body with an empty ``http.request`` and
    the next one when the client disconnects; a worker thread polls ``gone.is_set``."""
    while (await receive())["type"] != "http.disconnect":
        pass
    gone.set()


@dataclass(slots=True)
class Response:
    status: int
    body: bytes = b""
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    content_type: bytes | None = b"application/json"
    # The body gzipped, memoised elsewhere (a snapshot's shared bodies; vexil.sdk.compression)
    gzipped: Callable[[], bytes] | None = None
    content_encoding: str | None = None

    def header(self, name: str, value: str) -> Response:
        self.headers.append((name.encode("latin-1"), value.encode("latin-1")))
        return self


def json_response(status: int, data: Any) -> Response:
    return Response(status, orjson.dumps(data))


def error_response(status: int, detail: str, code: str) -> Response:
    """The house error shape ({"detail", "code"}); the SDKs read ``detail``."""
    return Response(status, orjson.dumps({"detail": detail, "code": code}))


async def send_response(send: Send, response: Response, extra: list[tuple[bytes, bytes]]) -> None:
    headers = [*response.headers, *extra]
    if response.content_type is not None and response.body:
        headers.append((b"content-type", response.content_type))
    if response.content_encoding is not None:
        headers.append((b"content-encoding", response.content_encoding.encode()))
    headers.append((b"content-length", str(len(response.body)).encode()))
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    await send({"type": "http.response.body", "body": response.body})
