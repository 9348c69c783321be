"""The per-process cache of identities' evaluated flags (``vexil.sdk.results``): it may only
ever save work, never change an answer."""

from __future__ import annotations

import gc
from typing import Any

import pytest

from tests.sdk.conftest import SDKClient
from vexil.audit.services import Actor
from vexil.environments.models import Environment
from vexil.features.models import Feature
from vexil.features.services import identity_override_create, segment_override_create
from vexil.identities.models import Identity, Trait
from vexil.identities.selectors import StoredOverride
from vexil.sdk.results import IdentityResults, identity_cache_key
from vexil.segments.models import Segment
from vexil.segments.services import segment_create

IDENTITIES = "/api/v1/identities/"


def _flag(sdk: SDKClient, environment: Environment, **body: Any) -> dict[str, Any]:
    reply = sdk.post(IDENTITIES, key=environment.api_key, json=body)
    assert reply.status == 200
    flags = reply.json()["flags"]
    return next(f for f in flags if f["feature"]["name"] == "checkout_button")


@pytest.fixture
def red_for_power_users(
    environment: Environment, feature: Feature, segment: Segment, actor: Actor
) -> None:
    segment_override_create(
        feature=feature,
        segment=segment,
        environment=environment,
        actor=actor,
        enabled=True,
        value="red",
    )


@pytest.mark.usefixtures("red_for_power_users")
def test_cache__same_identity_same_traits__answered_from_cache(
    sdk: SDKClient, environment: Environment
) -> None:
    # When
    body = {"identifier": "bob", "traits": [{"trait_key": "orders", "trait_value": 12}]}
    first = sdk.post(IDENTITIES, key=environment.api_key, json=body)
    second = sdk.post(IDENTITIES, key=environment.api_key, json=body)
    # Then: one entry, and the second answer is byte for byte the first
    assert len(sdk.app.context.identity_results) == 1
    assert second.body == first.body


@pytest.mark.usefixtures("red_for_power_users")
def test_cache__trait_changed_by_another_writer__new_flags(
    sdk: SDKClient, environment: Environment
) -> None:
    # Given: bob is cached as a power user
    power = {"identifier": "bob", "traits": [{"trait_key": "orders", "trait_value": 12}]}
    assert _flag(sdk, environment, **power)["feature_state_value"] == "red"
    # When: another process (here: the ORM directly) lowers his orders
    Trait.objects.filter(identity__identifier="bob").update(integer_value=1)
    # Then: an identify that sends no traits evaluates the stored value
    assert _flag(sdk, environment, identifier="bob")["feature_state_value"] != "red"


@pytest.mark.usefixtures("red_for_power_users")
def test_cache__identity_override_added__served_at_once(
    sdk: SDKClient, environment: Environment, feature: Feature, actor: Actor
) -> None:
    # Given
    assert _flag(sdk, environment, identifier="bob")["feature_state_value"] != "only-bob"
    bob = Identity.objects.get(environment=environment, identifier="bob")
    # When
    identity_override_create(
        feature=feature,
        identity_id=bob.pk,
        environment=environment,
        actor=actor,
        enabled=True,
        value="only-bob",
    )
    # Then
    flag = _flag(sdk, environment, identifier="bob")
    assert (flag["feature_state_value"], flag["identity"]) == ("only-bob", bob.pk)


def test_cache__segment_override_added__new_revision_new_flags(
    sdk: SDKClient, environment: Environment, feature: Feature, segment: Segment, actor: Actor
) -> None:
    # Given: bob, a power user, is cached before the override exists
    power = {"identifier": "bob", "traits": [{"trait_key": "orders", "trait_value": 12}]}
    assert _flag(sdk, environment, **power)["feature_state_value"] != "red"
    # When
    segment_override_create(
        feature=feature,
        segment=segment,
        environment=environment,
        actor=actor,
        enabled=True,
        value="red",
    )
    # Then
    assert _flag(sdk, environment, **power)["feature_state_value"] == "red"


