"""``/api/v1/identities/`` (protocol notes §1.6, §1.7) and the identify service."""

from __future__ import annotations

import hashlib

from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.sdk.conftest import SDKClient
from vexil.audit.services import Actor
from vexil.environments.models import Environment
from vexil.environments.services import environment_update
from vexil.features.models import Feature
from vexil.features.services import (
    OptionSpec,
    feature_create,
    identity_override_create,
    segment_override_create,
)
from vexil.identities.identify import TraitInput, identity_identify
from vexil.identities.models import Identity, Trait
from vexil.projects.models import Project
from vexil.segments.models import Segment

IDENTITIES = "/api/v1/identities/"


def _flag(reply_body: dict, name: str) -> dict:
    return next(f for f in reply_body["flags"] if f["feature"]["name"] == name)


def test_post__new_identity__created_with_traits_and_flags(
    sdk: SDKClient, environment: Environment, feature: Feature
) -> None:
    # When
    reply = sdk.post(
        IDENTITIES,
        key=environment.api_key,
        json={
            "identifier": "bob",
            "traits": [{"trait_key": "orders", "trait_value": 12}],
        },
    )
    # Then
    assert reply.status == 200
    body = reply.json()
    identity = Identity.objects.get(environment=environment, identifier="bob")
    trait = Trait.objects.get(identity=identity)
    assert body["identifier"] == "bob"
    assert body["traits"] == [
        {"id": trait.pk, "trait_key": "orders", "trait_value": 12, "transient": False}
    ]
    assert _flag(body, "checkout_button")["variant"] is None
    assert _flag(body, "checkout_button")["identity"] is None


def test_post__segment_override__wins_for_matching_identity(
    sdk: SDKClient, environment: Environment, feature: Feature, segment: Segment, actor: Actor
) -> None:
    # Given: power_users (orders >= 10) get "red"
    override = segment_override_create(
        feature=feature,
        segment=segment,
        environment=environment,
        actor=actor,
        enabled=True,
        value="red",
    )
    # When
    power = sdk.post(
        IDENTITIES,
        key=environment.api_key,
        json={"identifier": "bob", "traits": [{"trait_key": "orders", "trait_value": "12"}]},
    ).json()
    casual = sdk.post(
        IDENTITIES,
        key=environment.api_key,
        json={"identifier": "carol", "traits": [{"trait_key": "orders", "trait_value": 3}]},
    ).json()
    # Then
    flag = _flag(power, "checkout_button")
    assert (flag["enabled"], flag["feature_state_value"]) == (True, "red")
    assert flag["id"] == override.pk
    assert flag["feature_segment"] == override.feature_segment_id
    assert _flag(casual, "checkout_button")["feature_state_value"] == "blue"


def test_post__identity_override__beats_segment_override(
    sdk: SDKClient,
    environment: Environment,
    feature: Feature,
    segment: Segment,
    identity: Identity,
    actor: Actor,
) -> None:
    segment_override_create(
        feature=feature,
        segment=segment,
        environment=environment,
        actor=actor,
        enabled=True,
        value="red",
    )
    own = identity_override_create(
        feature=feature,
        identity_id=identity.pk,
        environment=environment,
        actor=actor,
        enabled=True,
        value="gold",
    )
    body = sdk.post(
        IDENTITIES,
        key=environment.api_key,
        json={
            "identifier": identity.identifier,
            "traits": [{"trait_key": "orders", "trait_value": 50}],
        },
    ).json()
    flag = _flag(body, "checkout_button")
    assert (flag["feature_state_value"], flag["id"], flag["identity"]) == (
        "gold",
        own.pk,
        identity.pk,
    )


