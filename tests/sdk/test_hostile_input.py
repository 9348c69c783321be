"""Hostile input on every SDK endpoint: never a 500, always the house error shape for a 4xx, and
the same answer on SQLite and PostgreSQL (issue 10, item 6)."""

from __future__ import annotations

from typing import Any

import orjson
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


# --- OFREP, the real-time streams and hostile headers ----------------------------------------
OFREP_BULK = "/ofrep/v1/evaluate/flags"
OFREP_FLAG = "/ofrep/v1/evaluate/flags/"
DEEP = b"[" * 10_000 + b"]" * 10_000
MANY_ATTRIBUTES = orjson.dumps(
    {"context": {"targetingKey": "bob", **{f"a{i}": i for i in range(2_001)}}}
)
# Bodies that once broke an endpoint somewhere, or could: each goes to both OFREP endpoints
OFREP_BODIES: list[bytes] = [
    b"not json",
    b"[1, 2]",
    b'"x"',
    b"null",
    DEEP,
    b'{"context": {"targetingKey": "\xff\xfe"}}',
    b'{"context": {"targetingKey": "bob", "n": NaN}}',
    b'{"context": {"targetingKey": "bob", "n": 1e400}}',
    b'{"context": {"targetingKey": "bob", "n": 18446744073709551623}}',
    b'{"context": []}',
    b'{"context": "x"}',
    b'{"context": {"targetingKey": 5}}',
    b'{"context": {"targetingKey": ["bob"]}}',
    orjson.dumps({"context": {"targetingKey": NUL}}),
    orjson.dumps({"context": {"targetingKey": "x" * 2_001}}),
    orjson.dumps({"context": {"targetingKey": "bob", NUL: 1}}),
    orjson.dumps({"context": {"targetingKey": "bob", "k": NUL}}),
    orjson.dumps({"context": {"targetingKey": "bob", "k": "x" * 1_000_000}}),
    orjson.dumps({"context": {"targetingKey": "bob", "k": {"nested": [1, {"a": None}]}}}),
    orjson.dumps({"context": {"targetingKey": "bob", "k": HUGE, "m": -HUGE - 1}}),
    orjson.dumps({"context": {"targetingKey": "bob", "x" * 10_000: 1}}),
    MANY_ATTRIBUTES,
]
OFREP_PATHS = [OFREP_BULK, OFREP_BULK + "/", OFREP_FLAG + "checkout_button"]
HOSTILE_HEADERS: list[dict[str, str]] = [
    {"if-none-match": '"' + "x" * 100_000 + '", W/, *,,'},
    {"if-modified-since": "\xff\xfe yesterday"},
    {"accept-encoding": "gzip;q=abc, *;q=NaN, br;;;"},
    {"origin": "\xff" * 1_000},
    {"authorization": "Bearer"},
    {"authorization": "Bearer " + "\xff" * 10_000},
    {"x-api-key": "ser." + "\xff" * 100},
    {"last-event-id": "9" * 10_000},
]


def _raw(
    sdk: SDKClient, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
) -> Any:
    """A request with a body of any bytes and header values of any latin-1 characters; the
    client leaves once it is sent (so that a stream ends)."""
    raw = [(k.encode(), v.encode("latin-1")) for k, v in (headers or {}).items()]
    return sdk.loop.run_until_complete(sdk._call(method, path, "", raw, body, leave=True))


def _assert_refused_or_served(reply: Any, context: object) -> None:
    assert reply.status < 500, (context, reply.status, reply.body[:300])
    if reply.status >= 400:
        error = orjson.loads(reply.body)
        assert isinstance(error["detail"], str), (context, error)
        assert isinstance(error["code"], str), (context, error)


def _keys(environment: Environment, server_key: str) -> list[dict[str, str]]:
    """The ways to present each key to OFREP."""
    return [
        {"x-environment-key": environment.api_key},
        {"authorization": f"Bearer {server_key}"},
    ]


def test_ofrep__hostile_bodies__4xx_or_2xx_never_500(
    sdk: SDKClient, environment: Environment, feature: Feature, server_key: str
) -> None:
    for path in OFREP_PATHS:
        for key in _keys(environment, server_key):
            for body in OFREP_BODIES:
                # When
                reply = _raw(sdk, "POST", path, body, key)
                # Then
                _assert_refused_or_served(reply, (path, body[:80]))