@pytest.mark.usefixtures("red_for_power_users")
def test_cache__transient_traits__do_not_share_entries_with_stored_ones(
    sdk: SDKClient, environment: Environment
) -> None:
    # Given: bob is stored as a casual user
    assert (
        _flag(
            sdk, environment, identifier="bob", traits=[{"trait_key": "orders", "trait_value": 1}]
        )["feature_state_value"]
        != "red"
    )
    # When: a transient trait makes him a power user for this call only
    transient = {"trait_key": "orders", "trait_value": 50, "transient": True}
    flag = _flag(sdk, environment, identifier="bob", traits=[transient])
    # Then
    assert flag["feature_state_value"] == "red"
    assert _flag(sdk, environment, identifier="bob")["feature_state_value"] != "red"


def test_cache__regex_ran_out_of_time__result_not_kept(
    sdk: SDKClient, environment: Environment, feature: Feature, actor: Actor
) -> None:
    # Given: a segment whose regex RE2 cannot run (a backreference), so the time-limited
    # fallback does, and an input on which it runs out of time
    slow = segment_create(
        project=environment.project,
        name="slow_regex",
        rules=[
            {
                "type": "ALL",
                "rules": [
                    {
                        "type": "ANY",
                        "conditions": [
                            {"operator": "REGEX", "property": "name", "value": r"(a+)+\1$"}
                        ],
                    }
                ],
            }
        ],
        actor=actor,
    )
    segment_override_create(
        feature=feature, segment=slow, environment=environment, actor=actor, enabled=True
    )
    body = {"identifier": "bob", "traits": [{"trait_key": "name", "trait_value": "a" * 1999 + "!"}]}
    # When
    reply = sdk.post(IDENTITIES, key=environment.api_key, json=body)
    # Then: answered (no match), but not cached: the next request evaluates again
    assert reply.status == 200
    assert len(sdk.app.context.identity_results) == 0


def _key(traits: dict[str, Any], overrides: tuple[StoredOverride, ...] = ()) -> bytes:
    return identity_cache_key(
        1,
        7,
        is_server=False,
        identifier="bob",
        identity_id=3,
        traits=traits,
        overrides=overrides,
    )


def test_key__equal_values_of_other_types__different_keys() -> None:
    # 1 == 1.0 == True in Python, but not to the engine's string rules nor in JSON
    keys = {_key({"n": value}) for value in (1, 1.0, True, "1")}
    assert len(keys) == 4
    overrides = {_key({}, (StoredOverride(9, 2, "f", True, value),)) for value in (1, True)}
    assert len(overrides) == 2


def test_key__trait_order__same_key() -> None:
    assert _key({"a": 1, "b": "x"}) == _key({"b": "x", "a": 1})


def test_results__bound_in_bytes__least_recently_used_evicted() -> None:
    results = IdentityResults(max_bytes=4000)
    flags = (b"x" * 500,)
    for index in range(10):
        results.put(_key({"i": index}), flags, unshared=500)
        results.get(_key({"i": 0}))  # keep the first one in use
    assert results.size <= 4000
    assert results.get(_key({"i": 0})) == flags
    assert results.get(_key({"i": 1})) is None
    assert results.get(_key({"i": 9})) == flags


def test_results__entry_larger_than_the_bound__not_kept() -> None:
    results = IdentityResults(max_bytes=1000)
    results.put(_key({}), (b"x" * 5000,), unshared=5000)
    assert len(results) == 0


def test_results__zero__off() -> None:
    results = IdentityResults(max_bytes=0)
    results.put(_key({}), (b"x",), unshared=1)
    assert (results.enabled, len(results), results.get(_key({}))) == (False, 0, None)


def test_results__entries__nothing_for_the_garbage_collector_to_traverse() -> None:
    # A cache full of GC-tracked keys made every collection walk it: under identity traffic
    # with ever-new trait values, throughput fell by a quarter (docs/performance.md).
    results = IdentityResults(max_bytes=1_000_000)
    key = _key({"n": 1, "plan": "pro"}, (StoredOverride(9, 2, "f", True, "x"),))
    results.put(key, (b'{"id":1}', b'{"id":2}'), unshared=0)
    gc.collect()
    stored = results.get(key)
    assert stored is not None
    assert not gc.is_tracked(key)
    assert not gc.is_tracked(stored)
