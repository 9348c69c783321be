"""Real-time streams against a live ``vexil serve`` (the sdk_clients package's server helpers),
read by a small SSE client over plain HTTP/1.1, by the real Python SDK and by the JS SDK in
Chromium.

The servers run with a short heartbeat (VEXIL_STREAMS_HEARTBEAT_SECONDS) so the tests can see
keep-alives without waiting long; every wait has a deadline.
"""

from __future__ import annotations

import http.client
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import orjson
import pytest

from tests.processes import wait_for
from tests.sdk_clients.conftest import (
    LiveServer,
    World,
    _build_world,
    serving,
    wait_until_served,
)
from vexil.environments.models import Environment

HEARTBEAT_SECONDS = "0.3"
DELIVERY_SECONDS = 1.0  # the promise: a change reaches every stream within a second


@dataclass(frozen=True)
class Event:
    """One server-sent event, or a comment block (``comment`` set, the rest empty)."""

    event: str = ""
    data: str = ""
    retry: str = ""
    comment: str = ""

    def json(self) -> Any:
        return orjson.loads(self.data)


def _parse(block: bytes) -> Event:
    fields: dict[str, str] = {}
    comments = []
    for line in block.decode().split("\n"):
        if line.startswith(":"):
            comments.append(line[1:].strip())
            continue
        name, _, value = line.partition(":")
        fields[name] = value.removeprefix(" ")
    return Event(comment="\n".join(comments), **fields)


class EventStream:
    """``GET`` of a stream, read event by event with deadlines."""

    def __init__(self, url: str, *, headers: dict[str, str] | None = None) -> None:
        address = urlsplit(url)
        self.connection = http.client.HTTPConnection(
            address.hostname or "", address.port, timeout=10
        )
        self.connection.request(
            "GET", address.path, headers={"Accept": "text/event-stream", **(headers or {})}
        )
        self.response = self.connection.getresponse()
        self.status = self.response.status
        self.headers = {name.lower(): value for name, value in self.response.getheaders()}
        self._buffer = b""
        self.ended = False

    def body(self) -> Any:
        return orjson.loads(self.response.read())

    def next(self, timeout: float = 5.0) -> Event | None:
        """The next event or comment; None once the server ended the stream."""
        deadline = time.monotonic() + timeout
        while b"\n\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no event within {timeout}s")
            sock = self.connection.sock
            assert sock is not None
            sock.settimeout(remaining)
            try:
                chunk = self.response.read1(4096)
            except TimeoutError:
                raise AssertionError(f"no event within {timeout}s") from None
            if not chunk:
                self.ended = True
                return None
            self._buffer += chunk
        block, self._buffer = self._buffer.split(b"\n\n", 1)
        return _parse(block)

    def next_event(self, timeout: float = 5.0) -> Event | None:
        """The next event that is not a keep-alive comment; None once the stream ended."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.next(max(deadline - time.monotonic(), 0.001))
            if found is None or not found.comment:
                return found

    def close(self) -> None:
        self.connection.close()


def stream_url(server: LiveServer, key: str) -> str:
    return f"{server.url}/sse/environments/{key}/stream"


@pytest.fixture
def open_stream(server: LiveServer) -> Iterator[Any]:
    """Open streams on the live server; all closed after the test."""
    streams: list[EventStream] = []

    def open_(key: str, **options: Any) -> EventStream:
        stream = EventStream(stream_url(server, key), **options)
        streams.append(stream)
        return stream

    yield open_
    for stream in streams:
        stream.close()


@pytest.fixture(scope="package")
def server(django_db_setup: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with serving(
        tmp_path_factory.mktemp("realtime"), VEXIL_STREAMS_HEARTBEAT_SECONDS=HEARTBEAT_SECONDS
    ) as live:
        yield live


@pytest.fixture
def world(transactional_db: None, server: LiveServer) -> World:
    world = _build_world()
    wait_until_served(server, world.client_key, world.server_key)
    wait_until_current(server, world)
    return world


def wait_until_current(server: LiveServer, world: World) -> None:
    """Wait until the server's index holds the environment's last change (it reloads every
    VEXIL_SDK_REFRESH_SECONDS; the world was built by another process a moment ago)."""
    stored = Environment.objects.get(pk=world.environment.pk).updated_at.timestamp()

    def current() -> bool | None:
        stream = EventStream(stream_url(server, world.client_key))
        try:
            first = stream.next_event()
        finally:
            stream.close()
        return (first is not None and first.json()["updated_at"] == stored) or None

    wait_for(current, timeout=5, what="the server to hold the environment's last change")


def set_banner(world: World, server: LiveServer, value: str) -> None:
    """Change a flag's value through the management API (the way a person would)."""
    state = world.state(world.features["banner_text"])
    world.management(
        server,
        "PATCH",
        f"/api/v1/environments/{world.client_key}/featurestates/{state.pk}/",
        {"feature_state_value": value},
    )


def document_updated_at(server: LiveServer, world: World) -> float:
    """The environment document's updated_at as the SDK endpoints announce it."""
    address = urlsplit(server.url)
    connection = http.client.HTTPConnection(address.hostname or "", address.port, timeout=10)
    try:
        connection.request(
            "GET", "/api/v1/environment-document/", headers={"X-Environment-Key": world.server_key}
        )
        response = connection.getresponse()
        response.read()
        return float(response.getheader("X-Flagsmith-Document-Updated-At") or "nan")
    finally:
        connection.close()
