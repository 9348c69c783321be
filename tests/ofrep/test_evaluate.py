"""OFREP evaluation through the real ASGI application: values, reasons, variants, errors."""

from __future__ import annotations

import pytest

from tests.ofrep.conftest import BULK, FLAG, Flags, SDKClient
from vexil.audit.services import Actor
from vexil.features.services import identity_override_create
from vexil.identities.identify import TraitInput, identity_identify
from vexil.identities.models import Identity
from vexil.sdk.http import MAX_BODY_BYTES
from vexil.sdk.ofrep import RateLimiter, typed_value

IDENTITIES = "/api/v1/identities/"


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _evaluate(sdk: SDKClient, key: str, flag: str, context: dict | None = None) -> dict:
    body = {} if context is None else {"context": context}
    reply = sdk.post(FLAG + flag, json=body, headers=_bearer(key))
    assert reply.status == 200, reply.body
    assert reply.headers["content-type"] == "application/json"
    return reply.json()


def test_single__environment_flags__typed_values_static(sdk: SDKClient, flags: Flags) -> None:
    key = flags.client_key
    # Then: without a targeting key, the environment's flags
    assert _evaluate(sdk, key, "banner_text") == {
        "key": "banner_text", "reason": "STATIC", "variant": "enabled", "value": "Hello",
    }  # fmt: skip
    assert _evaluate(sdk, key, "max_items")["value"] == 10
    ratio = _evaluate(sdk, key, "ratio")["value"]
    assert (ratio, type(ratio)) == (2.5, float)
    assert _evaluate(sdk, key, "checkout_config")["value"] == {"currency": "EUR", "steps": 3}
    assert _evaluate(sdk, key, "dark_mode")["value"] is True


def test_single__disabled_flags__disabled_false_or_code_default(
    sdk: SDKClient, flags: Flags
) -> None:
    key = flags.client_key
    # A disabled flag without a value: false; with one: no value, so the code default applies
    assert _evaluate(sdk, key, "beta_search") == {
        "key": "beta_search", "reason": "DISABLED", "variant": "disabled", "value": False,
    }  # fmt: skip
    assert _evaluate(sdk, key, "old_banner") == {
        "key": "old_banner", "reason": "DISABLED", "variant": "disabled",
    }  # fmt: skip


def test_single__segment_match__targeting_match(sdk: SDKClient, flags: Flags) -> None:
    # Given
    power = {"targetingKey": "alice", "orders": 12, "plan": "pro"}
    casual = {"targetingKey": "bob", "orders": 2}
    # Then
    assert _evaluate(sdk, flags.client_key, "banner_text", power) == {
        "key": "banner_text", "reason": "TARGETING_MATCH", "variant": "enabled",
        "value": "Welcome back, power user!",
    }  # fmt: skip
    assert _evaluate(sdk, flags.client_key, "beta_search", power)["value"] is True
    assert _evaluate(sdk, flags.client_key, "banner_text", casual)["reason"] == "STATIC"
    assert _evaluate(sdk, flags.client_key, "beta_search", casual)["reason"] == "DISABLED"
    # And nothing was stored
    assert not Identity.objects.filter(environment=flags.environment).exists()


def test_single__multivariate__split_with_variant(sdk: SDKClient, flags: Flags) -> None:
    answers = [
        _evaluate(sdk, flags.client_key, "checkout_button", {"targetingKey": f"user-{i}"})
        for i in range(30)
    ]
    assert {a["reason"] for a in answers} == {"SPLIT"}
    assert {a["value"] for a in answers} == {"green", "red"}
    assert all(isinstance(a["variant"], str) and a["variant"] for a in answers)
    # The same identity always gets the same variant
    again = _evaluate(sdk, flags.client_key, "checkout_button", {"targetingKey": "user-0"})
    assert again == answers[0]


