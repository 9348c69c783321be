"""CORS as a browser sees it, over real HTTP (the header list with its repetitions)."""

from __future__ import annotations

import http.client
from urllib.parse import urlsplit

from tests.sdk_clients.conftest import LiveServer, World

ORIGIN = "https://shop.example"


def _headers(server: LiveServer, method: str, path: str, headers: dict[str, str]) -> list:
    address = urlsplit(server.url)
    connection = http.client.HTTPConnection(address.hostname or "", address.port, timeout=10)
    try:
        connection.request(method, path, headers=headers)
        response = connection.getresponse()
        response.read()
        assert response.status == 200
        return [(name.lower(), value) for name, value in response.getheaders()]
    finally:
        connection.close()


def _values(headers: list, name: str) -> list[str]:
    return [value for header, value in headers if header == name]


def test_preflight__browser_sdk_request__one_allow_origin_header(server: LiveServer) -> None:
    # Regression: the preflight carried Access-Control-Allow-Origin twice ("*, *" to a
    # browser), which browsers reject, so the JS SDK could not call Vexil from another origin.
    headers = _headers(
        server,
        "OPTIONS",
        "/api/v1/identities/",
        {
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type, x-environment-key",
        },
    )
    assert _values(headers, "access-control-allow-origin") == ["*"]
    assert _values(headers, "access-control-allow-methods") == ["GET, POST, OPTIONS"]


def test_cors__flags_from_another_origin__one_allow_origin_header(
    server: LiveServer, world: World
) -> None:
    headers = _headers(
        server, "GET", "/api/v1/flags/", {"Origin": ORIGIN, "X-Environment-Key": world.client_key}
    )
    assert _values(headers, "access-control-allow-origin") == ["*"]


def _exposed(headers: list) -> set[str]:
    return {
        name.strip().lower()
        for value in _values(headers, "access-control-expose-headers")
        for name in value.split(",")
    }


def test_cors__sdk_endpoints__document_updated_at_exposed(server: LiveServer, world: World) -> None:
    # The browser SDK reads X-Flagsmith-Document-Updated-At to skip refetches a stream event does
    # not need; another origin can read a response header only if it is exposed.
    answers = {
        "flags": _headers(
            server,
            "GET",
            "/api/v1/flags/",
            {"Origin": ORIGIN, "X-Environment-Key": world.client_key},
        ),
        "identities": _headers(
            server,
            "GET",
            "/api/v1/identities/?identifier=cors-alice",
            {"Origin": ORIGIN, "X-Environment-Key": world.client_key},
        ),
        "environment-document": _headers(
            server,
            "GET",
            "/api/v1/environment-document/",
            {"Origin": ORIGIN, "X-Environment-Key": world.server_key},
        ),
    }
    for endpoint, headers in answers.items():
        assert _values(headers, "x-flagsmith-document-updated-at"), endpoint
        assert "x-flagsmith-document-updated-at" in _exposed(headers), endpoint