def test_post__multivariate__split_by_composite_key(
    sdk: SDKClient, project: Project, environment: Environment, actor: Actor
) -> None:
    # Given: 50% "green"; which side an identity lands on follows md5 of "<state id>,<key>"
    feature = feature_create(
        project=project,
        name="button",
        initial_value="blue",
        actor=actor,
        multivariate_options=[OptionSpec("green", 50.0, "green_variant")],
    )
    state_id = feature.feature_states.get(environment=environment).pk
    outcomes = {}
    for identifier in ("u1", "u2", "u3", "u4", "u5", "u6"):
        body = sdk.post(
            IDENTITIES, key=environment.api_key, json={"identifier": identifier, "traits": []}
        ).json()
        outcomes[identifier] = (
            _flag(body, "button")["feature_state_value"],
            _flag(body, "button")["variant"],
        )
    # Then
    for identifier, outcome in outcomes.items():
        digest = hashlib.md5(  # noqa: S324 (Flagsmith's bucketing, not security)
            f"{state_id},{environment.api_key}_{identifier}".encode()
        ).hexdigest()
        percentage = (int(digest, 16) % 9999) / 9998 * 100
        expected = ("green", "green_variant") if percentage < 50 else ("blue", "control")
        assert outcome == expected, identifier


def test_identify__existing_identity_unchanged_traits__only_reads(
    environment: Environment, identity: Identity
) -> None:
    # Given
    traits = [TraitInput("plan", "pro"), TraitInput("orders", 7)]
    identity_identify(
        environment_id=environment.pk,
        identifier=identity.identifier,
        traits=traits,
        transient=False,
        persist_traits=True,
    )
    # When
    with CaptureQueriesContext(connection) as queries:
        outcome = identity_identify(
            environment_id=environment.pk,
            identifier=identity.identifier,
            traits=traits,
            transient=False,
            persist_traits=True,
        )
    # Then
    statements = [q["sql"].split()[0].upper() for q in queries.captured_queries]
    assert set(statements) == {"SELECT"}
    assert len(statements) == 1  # identity, its traits and its overrides, together
    assert outcome.trait_values == {"plan": "pro", "orders": 7}


def test_post__null_trait__deletes_stored_trait(sdk: SDKClient, environment: Environment) -> None:
    sdk.post(
        IDENTITIES,
        key=environment.api_key,
        json={
            "identifier": "bob",
            "traits": [
                {"trait_key": "plan", "trait_value": "pro"},
                {"trait_key": "age", "trait_value": 40},
            ],
        },
    )
    body = sdk.post(
        IDENTITIES,
        key=environment.api_key,
        json={"identifier": "bob", "traits": [{"trait_key": "plan", "trait_value": None}]},
    ).json()
    assert [t["trait_key"] for t in body["traits"]] == ["age"]
    assert list(Trait.objects.values_list("trait_key", flat=True)) == ["age"]


def test_post__transient_identity__nothing_stored(sdk: SDKClient, environment: Environment) -> None:
    body = sdk.post(
        IDENTITIES,
        key=environment.api_key,
        json={
            "identifier": "ghost",
            "transient": True,
            "traits": [{"trait_key": "plan", "trait_value": "pro"}],
        },
    ).json()
    assert body["traits"] == [
        {"id": None, "trait_key": "plan", "trait_value": "pro", "transient": True}
    ]
    assert not Identity.objects.filter(identifier="ghost").exists()


def test_post__transient_trait__used_not_stored(sdk: SDKClient, environment: Environment) -> None:
    body = sdk.post(
        IDENTITIES,
        key=environment.api_key,
        json={
            "identifier": "bob",
            "traits": [
                {"trait_key": "plan", "trait_value": "pro"},
                {"trait_key": "colour", "trait_value": "pink", "transient": True},
            ],
        },
    ).json()
    assert {(t["trait_key"], t["transient"]) for t in body["traits"]} == {
        ("plan", False),
        ("colour", True),
    }
    assert list(Trait.objects.values_list("trait_key", flat=True)) == ["plan"]


def test_post__no_identifier__generated_from_traits_and_not_stored(
    sdk: SDKClient, environment: Environment
) -> None:
    body = sdk.post(
        IDENTITIES,
        key=environment.api_key,
        json={
            "traits": [
                {"trait_key": "b", "trait_value": 2},
                {"trait_key": "a", "trait_value": True},
            ]
        },
    ).json()
    assert body["identifier"] == hashlib.sha256(b"aTrueb2").hexdigest()
    assert not Identity.objects.exists()