def test_single__identity_override__targeting_match_stored_traits_unread(
    sdk: SDKClient, flags: Flags, actor: Actor
) -> None:
    # Given: a stored identity with an override and a stored trait that would match the segment
    identity_identify(
        environment_id=flags.environment.pk, identifier="carol",
        traits=[TraitInput("orders", 50)], transient=False, persist_traits=True,
    )  # fmt: skip
    carol = Identity.objects.get(environment=flags.environment, identifier="carol")
    identity_override_create(
        feature=flags.features["max_items"], identity_id=carol.pk,
        environment=flags.environment, enabled=True, value=99, actor=actor,
    )  # fmt: skip
    # Then
    context = {"targetingKey": "carol"}
    assert _evaluate(sdk, flags.client_key, "max_items", context) == {
        "key": "max_items", "reason": "TARGETING_MATCH", "variant": "enabled", "value": 99,
    }  # fmt: skip
    assert _evaluate(sdk, flags.client_key, "banner_text", context)["value"] == "Hello"


def test_single__missing_flag__404_flag_not_found(sdk: SDKClient, flags: Flags) -> None:
    reply = sdk.post(FLAG + "no_such_flag", json={}, headers=_bearer(flags.client_key))
    assert reply.status == 404
    body = reply.json()
    assert (body["key"], body["errorCode"]) == ("no_such_flag", "FLAG_NOT_FOUND")
    assert "no_such_flag" in body["errorDetails"]


def test_single__server_only_flag__hidden_from_client_key(sdk: SDKClient, flags: Flags) -> None:
    reply = sdk.post(FLAG + "internal_limits", json={}, headers=_bearer(flags.client_key))
    assert reply.status == 404
    assert _evaluate(sdk, flags.server_key, "internal_limits")["value"] == 5


@pytest.mark.parametrize("header", ["Authorization", "X-API-Key", "X-Environment-Key"])
def test_single__each_key_header__accepted(sdk: SDKClient, flags: Flags, header: str) -> None:
    value = f"Bearer {flags.client_key}" if header == "Authorization" else flags.client_key
    reply = sdk.post(FLAG + "max_items", json={}, headers={header: value})
    assert (reply.status, reply.json()["value"]) == (200, 10)


def test_single__no_key__401(sdk: SDKClient, flags: Flags) -> None:
    reply = sdk.post(FLAG + "max_items", json={})
    assert reply.status == 401
    assert reply.json()["errorCode"] == "GENERAL"
    assert reply.headers["www-authenticate"].startswith("Bearer")


def test_single__unknown_key__403(sdk: SDKClient, flags: Flags) -> None:
    reply = sdk.post(FLAG + "max_items", json={}, headers=_bearer("not-a-key"))
    assert (reply.status, reply.json()["errorCode"]) == (403, "GENERAL")


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"{not json", "PARSE_ERROR"),
        (b"[1, 2]", "PARSE_ERROR"),
        (b'{"context": "alice"}', "INVALID_CONTEXT"),
        (b'{"context": {"targetingKey": 7}}', "INVALID_CONTEXT"),
        (b'{"context": {"targetingKey": "a", "address": {"city": "Oslo"}}}', "INVALID_CONTEXT"),
        (b'{"context": {"targetingKey": "a", "name": "x\\u0000y"}}', "INVALID_CONTEXT"),
    ],
)
def test_single__bad_body__400_with_error_code(
    sdk: SDKClient, flags: Flags, body: bytes, code: str
) -> None:
    # The raw bytes, not JSON made by the client
    authorization = [(b"authorization", f"Bearer {flags.client_key}".encode())]
    reply = sdk.loop.run_until_complete(
        sdk._call("POST", FLAG + "max_items", "", authorization, body)
    )
    assert reply.status == 400
    answer = reply.json()
    assert (answer["key"], answer["errorCode"]) == ("max_items", code)
    assert answer["errorDetails"]


