"""Hashing inputs kept from Flagsmith: an imported (renumbered) environment buckets every identity
exactly as the source does, for stored and transient identities, remotely and in the document.

The source is a Flagsmith environment document written from the protocol notes (§1.9), with
Flagsmith's ids; the expected flags are the engine's evaluation of that document, as an SDK
evaluating it locally (or Flagsmith itself) gets them.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.sdk.conftest import SDKClient
from vexil.audit.services import Actor
from vexil.engine import compile_environment
from vexil.environments.services import environment_create
from vexil.evaluation.context import environment_context
from vexil.evaluation.document import build_environment_data
from vexil.features.models import FeatureState, MultivariateFeatureOption
from vexil.features.services import (
    Allocation,
    OptionSpec,
    feature_create,
    segment_override_create,
)
from vexil.identities.services import identity_create
from vexil.importer.hashing import (
    feature_state_hashing_ids_set,
    identity_hashing_id_set,
    segment_hashing_id_set,
)
from vexil.projects.models import Project
from vexil.segments.services import segment_create

CLIENT_KEY = "K6xVbZ7nYq3bQeW3sA8u2d"
IDENTIFIERS = [f"user-{n}" for n in range(300)]


def _mv(value_id: int, option_id: int, value: str, weight: float, key: str | None) -> Any:
    return {
        "id": value_id,
        "mv_fs_value_uuid": f"0a6c7e0e-2f7b-4f7e-9b1e-{value_id:012d}",
        "percentage_allocation": weight,
        "multivariate_feature_option": {"id": option_id, "value": value, "key": key},
    }


def _state(django_id: int, feature_id: int, name: str, value: Any, mv: list[Any]) -> Any:
    return {
        "django_id": django_id,
        "featurestate_uuid": f"c1d2e3f4-1111-4222-8333-{django_id:012d}",
        "feature": {"id": feature_id, "name": name, "type": "MULTIVARIATE" if mv else "STANDARD"},
        "enabled": True,
        "feature_state_value": value,
        "feature_segment": None,
        "multivariate_feature_state_values": mv,
    }


def _source_document(*, composite: bool = True) -> dict[str, Any]:
    """Flagsmith's document: a 30/30 split seeded by state 502 (green's allocation 7001 before
    red's 7002), a 50% split segment (id 101) and a segment override with its own 50/50 split."""
    override = _state(
        901,
        2,
        "checkout_button",
        "purple",
        [_mv(9001, 62, "red", 50.0, None), _mv(9002, 61, "green", 50.0, "green_button")],
    )
    override["feature_segment"] = {"priority": 0}
    banner = _state(903, 1, "banner_text", "half", [])
    banner["feature_segment"] = {"priority": 0}
    split = {"operator": "PERCENTAGE_SPLIT", "property_": None, "value": "50"}
    orders = {"operator": "GREATER_THAN_INCLUSIVE", "property_": "orders", "value": "10"}
    return {
        "id": 12,
        "api_key": CLIENT_KEY,
        "name": "Production",
        "use_identity_composite_key_for_hashing": composite,
        "project": {
            "segments": [
                {
                    "id": 101,
                    "name": "half",
                    "rules": [{"type": "ALL", "rules": [], "conditions": [split]}],
                    "feature_states": [banner],
                },
                {
                    "id": 102,
                    "name": "power_users",
                    "rules": [{"type": "ALL", "rules": [], "conditions": [orders]}],
                    "feature_states": [override],
                },
            ]
        },
        "feature_states": [
            _state(501, 1, "banner_text", "Hello", []),
            _state(
                502,
                2,
                "checkout_button",
                "blue",
                [_mv(7001, 61, "green", 30.0, "green_button"), _mv(7002, 62, "red", 30.0, None)],
            ),
        ],
    }


def _source_flags(identifier: str, traits: dict[str, Any], identity_key: str | None = None) -> Any:
    compiled = compile_environment(environment_context(_source_document()))
    identity = {"identifier": identifier, "traits": traits}
    if identity_key is not None:
        identity["key"] = identity_key
    flags = compiled.evaluate_flags(identity)
    return {name: (f["enabled"], f["value"]) for name, f in flags.items()}