def test_ofrep__malformed_context__400_with_its_error_code(
    sdk: SDKClient, environment: Environment, feature: Feature
) -> None:
    cases = [
        (b"not json", "PARSE_ERROR"),
        (DEEP, "PARSE_ERROR"),
        (b'{"context": {"targetingKey": "\xff\xfe"}}', "PARSE_ERROR"),
        (orjson.dumps({"context": {"targetingKey": NUL}}), "INVALID_CONTEXT"),
        (orjson.dumps({"context": {"targetingKey": "bob", "k": NUL}}), "INVALID_CONTEXT"),
        (MANY_ATTRIBUTES, "INVALID_CONTEXT"),
    ]
    for body, code in cases:
        reply = _raw(sdk, "POST", OFREP_BULK, body, {"x-environment-key": environment.api_key})
        assert reply.status == 400, (body[:80], reply.status)
        assert (reply.json()["errorCode"], reply.json()["code"]) == (code, code.lower())


def test_ofrep__hostile_flag_keys_and_methods__404_405_never_500(
    sdk: SDKClient, environment: Environment, feature: Feature, server_key: str
) -> None:
    paths = [OFREP_FLAG + NUL, OFREP_FLAG + "x" * 10_000, OFREP_FLAG + "a/b",
             OFREP_FLAG + "\xe9\u2603", OFREP_FLAG + "%00"]  # fmt: skip
    for key in _keys(environment, server_key):
        for path in paths:
            reply = _raw(sdk, "POST", path, b'{"context": {"targetingKey": "bob"}}', key)
            assert (reply.status, reply.json()["errorCode"]) == (404, "FLAG_NOT_FOUND"), path[:80]
    for method in ("GET", "PUT", "DELETE", "PATCH", "TRACE"):
        for path in OFREP_PATHS:
            reply = _raw(sdk, method, path, b"{}", {"x-environment-key": environment.api_key})
            assert (reply.status, reply.json()["code"]) == (405, "method_not_allowed")


STREAM_PATHS = ["/sse/environments/{}/stream", "/ofrep/v1/events/{}"]


def test_streams__hostile_keys_and_methods__404_405_never_500(
    sdk: SDKClient, environment: Environment, server_key: str
) -> None:
    # Keys that open no environment (a server key never goes in a URL)
    keys = [NUL, "x" * 10_000, "\xe9\u2603", server_key, "unknown", " ", "%00", "..", "a?b#c"]
    for template in STREAM_PATHS:
        for key in keys:
            # When
            reply = _raw(sdk, "GET", template.format(key))
            # Then
            assert reply.status == 404, (template, key[:40], reply.status, reply.body[:200])
            assert reply.json() == {"detail": "Environment not found.", "code": "not_found"}
        for method in ("POST", "PUT", "DELETE"):
            for body in (b"", DEEP, b"\xff" * 1_000, b"x" * 2_000_000):
                reply = _raw(sdk, method, template.format(environment.api_key), body)
                assert (reply.status, reply.json()["code"]) == (405, "method_not_allowed")


def test_streams__hostile_headers__stream_opens_and_closes_when_client_leaves(
    sdk: SDKClient, environment: Environment
) -> None:
    for template in STREAM_PATHS:
        for headers in HOSTILE_HEADERS:
            # When: the client leaves right after its request (SDKClient's receive says so)
            reply = _raw(sdk, "GET", template.format(environment.api_key), b"", headers)
            # Then: the stream was opened, and ended when the client went
            assert reply.status == 200, (template, headers.keys(), reply.body[:200])
            assert reply.headers["content-type"] == "text/event-stream; charset=utf-8"
            assert sdk.app.context.changes.open_subscriptions == 0


def test_sdk_endpoints__hostile_headers__4xx_or_2xx_never_500(
    sdk: SDKClient, environment: Environment, feature: Feature, server_key: str
) -> None:
    body = orjson.dumps({"identifier": "bob", "context": {"targetingKey": "bob"}})
    routes = [("GET", "/api/v1/flags/"), ("GET", "/api/v1/environment-document/"),
              ("POST", "/api/v1/identities/"), ("POST", "/api/v1/analytics/flags/"),
              ("POST", OFREP_BULK), ("POST", OFREP_FLAG + feature.name)]  # fmt: skip
    for method, path in routes:
        for headers in HOSTILE_HEADERS:
            for key in (environment.api_key, server_key, "x" * 100_000, "ser.\xff\xfe"):
                reply = _raw(sdk, method, path, body, {"x-environment-key": key, **headers})
                _assert_refused_or_served(reply, (path, key[:8], headers.keys()))
