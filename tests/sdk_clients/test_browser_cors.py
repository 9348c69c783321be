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