def test_post__client_key_without_client_traits__traits_ignored(
    sdk: SDKClient, environment: Environment, actor: Actor
) -> None:
    environment_update(environment=environment, actor=actor, allow_client_traits=False)
    body = sdk.post(
        IDENTITIES,
        key=environment.api_key,
        json={"identifier": "bob", "traits": [{"trait_key": "plan", "trait_value": "pro"}]},
    ).json()
    assert body["traits"] == []
    assert not Trait.objects.exists()


def test_post__server_key_without_client_traits__traits_stored(
    sdk: SDKClient, environment: Environment, actor: Actor, server_key: str
) -> None:
    environment_update(environment=environment, actor=actor, allow_client_traits=False)
    sdk.post(
        IDENTITIES,
        key=server_key,
        json={"identifier": "bob", "traits": [{"trait_key": "plan", "trait_value": "pro"}]},
    )
    assert list(Trait.objects.values_list("trait_key", flat=True)) == ["plan"]


def test_post__trait_value_too_long__400_flagsmith_shape(
    sdk: SDKClient, environment: Environment
) -> None:
    reply = sdk.post(
        IDENTITIES,
        key=environment.api_key,
        json={"identifier": "bob", "traits": [{"trait_key": "bio", "trait_value": "x" * 2001}]},
    )
    assert reply.status == 400
    assert reply.json()["traits"] == [
        {"trait_value": ["Value string is too long. Must be less than 2000 character"]}
    ]
    assert not Identity.objects.exists()


def test_post__not_json__400(sdk: SDKClient, environment: Environment) -> None:
    reply = sdk.request(
        "POST",
        IDENTITIES,
        key=environment.api_key,
        headers={"Content-Type": "application/json"},
        json="just a string",
    )
    assert reply.status == 400


def test_get__identifier__evaluates_stored_traits(
    sdk: SDKClient, environment: Environment, feature: Feature, segment: Segment, actor: Actor
) -> None:
    segment_override_create(
        feature=feature,
        segment=segment,
        environment=environment,
        actor=actor,
        enabled=True,
        value="red",
    )
    sdk.post(
        IDENTITIES,
        key=environment.api_key,
        json={"identifier": "bob", "traits": [{"trait_key": "orders", "trait_value": 20}]},
    )
    reply = sdk.get(IDENTITIES, key=environment.api_key, query="identifier=bob")
    assert _flag(reply.json(), "checkout_button")["feature_state_value"] == "red"
    assert "x-flagsmith-document-updated-at" in reply.headers


def test_get__feature_query__single_flag(
    sdk: SDKClient, environment: Environment, feature: Feature
) -> None:
    reply = sdk.get(
        IDENTITIES, key=environment.api_key, query="identifier=bob&feature=checkout_button"
    )
    assert reply.json()["feature"]["name"] == "checkout_button"
    assert (
        sdk.get(IDENTITIES, key=environment.api_key, query="identifier=bob&feature=nope").status
        == 404
    )


def test_get__transient__identity_not_created(
    sdk: SDKClient, environment: Environment, feature: Feature
) -> None:
    reply = sdk.get(IDENTITIES, key=environment.api_key, query="identifier=temp&transient=true")
    assert reply.status == 200
    assert not Identity.objects.exists()


def test_get__missing_identifier__400(sdk: SDKClient, environment: Environment) -> None:
    assert sdk.get(IDENTITIES, key=environment.api_key).status == 400


def test_post__identity_override_not_in_local_eval__still_names_identity(
    sdk: SDKClient, environment: Environment, feature: Feature, identity: Identity, actor: Actor
) -> None:
    # Given: the document leaves identity overrides out of local evaluation
    environment_update(
        environment=environment, actor=actor, use_identity_overrides_in_local_eval=False
    )
    own = identity_override_create(
        feature=feature,
        identity_id=identity.pk,
        environment=environment,
        actor=actor,
        enabled=True,
        value="gold",
    )
    # When
    body = sdk.post(
        IDENTITIES, key=environment.api_key, json={"identifier": identity.identifier, "traits": []}
    ).json()
    # Then: remote evaluation still applies it, and says whose it is
    flag = _flag(body, "checkout_button")
    assert (flag["feature_state_value"], flag["id"], flag["identity"]) == (
        "gold",
        own.pk,
        identity.pk,
    )
