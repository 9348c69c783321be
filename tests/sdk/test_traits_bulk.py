"""``PUT /api/v1/traits/bulk/`` and trait caps: linear batched writes, a cap per request and per
identity (issue 10, item 4). Speed is measured in bench/outage.py; here the statement count."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.sdk.conftest import SDKClient
from vexil.environments.models import Environment
from vexil.identities.identify import (
    TOO_MANY_TRAITS_MESSAGE,
    TraitInput,
    WriteCancelledError,
    identity_identify,
)
from vexil.identities.models import MAX_TRAITS_PER_IDENTITY, Identity, Trait
from vexil.sdk.identify import MAX_TRAITS_PER_REQUEST, _legacy_item, _save_legacy

BULK = "/api/v1/traits/bulk/"


def _items(count: int, identities: int, prefix: str = "k") -> list[dict[str, Any]]:
    return [
        {
            "identity": {"identifier": f"user-{i % identities}"},
            "trait_key": f"{prefix}{i}",
            "trait_value": i,
        }
        for i in range(count)
    ]


@pytest.mark.parametrize("identities", [1, "all"])
def test_traits_bulk__statements__batched_not_per_item(
    sdk: SDKClient, environment: Environment, identities: int | str
) -> None:
    """The old path read every stored trait once per item: quadratic, 27.8 s for 2,000."""

    def body(count: int, prefix: str) -> list[dict[str, Any]]:
        return _items(count, count if identities == "all" else 1, prefix)

    # Given: the endpoint's threads have connections of their own; count on the test's by
    # running what the endpoint's thread runs
    snapshot = sdk.loop.run_until_complete(sdk.app.context.snapshot(_row(sdk, environment)))

    def count(items: list[dict[str, Any]]) -> int:
        parsed = [_legacy_item(item)[0] for item in items]
        with CaptureQueriesContext(connection) as captured:
            _save_legacy(snapshot, parsed)
        return len(captured.captured_queries)

    # When
    small, large = count(body(20, "a")), count(body(400, "b"))
    # Then: batched (SQLite's statements hold ~100 rows), never a statement per item
    assert small <= 12
    assert large - small <= (400 - 20) // 50
    assert Trait.objects.count() == 420


def _row(sdk: SDKClient, environment: Environment) -> Any:
    resolved = sdk.app.context.registry.resolve(environment.api_key)
    assert resolved is not None
    return resolved.environment


def test_traits_bulk__largest_allowed__stored_in_order_last_value_wins(
    sdk: SDKClient, environment: Environment
) -> None:
    # Given: the cap's worth of items over 3 identities, one key twice
    body = _items(MAX_TRAITS_PER_REQUEST - 1, 3)
    body.append({"identity": {"identifier": "user-0"}, "trait_key": "k0", "trait_value": "last"})
    # When
    reply = sdk.request("PUT", BULK, key=environment.api_key, json=body)
    # Then
    assert reply.status == 200
    assert len(reply.json()) == MAX_TRAITS_PER_REQUEST
    assert Identity.objects.count() == 3
    assert Trait.objects.count() == MAX_TRAITS_PER_REQUEST - 1
    assert Trait.objects.get(trait_key="k0").trait_value == "last"


def test_traits_bulk__set_then_delete_in_one_request__nothing_stored(
    sdk: SDKClient, environment: Environment
) -> None:
    body = [
        {"identity": {"identifier": "bob"}, "trait_key": "plan", "trait_value": "pro"},
        {"identity": {"identifier": "bob"}, "trait_key": "plan", "trait_value": None},
    ]
    reply = sdk.request("PUT", BULK, key=environment.api_key, json=body)
    assert reply.status == 200
    assert not Trait.objects.exists()


def test_traits_bulk__more_items_than_the_cap__400_nothing_stored(
    sdk: SDKClient, environment: Environment
) -> None:
    # When
    reply = sdk.request(
        "PUT", BULK, key=environment.api_key, json=_items(MAX_TRAITS_PER_REQUEST + 1, 50)
    )
    # Then
    assert reply.status == 400
    assert reply.json()["non_field_errors"] == [
        f"Ensure this list has no more than {MAX_TRAITS_PER_REQUEST} items."
    ]
    assert not Identity.objects.exists()


def test_traits_bulk__identity_past_its_trait_cap__400_nothing_stored(
    sdk: SDKClient, environment: Environment
) -> None:
    # Given: an identity one trait below its cap
    identity_identify(
        environment_id=environment.pk,
        identifier="user-0",
        traits=[TraitInput(f"s{i}", i) for i in range(MAX_TRAITS_PER_IDENTITY - 1)],
        transient=False,
        persist_traits=True,
    )
    # When: two new traits for it, and one for another identity
    body = [*_items(2, 1, "new"), *_items(1, 1, "other")]
    body[-1]["identity"]["identifier"] = "amy"
    reply = sdk.request("PUT", BULK, key=environment.api_key, json=body)
    # Then
    assert reply.status == 400
    assert reply.json()["code"] == "invalid"
    assert Trait.objects.count() == MAX_TRAITS_PER_IDENTITY - 1
    assert not Identity.objects.filter(identifier="amy").exists()


def test_identities__more_traits_than_the_cap__400(
    sdk: SDKClient, environment: Environment
) -> None:
    traits = [{"trait_key": f"k{i}", "trait_value": i} for i in range(MAX_TRAITS_PER_REQUEST + 1)]
    reply = sdk.post(
        "/api/v1/identities/", key=environment.api_key, json={"identifier": "bob", "traits": traits}
    )
    assert reply.status == 400
    assert reply.json()["traits"] == [
        f"Ensure this list has no more than {MAX_TRAITS_PER_REQUEST} items."
    ]
    assert not Identity.objects.exists()


def test_identities__identity_past_its_trait_cap__400_unchanged(
    sdk: SDKClient, environment: Environment
) -> None:
    # Given
    identity_identify(
        environment_id=environment.pk,
        identifier="bob",
        traits=[TraitInput(f"s{i}", i) for i in range(MAX_TRAITS_PER_IDENTITY)],
        transient=False,
        persist_traits=True,
    )
    # When: one more, and a change of one that is stored
    reply = sdk.post(
        "/api/v1/identities/",
        key=environment.api_key,
        json={
            "identifier": "bob",
            "traits": [
                {"trait_key": "one_more", "trait_value": 1},
                {"trait_key": "s0", "trait_value": "changed"},
            ],
        },
    )
    # Then
    assert reply.status == 400
    assert Trait.objects.count() == MAX_TRAITS_PER_IDENTITY
    assert Trait.objects.get(trait_key="s0").trait_value == 0


def _identity_at_cap(environment: Environment, identifier: str) -> None:
    identity_identify(
        environment_id=environment.pk,
        identifier=identifier,
        traits=[TraitInput(f"s{i}", i) for i in range(MAX_TRAITS_PER_IDENTITY)],
        transient=False,
        persist_traits=True,
    )


def test_traits_increment__new_key_past_the_cap__400_nothing_stored(
    sdk: SDKClient, environment: Environment
) -> None:
    # Given: an identity at its trait cap
    _identity_at_cap(environment, "bob")
    # When: an increment of a trait it does not hold yet
    reply = sdk.post(
        "/api/v1/traits/increment-value/",
        key=environment.api_key,
        json={"trait_key": "one_more", "identifier": "bob", "increment_by": 1},
    )
    # Then
    assert reply.status == 400
    assert reply.json()["non_field_errors"] == [TOO_MANY_TRAITS_MESSAGE]
    assert Trait.objects.count() == MAX_TRAITS_PER_IDENTITY
    assert not Trait.objects.filter(trait_key="one_more").exists()


def test_traits_increment__held_key_at_the_cap__incremented(
    sdk: SDKClient, environment: Environment
) -> None:
    _identity_at_cap(environment, "bob")
    reply = sdk.post(
        "/api/v1/traits/increment-value/",
        key=environment.api_key,
        json={"trait_key": "s7", "identifier": "bob", "increment_by": 3},
    )
    assert reply.status == 200
    assert reply.json()["trait_value"] == 10
    assert Trait.objects.count() == MAX_TRAITS_PER_IDENTITY


def test_traits_bulk__client_leaves_before_the_answer__work_stopped_nothing_written(
    sdk: SDKClient, environment: Environment
) -> None:
    """Finding 4's last part: the work once went on for minutes after the client had gone."""
    # Given: the largest request allowed, 2,000 new identities
    body = _items(MAX_TRAITS_PER_REQUEST, MAX_TRAITS_PER_REQUEST)
    # When: its client disconnects once the body is sent
    reply = sdk.request("PUT", BULK, key=environment.api_key, json=body, leave=True)
    # Then: nobody is answered, and the write was stopped and rolled back
    assert reply.status == 0
    assert not Identity.objects.exists()
    assert not Trait.objects.exists()
    # And a client that stays gets its answer
    stays = sdk.request("PUT", BULK, key=environment.api_key, json=body)
    assert (stays.status, Trait.objects.count()) == (200, MAX_TRAITS_PER_REQUEST)


@pytest.mark.parametrize("statements", [0, 1, 3, 6])
def test_traits_bulk__cancelled_between_statements__nothing_written(
    sdk: SDKClient, environment: Environment, statements: int
) -> None:
    # Given: a write that is told to stop after a number of its statements
    snapshot = sdk.loop.run_until_complete(sdk.app.context.snapshot(_row(sdk, environment)))
    parsed = [_legacy_item(item)[0] for item in _items(1_200, 1_200)]
    asked = 0

    def cancelled() -> bool:
        nonlocal asked
        asked += 1
        return asked > statements

    # When
    with pytest.raises(WriteCancelledError):
        _save_legacy(snapshot, parsed, cancelled)
    # Then
    assert not Identity.objects.exists()
    assert not Trait.objects.exists()
