"""Hostile input on every SDK endpoint: never a 500, always the house error shape for a 4xx, and
the same answer on SQLite and PostgreSQL (issue 10, item 6)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.sdk.conftest import SDKClient
from vexil.environments.models import Environment
from vexil.features.models import Feature
from vexil.identities.models import Identity, Trait

NUL = "a\x00b"
HUGE = 2**63 - 1
DUPLICATE_TRAITS = [
    {"trait_key": "plan", "trait_value": "pro"},
    {"trait_key": "plan", "trait_value": 3},
]

# (method, path, query, body): every SDK endpoint with the kinds of input that once broke one
CORPUS: list[tuple[str, str, str, Any]] = [
    ("GET", "/api/v1/flags/", "feature=" + "%00", None),
    ("GET", "/api/v1/flags/", "feature=%FF%FE", None),
    ("GET", "/api/v1/identities/", "identifier=a%00b", None),
    ("GET", "/api/v1/identities/", "identifier=%FF&feature=%00", None),
    ("GET", "/api/v1/identities/", "identifier=" + "x" * 2001, None),
    ("POST", "/api/v1/identities/", "", {"identifier": NUL}),
    ("POST", "/api/v1/identities/", "", {"identifier": "bob", "traits": DUPLICATE_TRAITS}),
    (
        "POST",
        "/api/v1/identities/",
        "",
        {"identifier": "bob", "traits": [{"trait_key": NUL, "trait_value": 1}]},
    ),
    (
        "POST",
        "/api/v1/identities/",
        "",
        {"identifier": "bob", "traits": [{"trait_key": "k", "trait_value": NUL}]},
    ),
    (
        "POST",
        "/api/v1/identities/",
        "",
        {"identifier": "bob", "traits": [{"trait_key": "k", "trait_value": HUGE}]},
    ),
    ("POST", "/api/v1/identities/", "", {"identifier": ["bob"]}),
    ("POST", "/api/v1/identities/", "", {"identifier": "bob", "traits": {"a": 1}}),
    ("POST", "/api/v1/identities/", "", {"identifier": "bob", "traits": [1, None, "x"]}),
    ("POST", "/api/v1/identities/", "", [1, 2]),
    ("POST", "/api/v1/identities/", "", "a string"),
    ("POST", "/api/v1/environment-document/", "", None),
    ("GET", "/api/v1/environment-document/", "", None),
    ("POST", "/api/v1/analytics/flags/", "", {"checkout_button": HUGE}),
    ("POST", "/api/v1/analytics/flags/", "", {NUL: 1}),
    ("POST", "/api/v1/analytics/flags/", "", [1]),
    (
        "POST",
        "/api/v1/traits/",
        "",
        {"identity": {"identifier": NUL}, "trait_key": "k", "trait_value": 1},
    ),
    (
        "POST",
        "/api/v1/traits/",
        "",
        {"identity": {"identifier": "bob"}, "trait_key": NUL, "trait_value": 1},
    ),
    (
        "POST",
        "/api/v1/traits/",
        "",
        {"identity": {"identifier": "bob"}, "trait_key": "k", "trait_value": NUL},
    ),
    ("POST", "/api/v1/traits/", "", {"identity": "bob"}),
    ("POST", "/api/v1/traits/", "", [1]),
    ("PUT", "/api/v1/traits/bulk/", "", {"not": "a list"}),
    ("PUT", "/api/v1/traits/bulk/", "", [None, 1, "x"]),
    (
        "PUT",
        "/api/v1/traits/bulk/",
        "",
        [{"identity": {"identifier": NUL}, "trait_key": "k", "trait_value": 1}],
    ),
    (
        "POST",
        "/api/v1/traits/increment-value/",
        "",
        {"trait_key": "n", "identifier": NUL, "increment_by": 1},
    ),
    (
        "POST",
        "/api/v1/traits/increment-value/",
        "",
        {"trait_key": NUL, "identifier": "bob", "increment_by": 1},
    ),
    (
        "POST",
        "/api/v1/traits/increment-value/",
        "",
        {"trait_key": "n", "identifier": "bob", "increment_by": HUGE},
    ),
    ("POST", "/api/v1/traits/increment-value/", "", [1]),
]


def _send(sdk: SDKClient, key: str, method: str, path: str, query: str, body: Any) -> Any:
    return sdk.request(method, path, key=key, json=body, query=query)


@pytest.mark.parametrize(("method", "path", "query", "body"), CORPUS)
def test_sdk_endpoints__hostile_input__4xx_or_2xx_never_500(
    sdk: SDKClient,
    environment: Environment,
    feature: Feature,
    server_key: str,
    method: str,
    path: str,
    query: str,
    body: Any,
) -> None:
    for key in (environment.api_key, server_key):
        # When
        reply = _send(sdk, key, method, path, query, body)
        # Then
        assert reply.status < 500, (key[:4], reply.status, reply.body)
        if reply.status >= 400:
            error = reply.json()
            assert isinstance(error["detail"], str)
            assert isinstance(error["code"], str)


@pytest.mark.parametrize(
    "body",
    [
        {"identifier": NUL},
        {"identifier": "bob", "traits": [{"trait_key": NUL, "trait_value": 1}]},
        {"identifier": "bob", "traits": [{"trait_key": "k", "trait_value": NUL}]},
    ],
)
def test_identities__nul_byte__400_nothing_stored(
    sdk: SDKClient, environment: Environment, body: dict[str, Any]
) -> None:
    # When
    reply = sdk.post("/api/v1/identities/", key=environment.api_key, json=body)
    # Then
    assert reply.status == 400
    assert reply.json()["code"] == "invalid"
    assert not Identity.objects.exists()


def test_identities__get_nul_byte_identifier__400(sdk: SDKClient, environment: Environment) -> None:
    reply = sdk.get("/api/v1/identities/", key=environment.api_key, query="identifier=a%00b")
    assert (reply.status, reply.json()["identifier"]) == (
        400,
        ["Null characters are not allowed."],
    )


def test_identities__duplicate_trait_keys__400_nothing_stored(
    sdk: SDKClient, environment: Environment
) -> None:
    # When
    reply = sdk.post(
        "/api/v1/identities/",
        key=environment.api_key,
        json={"identifier": "bob", "traits": DUPLICATE_TRAITS},
    )
    # Then
    assert reply.status == 400
    assert reply.json()["traits"] == ["Trait keys must be unique; repeated: plan."]
    assert not Identity.objects.exists()


def test_traits__increment_past_integer_range__400_unchanged(
    sdk: SDKClient, environment: Environment
) -> None:
    # Given
    body = {"trait_key": "n", "identifier": "bob", "increment_by": 2**31 - 1}
    assert sdk.post("/api/v1/traits/increment-value/", key=environment.api_key, json=body).status
    # When
    reply = sdk.post("/api/v1/traits/increment-value/", key=environment.api_key, json=body)
    # Then
    assert reply.status == 400
    assert reply.json()["increment_by"] == [
        "The result must fit in a 32-bit integer (-2147483648 to 2147483647)."
    ]
    assert Trait.objects.get().trait_value == 2**31 - 1