def _renumbered_import(project: Project, actor: Actor, *, keep_hashing_ids: bool) -> Any:
    """The source rebuilt through Vexil's services: every id differs from Flagsmith's (objects
    are made in another order, after unrelated ones); the options are even created red first."""
    for n in range(3):
        segment_create(project=project, name=f"filler{n}", rules=[], actor=actor)
    environment = environment_create(
        project=project, name="Production", actor=actor, api_key=CLIENT_KEY
    )
    checkout = feature_create(
        project=project,
        name="checkout_button",
        initial_value="blue",
        default_enabled=True,
        actor=actor,
        multivariate_options=[
            OptionSpec("red", 30.0),
            OptionSpec("green", 30.0, key="green_button"),
        ],
    )
    banner = feature_create(
        project=project,
        name="banner_text",
        initial_value="Hello",
        default_enabled=True,
        actor=actor,
    )
    red, green = MultivariateFeatureOption.objects.filter(feature=checkout).order_by("id")
    power = segment_create(
        project=project,
        name="power_users",
        rules=[
            {
                "type": "ALL",
                "conditions": [
                    {"operator": "GREATER_THAN_INCLUSIVE", "property": "orders", "value": "10"}
                ],
            }
        ],
        actor=actor,
    )
    half = segment_create(
        project=project,
        name="half",
        rules=[{"type": "ALL", "conditions": [{"operator": "PERCENTAGE_SPLIT", "value": "50"}]}],
        actor=actor,
    )
    power_override = segment_override_create(
        feature=checkout,
        segment=power,
        environment=environment,
        actor=actor,
        enabled=True,
        value="purple",
        allocations=[Allocation(red, 50.0), Allocation(green, 50.0)],
    )
    segment_override_create(
        feature=banner,
        segment=half,
        environment=environment,
        actor=actor,
        enabled=True,
        value="half",
    )
    if keep_hashing_ids:
        segment_hashing_id_set(segment=half, hashing_id=101)
        segment_hashing_id_set(segment=power, hashing_id=102)
        default = FeatureState.objects.get(
            feature=checkout, environment=environment, identity=None, feature_segment=None
        )
        feature_state_hashing_ids_set(
            state=default, hashing_id=502, allocation_ids={green.pk: 7001, red.pk: 7002}
        )
        feature_state_hashing_ids_set(
            state=power_override, hashing_id=901, allocation_ids={red.pk: 9001, green.pk: 9002}
        )
    return environment


def _vexil_flags(sdk: SDKClient, identifier: str, traits: dict[str, Any], **extra: Any) -> Any:
    body = {
        "identifier": identifier,
        "traits": [{"trait_key": k, "trait_value": v} for k, v in traits.items()],
        **extra,
    }
    reply = sdk.post("/api/v1/identities/", key=CLIENT_KEY, json=body)
    assert reply.status == 200, reply.body
    return {
        f["feature"]["name"]: (f["enabled"], f["feature_state_value"])
        for f in reply.json()["flags"]
    }


def _traits(n: int) -> dict[str, Any]:
    return {"orders": n % 20}


def test_renumbered_import__hashing_ids_kept__every_identity_in_the_source_bucket(
    sdk: SDKClient, project: Project, actor: Actor
) -> None:
    # Given
    _renumbered_import(project, actor, keep_hashing_ids=True)
    # When: transient identities, then stored ones
    transient = [
        _vexil_flags(sdk, identifier, _traits(n), transient=True)
        for n, identifier in enumerate(IDENTIFIERS)
    ]
    stored = [_vexil_flags(sdk, identifier, _traits(n)) for n, identifier in enumerate(IDENTIFIERS)]
    # Then
    expected = [_source_flags(identifier, _traits(n)) for n, identifier in enumerate(IDENTIFIERS)]
    assert transient == expected
    assert stored == expected
    # and the splits were really exercised: both halves, and every variant
    served = {flags["checkout_button"][1] for flags in expected}
    assert served == {"blue", "green", "red"}  # the override's 50/50 split leaves no control
    assert {flags["banner_text"][1] for flags in expected} == {"Hello", "half"}