def test_single__client_key_without_client_traits__attributes_ignored(
    sdk: SDKClient, flags: Flags, actor: Actor
) -> None:
    from vexil.environments.services import environment_update

    environment_update(environment=flags.environment, actor=actor, allow_client_traits=False)
    context = {"targetingKey": "alice", "orders": 12}
    assert _evaluate(sdk, flags.client_key, "banner_text", context)["value"] == "Hello"
    assert _evaluate(sdk, flags.server_key, "banner_text", context)["reason"] == "TARGETING_MATCH"


def test_single__no_targeting_key__environment_flags_attributes_ignored(
    sdk: SDKClient, flags: Flags
) -> None:
    # The attributes alone would put an identity in the segment (orders > 10)
    context = {"orders": 12, "plan": "pro"}
    assert _evaluate(sdk, flags.server_key, "banner_text", context) == {
        "key": "banner_text", "reason": "STATIC", "variant": "enabled", "value": "Hello",
    }  # fmt: skip


@pytest.mark.parametrize("kind", ["client", "server"])
def test_hide_disabled_flags__disabled_flag_not_found_enabled_by_segment_served(
    sdk: SDKClient, flags: Flags, actor: Actor, kind: str
) -> None:
    from vexil.environments.services import environment_update

    # Given: disabled flags hidden, as /api/v1/flags/ hides them (for every kind of key)
    environment_update(environment=flags.environment, actor=actor, hide_disabled_flags=True)
    key = flags.client_key if kind == "client" else flags.server_key
    # Then: a disabled flag is not found, on its own and in the bulk answer
    reply = sdk.post(FLAG + "old_banner", json={}, headers=_bearer(key))
    assert (reply.status, reply.json()["errorCode"]) == (404, "FLAG_NOT_FOUND")
    bulk = sdk.post(BULK, json={}, headers=_bearer(key)).json()["flags"]
    assert not {"old_banner", "beta_search"} & {f["key"] for f in bulk}
    # And a flag a segment enables for this context is served
    power = {"targetingKey": "erin", "orders": 12}
    assert _evaluate(sdk, key, "beta_search", power) == {
        "key": "beta_search", "reason": "TARGETING_MATCH", "variant": "enabled", "value": True,
    }  # fmt: skip


def test_bulk__every_visible_flag_with_etag(sdk: SDKClient, flags: Flags) -> None:
    reply = sdk.post(BULK, json={"context": {"targetingKey": "alice", "orders": 12}},
                     headers=_bearer(flags.client_key))  # fmt: skip
    assert reply.status == 200
    by_key = {f["key"]: f for f in reply.json()["flags"]}
    assert set(by_key) == set(flags.features) - {"internal_limits"}
    assert by_key["banner_text"]["value"] == "Welcome back, power user!"
    assert by_key["old_banner"] == {
        "key": "old_banner", "reason": "DISABLED", "variant": "disabled",
    }  # fmt: skip
    tag = reply.headers["etag"]
    assert (tag[0], tag[-1], len(tag)) == ('"', '"', 34)
    assert reply.headers["vary"] == "X-Environment-Key, Origin, Authorization, X-API-Key"


def test_bulk__if_none_match__304_until_context_or_flags_change(
    sdk: SDKClient, flags: Flags, actor: Actor
) -> None:
    from vexil.features.models import FeatureState
    from vexil.features.services import feature_state_update

    headers = _bearer(flags.client_key)
    context = {"context": {"targetingKey": "alice", "orders": 12}}
    tag = sdk.post(BULK, json=context, headers=headers).headers["etag"]
    # Then: the same context is not modified
    same = sdk.post(BULK, json=context, headers={**headers, "If-None-Match": tag})
    assert (same.status, same.body, same.headers["etag"]) == (304, b"", tag)
    # Another context is
    other = {"context": {"targetingKey": "alice", "orders": 2}}
    assert sdk.post(BULK, json=other, headers={**headers, "If-None-Match": tag}).status == 200
    # And so is the same context after a change of flags
    state = FeatureState.objects.get(
        feature=flags.features["max_items"], environment=flags.environment, identity=None,
        feature_segment=None,
    )  # fmt: skip
    feature_state_update(feature_state=state, actor=actor, value=11)
    changed = sdk.post(BULK, json=context, headers={**headers, "If-None-Match": tag})
    assert changed.status == 200
    assert changed.headers["etag"] != tag
    assert {f["key"]: f.get("value") for f in changed.json()["flags"]}["max_items"] == 11


