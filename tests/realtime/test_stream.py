"""``GET /sse/environments/<client key>/stream`` over real HTTP against a live ``vexil serve``."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

import pytest

from tests.realtime.conftest import (
    DELIVERY_SECONDS,
    EventStream,
    document_updated_at,
    set_banner,
    stream_url,
)
from tests.sdk_clients.conftest import LiveServer, World
from vexil.environments.models import Environment

OpenStream = Callable[..., EventStream]


def test_stream__connect__current_updated_at_first(
    server: LiveServer, world: World, open_stream: OpenStream
) -> None:
    # When
    stream = open_stream(world.client_key)
    first = stream.next_event()
    # Then
    assert stream.status == 200
    assert stream.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert stream.headers["transfer-encoding"] == "chunked"
    assert stream.headers["cache-control"] == "no-cache, no-store"
    assert stream.headers["x-accel-buffering"] == "no"
    assert first is not None
    assert (first.event, first.retry) == ("environment_updated", "15000")
    assert first.json() == {"updated_at": document_updated_at(server, world)}
    environment = Environment.objects.get(pk=world.environment.pk)
    assert first.json()["updated_at"] == environment.updated_at.timestamp()


def test_stream__change_through_management_api__event_within_a_second(
    server: LiveServer, world: World, open_stream: OpenStream
) -> None:
    # Given
    stream = open_stream(world.client_key)
    before = stream.next_event()
    assert before is not None
    # When
    set_banner(world, server, "Spring sale")
    changed = time.monotonic()
    after = stream.next_event(timeout=DELIVERY_SECONDS)
    # Then
    assert time.monotonic() - changed <= DELIVERY_SECONDS
    assert after is not None
    assert after.event == "environment_updated"
    assert after.json()["updated_at"] > before.json()["updated_at"]
    assert after.json()["updated_at"] == document_updated_at(server, world)


def test_stream__idle__keep_alive_comments(world: World, open_stream: OpenStream) -> None:
    stream = open_stream(world.client_key)
    assert stream.next_event() is not None
    # When nothing changes for longer than the heartbeat (0.3 s on the test server)
    beat = stream.next(timeout=2)
    # Then a comment line, which both SDKs skip
    assert beat is not None
    assert (beat.comment, beat.event, beat.data) == ("keep-alive", "", "")


def test_stream__browser_origin__cors_allowed(world: World, open_stream: OpenStream) -> None:
    stream = open_stream(world.client_key, headers={"Origin": "https://shop.example"})
    assert stream.status == 200
    assert stream.headers["access-control-allow-origin"] == "*"


@pytest.mark.parametrize("key", ["nope-not-a-key", "ser.not-a-real-server-key-at-all"])
def test_stream__unknown_key__404_house_error(
    world: World, open_stream: OpenStream, key: str
) -> None:
    stream = open_stream(key)
    assert (stream.status, stream.body()) == (
        404,
        {"detail": "Environment not found.", "code": "not_found"},
    )


def test_stream__server_side_key_in_the_path__404(world: World, open_stream: OpenStream) -> None:
    # Server-side keys never travel in URLs; the SDKs put the client key there.
    stream = open_stream(world.server_key)
    assert stream.status == 404


def test_stream__post__405(server: LiveServer, world: World) -> None:
    status, body = server.request("POST", f"/sse/environments/{world.client_key}/stream", body={})
    assert (status, body) == (
        405,
        {"detail": 'Method "POST" not allowed.', "code": "method_not_allowed"},
    )


def test_stream__environment_deleted__stream_ends_cleanly(
    server: LiveServer, world: World, open_stream: OpenStream
) -> None:
    # Given
    stream = open_stream(world.client_key)
    assert stream.next_event() is not None
    # When
    world.management(server, "DELETE", f"/api/v1/environments/{world.client_key}/")
    # Then the server ends the stream (the terminating chunk, not a reset)
    assert stream.next_event(timeout=DELIVERY_SECONDS) is None
    again = EventStream(stream_url(server, world.client_key))
    try:
        assert again.status == 404
    finally:
        again.close()


def test_stream__updated_at__parses_as_the_python_sdk_does(
    world: World, open_stream: OpenStream
) -> None:
    # The Python SDK turns the number into an aware datetime and compares it with the document's
    event = open_stream(world.client_key).next_event()
    assert event is not None
    environment = Environment.objects.get(pk=world.environment.pk)
    parsed = datetime.fromtimestamp(event.json()["updated_at"], tz=environment.updated_at.tzinfo)
    assert parsed == environment.updated_at