def test_renumbered_import__hashing_ids_not_kept__identities_change_bucket(
    sdk: SDKClient, project: Project, actor: Actor
) -> None:
    """The control: Vexil's own ids put many identities elsewhere (why the ids are kept)."""
    _renumbered_import(project, actor, keep_hashing_ids=False)
    flags = [
        _vexil_flags(sdk, identifier, _traits(n), transient=True)
        for n, identifier in enumerate(IDENTIFIERS)
    ]
    expected = [_source_flags(identifier, _traits(n)) for n, identifier in enumerate(IDENTIFIERS)]
    moved = sum(1 for got, want in zip(flags, expected, strict=True) if got != want)
    assert moved > 50


@pytest.mark.django_db
def test_document__hashing_ids_kept__flagsmith_ids_where_sdks_hash(
    project: Project, actor: Actor
) -> None:
    # Given
    environment = _renumbered_import(project, actor, keep_hashing_ids=True)
    # When
    document = build_environment_data(environment.pk).document
    # Then: local evaluation in an SDK hashes on exactly the source's ids
    assert document["api_key"] == CLIENT_KEY
    segments = {s["name"]: s for s in document["project"]["segments"]}
    assert segments["half"]["id"] == 101
    assert segments["power_users"]["id"] == 102
    checkout = next(
        s for s in document["feature_states"] if s["feature"]["name"] == "checkout_button"
    )
    assert checkout["django_id"] == 502
    assert [
        (v["id"], v["multivariate_feature_option"]["value"])
        for v in checkout["multivariate_feature_state_values"]
    ] == [(7001, "green"), (7002, "red")]
    override = segments["power_users"]["feature_states"][0]
    assert override["django_id"] == 901
    assert [v["id"] for v in override["multivariate_feature_state_values"]] == [9001, 9002]
    # and the document, evaluated as an SDK evaluates it, agrees with the source
    compiled = compile_environment(environment_context(document))
    for n, identifier in enumerate(IDENTIFIERS[:100]):
        flags = compiled.evaluate_flags({"identifier": identifier, "traits": _traits(n)})
        got = {name: (f["enabled"], f["value"]) for name, f in flags.items()}
        assert got == _source_flags(identifier, _traits(n))


def test_identity_hashing_id__environment_hashing_on_identity_ids__flagsmith_id_hashed(
    sdk: SDKClient, project: Project, actor: Actor
) -> None:
    # Given: an environment that hashes stored identities on their id, and an identity that
    # was 4242 in Flagsmith
    environment = _renumbered_import(project, actor, keep_hashing_ids=True)
    environment.use_identity_composite_key_for_hashing = False
    environment.save(update_fields=["use_identity_composite_key_for_hashing"])
    flagsmith_ids = {identifier: 4000 + n for n, identifier in enumerate(IDENTIFIERS[:60])}
    for identifier, flagsmith_id in flagsmith_ids.items():
        identity = identity_create(environment=environment, identifier=identifier, actor=actor)
        identity_hashing_id_set(identity=identity, hashing_id=flagsmith_id)
    # When
    got = {identifier: _vexil_flags(sdk, identifier, {}) for identifier in flagsmith_ids}
    # Then
    expected = {
        identifier: _source_flags(identifier, {}, identity_key=str(flagsmith_id))
        for identifier, flagsmith_id in flagsmith_ids.items()
    }
    assert got == expected
    assert expected != {identifier: _source_flags(identifier, {}) for identifier in flagsmith_ids}


def test_source_document__is_not_modified_by_mapping() -> None:
    """Guard for the helpers above: mapping a document leaves it as it was."""
    document = _source_document()
    before = copy.deepcopy(document)
    environment_context(document)
    assert document == before
