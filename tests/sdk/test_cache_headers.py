"""``Cache-Control`` and ``Vary`` on every SDK response (issue 10, item 12)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.sdk.conftest import SDKClient
from vexil.environments.models import Environment
from vexil.features.models import Feature

NO_STORE = "max-age=0, no-cache, no-store, must-revalidate, private"
VARY = "X-Environment-Key, Origin"
IDENTITY = {"identifier": "bob", "traits": [{"trait_key": "plan", "trait_value": "pro"}]}
TRAIT = {"identity": {"identifier": "bob"}, "trait_key": "plan", "trait_value": "pro"}
INCREMENT = {"trait_key": "n", "identifier": "bob", "increment_by": 1}

# (method, path, query, body, status) of a success on every SDK endpoint
ENDPOINTS: list[tuple[str, str, str, Any, int]] = [
    ("GET", "/api/v1/flags/", "", None, 200),
    ("GET", "/api/v1/flags/", "feature=checkout_button", None, 200),
    ("GET", "/api/v1/identities/", "identifier=bob", None, 200),
    ("POST", "/api/v1/identities/", "", IDENTITY, 200),
    ("POST", "/api/v1/analytics/flags/", "", {"checkout_button": 1}, 200),
    ("POST", "/api/v1/traits/", "", TRAIT, 200),
    ("PUT", "/api/v1/traits/bulk/", "", [TRAIT], 200),
    ("POST", "/api/v1/traits/increment-value/", "", INCREMENT, 200),
    ("GET", "/api/v1/flags/", "feature=nope", None, 404),
    ("POST", "/api/v1/identities/", "", {"identifier": ["x"]}, 400),
    ("DELETE", "/api/v1/flags/", "", None, 405),
    ("OPTIONS", "/api/v1/identities/", "", None, 200),
]


@pytest.mark.parametrize("gzip", [False, True])
@pytest.mark.parametrize(("method", "path", "query", "body", "status"), ENDPOINTS)
def test_sdk_responses__every_endpoint__not_stored_and_vary_on_key_and_origin(
    sdk: SDKClient,
    environment: Environment,
    feature: Feature,
    server_key: str,
    method: str,
    path: str,
    query: str,
    body: Any,
    status: int,
    gzip: bool,
) -> None:
    # Given
    sdk.app.gzip = gzip
    headers = {"Origin": "http://localhost:3000", "Accept-Encoding": "gzip"}
    # When
    reply = sdk.request(method, path, key=server_key, json=body, query=query, headers=headers)
    # Then
    assert reply.status == status, reply.body
    assert reply.headers["cache-control"] == NO_STORE
    assert reply.headers["vary"] in (VARY, VARY + ", Accept-Encoding")


def test_sdk_responses__unknown_key__not_stored(sdk: SDKClient, environment: Environment) -> None:
    reply = sdk.get("/api/v1/flags/", key="not-a-key")
    assert reply.status == 403
    assert (reply.headers["cache-control"], reply.headers["vary"]) == (NO_STORE, VARY)


@pytest.mark.parametrize("conditional", [False, True])
def test_environment_document__revalidated_with_its_etag(
    sdk: SDKClient, environment: Environment, server_key: str, conditional: bool
) -> None:
    # Given
    etag = sdk.get("/api/v1/environment-document/", key=server_key).headers["etag"]
    headers = {"If-None-Match": etag} if conditional else {}
    # When
    reply = sdk.get("/api/v1/environment-document/", key=server_key, headers=headers)
    # Then
    assert reply.status == (304 if conditional else 200)
    assert (reply.headers["cache-control"], reply.headers["vary"]) == ("no-cache", VARY)
    assert reply.headers["etag"] == etag