def test_bulk__if_none_match__identity_override_created__200_with_the_override(
    sdk: SDKClient, flags: Flags, actor: Actor
) -> None:
    # Given: a stored identity's bulk answer and its ETag
    identity_identify(
        environment_id=flags.environment.pk, identifier="dave", traits=[], transient=False,
        persist_traits=True,
    )  # fmt: skip
    dave = Identity.objects.get(environment=flags.environment, identifier="dave")
    headers = _bearer(flags.server_key)
    context = {"context": {"targetingKey": "dave"}}
    tag = sdk.post(BULK, json=context, headers=headers).headers["etag"]
    # When: the identity gets an override of its own (the tag covers it: overrides move the
    # environment's revision)
    identity_override_create(
        feature=flags.features["max_items"], identity_id=dave.pk,
        environment=flags.environment, enabled=True, value=42, actor=actor,
    )  # fmt: skip
    changed = sdk.post(BULK, json=context, headers={**headers, "If-None-Match": tag})
    # Then
    assert changed.status == 200
    assert changed.headers["etag"] != tag
    by_key = {f["key"]: f for f in changed.json()["flags"]}
    assert (by_key["max_items"]["value"], by_key["max_items"]["reason"]) == (42, "TARGETING_MATCH")


def test_bulk__bad_body__400_without_key(sdk: SDKClient, flags: Flags) -> None:
    reply = sdk.post(BULK, json={"context": []}, headers=_bearer(flags.client_key))
    assert reply.status == 400
    assert "key" not in reply.json()
    assert reply.json()["errorCode"] == "INVALID_CONTEXT"


