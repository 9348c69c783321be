"""OFREP's change channel (vexil.sdk.ofrep_events) on a live server: advertised by the bulk
answer, one ``refetchEvaluation`` message per change, none on connect."""

from __future__ import annotations

import http.client
import json
import time
from urllib.parse import urlsplit

from tests.ofrep.conftest import BULK, Flags, LiveServer
from vexil.audit.services import Actor
from vexil.features.models import FeatureState
from vexil.features.services import feature_state_update
from vexil.sdk.ofrep_events import event, events_key


def _bulk(server: LiveServer, flags: Flags) -> dict:
    status, body = server.request(
        "POST", BULK, body={"context": {"targetingKey": "ev-alice"}},
        headers={"Authorization": f"Bearer {flags.client_key}"},
    )  # fmt: skip
    assert status == 200
    return body


def _read_block(response: http.client.HTTPResponse, deadline: float) -> str:
    lines: list[str] = []
    while time.monotonic() < deadline:
        line = response.readline().decode()
        if line in ("\n", "\r\n", ""):
            if lines:
                return "".join(lines)
            if line == "":
                break
            continue
        lines.append(line)
    raise AssertionError(f"no complete event before the deadline: {lines}")


def test_bulk__advertises_the_events_channel(server: LiveServer, served_flags: Flags) -> None:
    streams = _bulk(server, served_flags)["eventStreams"]
    assert streams == [
        {
            "type": "sse",
            "endpoint": {"requestUri": f"/ofrep/v1/events/{served_flags.client_key}"},
            "inactivityDelaySec": 120,
        }
    ]


def test_events__flag_changed__refetch_message(
    server: LiveServer, served_flags: Flags, actor: Actor
) -> None:
    # Given: the channel the bulk answer names, open
    uri = _bulk(server, served_flags)["eventStreams"][0]["endpoint"]["requestUri"]
    address = urlsplit(server.url)
    connection = http.client.HTTPConnection(address.hostname or "", address.port, timeout=10)
    connection.request("GET", uri, headers={"Accept": "text/event-stream", "Origin": "http://x"})
    response = connection.getresponse()
    try:
        assert response.status == 200
        assert response.getheader("content-type", "").startswith("text/event-stream")
        assert response.getheader("access-control-allow-origin") == "*"
        # The first block is a keep-alive, not a refetch (the provider has just fetched)
        assert _read_block(response, time.monotonic() + 5).startswith(":")
        # When
        state = FeatureState.objects.get(
            feature=served_flags.features["max_items"], environment=served_flags.environment,
            identity=None, feature_segment=None,
        )  # fmt: skip
        feature_state_update(feature_state=state, actor=actor, value=11)
        # Then: within a second
        started = time.monotonic()
        block = _read_block(response, started + 5)
        while block.startswith(":"):
            block = _read_block(response, started + 5)
        assert time.monotonic() - started < 1.5
        fields = dict(line.split(": ", 1) for line in block.strip().splitlines())
        assert fields["event"] == "message"
        data = json.loads(fields["data"])
        assert data["type"] == "refetchEvaluation"
        assert isinstance(data["lastModified"], int)
    finally:
        connection.close()


def test_events__server_or_unknown_key__404(server: LiveServer, served_flags: Flags) -> None:
    for key in (served_flags.server_key, "nope"):
        status, body = server.request("GET", f"/ofrep/v1/events/{key}")
        assert (status, body["code"]) == (404, "not_found")


def test_event__wire_format() -> None:
    text = event(1771622898.75).decode()
    lines = text.split("\n")
    assert lines[0].startswith("id: ")
    assert lines[1:] == [
        "event: message",
        'data: {"type":"refetchEvaluation","lastModified":1771622898}',
        "",
        "",
    ]
    assert events_key("/ofrep/v1/events/abc") == "abc"
    assert events_key("/ofrep/v1/events/a/b") is None