def test_preflight__ofrep_headers_allowed_etag_exposed(sdk: SDKClient, flags: Flags) -> None:
    origin = {"Origin": "http://localhost:3000"}
    reply = sdk.request(
        "OPTIONS", BULK,
        headers={**origin, "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "authorization,content-type,if-none-match"},
    )  # fmt: skip
    assert reply.status == 200
    allowed = reply.headers["access-control-allow-headers"].split(", ")
    assert {"authorization", "content-type", "if-none-match", "x-api-key"} <= set(allowed)
    assert "POST" in reply.headers["access-control-allow-methods"]
    answer = sdk.post(BULK, json={}, headers={**_bearer(flags.client_key), **origin})
    assert answer.headers["access-control-allow-origin"] == "*"
    exposed = answer.headers["access-control-expose-headers"]
    assert {"ETag", "Retry-After"} <= set(exposed.split(", "))


def test_get__405_in_ofrep_shape(sdk: SDKClient, flags: Flags) -> None:
    reply = sdk.get(BULK, headers=_bearer(flags.client_key))
    assert reply.status == 405
    answer = reply.json()
    assert (answer["errorCode"], answer["code"]) == ("GENERAL", "method_not_allowed")
    assert answer["errorDetails"] == 'Method "GET" not allowed.'
    assert "key" not in answer


def test_single__body_too_large__413_in_ofrep_shape_with_key(sdk: SDKClient, flags: Flags) -> None:
    # The app refuses the body before the endpoint runs; OFREP's providers still read a reason.
    authorization = [(b"authorization", f"Bearer {flags.client_key}".encode())]
    body = b'{"context": {"targetingKey": "a", "pad": "' + b"x" * (MAX_BODY_BYTES + 1) + b'"}}'
    reply = sdk.loop.run_until_complete(
        sdk._call("POST", FLAG + "max_items", "", authorization, body)
    )
    assert reply.status == 413
    answer = reply.json()
    assert (answer["key"], answer["errorCode"]) == ("max_items", "GENERAL")
    assert answer["errorDetails"] == "Request body too large."
    assert answer["code"] == "payload_too_large"


def test_rate_limit__beyond_limit__429_with_integer_retry_after(
    sdk: SDKClient, flags: Flags
) -> None:
    # Given: two evaluations a minute, half a minute into the window (a fixed clock: a real one
    # could cross into the next window between the requests and admit the third)
    sdk.app.ofrep.rate_limiter = RateLimiter(2, 60, clock=lambda: 630.0)
    headers = _bearer(flags.client_key)
    # When
    statuses = [sdk.post(FLAG + "max_items", json={}, headers=headers).status for _ in range(3)]
    refused = sdk.post(FLAG + "max_items", json={}, headers=headers)
    # Then
    assert statuses == [200, 200, 429]
    assert refused.status == 429
    assert refused.headers["retry-after"] == "30"


def test_rate_limiter__window__counts_and_waits() -> None:
    limiter = RateLimiter(2, 10)
    assert [limiter.wait("k", now=100.0) for _ in range(2)] == [0, 0]
    assert limiter.wait("k", now=101.5) == 9  # until 110, rounded up
    assert limiter.wait("other", now=101.5) == 0
    assert limiter.wait("k", now=110.0) == 0
    assert RateLimiter.parse("") is None
    parsed = RateLimiter.parse("30/min")
    assert parsed is not None
    assert (parsed.limit, parsed.period) == (30, 60)


@pytest.mark.parametrize(
    ("stored", "reported"),
    [
        ("2.5", 2.5), ("-0.25", -0.25), ("1.0e3", 1000.0), ("2", "2"), ("1.", "1."),
        ("nan", "nan"), ('{"a": 1}', {"a": 1}), ("[1, 2]", [1, 2]), ("{oops", "{oops"),
        ("text", "text"), (7, 7), (True, True),
    ],
)  # fmt: skip
def test_typed_value__mapping(stored: object, reported: object) -> None:
    value = typed_value(stored)
    assert (value, type(value)) == (reported, type(reported))


def test_bulk__legacy_hashing_by_identity_id__etag_follows_the_stored_identity(
    sdk: SDKClient, flags: Flags, actor: Actor
) -> None:
    from vexil.environments.services import environment_update

    # Given: splits hash a stored identity by its id, not by its identifier
    environment_update(
        environment=flags.environment, actor=actor, use_identity_composite_key_for_hashing=False
    )
    headers = _bearer(flags.server_key)
    identifiers = [f"zed-{n}" for n in range(12)]
    before = {
        i: sdk.post(BULK, json={"context": {"targetingKey": i}}, headers=headers).headers["etag"]
        for i in identifiers
    }
    # When: the identities come to be stored
    for identifier in identifiers:
        identity_identify(
            environment_id=flags.environment.pk, identifier=identifier, traits=[],
            transient=False, persist_traits=True,
        )  # fmt: skip
    # Then: new answers, split as /identities/ splits the stored identities
    got, expected = [], []
    for identifier in identifiers:
        after = sdk.post(
            BULK, json={"context": {"targetingKey": identifier}},
            headers={**headers, "If-None-Match": before[identifier]},
        )  # fmt: skip
        assert after.status == 200
        assert after.headers["etag"] != before[identifier]
        got.append({f["key"]: f.get("value") for f in after.json()["flags"]}["checkout_button"])
        remote = sdk.post(IDENTITIES, key=flags.server_key, json={"identifier": identifier})
        by_name = {f["feature"]["name"]: f for f in remote.json()["flags"]}
        expected.append(by_name["checkout_button"]["feature_state_value"])
    assert got == expected
