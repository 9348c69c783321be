"""`vexil.evaluation.explain`: every flag as the SDK gets it, with its reason, storing nothing."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from vexil.audit.services import Actor
from vexil.engine import SOURCE_DEFAULT, SOURCE_IDENTITY_OVERRIDE, SOURCE_SEGMENT
from vexil.environments.models import Environment
from vexil.environments.services import environment_update
from vexil.evaluation.evaluate import evaluate_identity
from vexil.evaluation.explain import (
    FlagPreview,
    evaluation_preview,
    identity_flags_explained,
)
from vexil.features.models import Feature
from vexil.features.services import (
    OptionSpec,
    feature_create,
    identity_override_create,
    segment_override_create,
)
from vexil.identities.identify import TraitInput
from vexil.identities.models import Identity, Trait
from vexil.identities.services import trait_create
from vexil.projects.models import Project
from vexil.sdk.snapshot import build_snapshot
from vexil.segments.models import Segment

pytestmark = pytest.mark.django_db


def _by_name(flags: list[FlagPreview]) -> dict[str, FlagPreview]:
    return {flag.feature_name: flag for flag in flags}


@pytest.fixture
def overridden(feature: Feature, segment: Segment, environment: Environment, actor: Actor) -> None:
    """`power_users` (orders >= 10) gets checkout_button "green"."""
    segment_override_create(
        feature=feature,
        segment=segment,
        environment=environment,
        actor=actor,
        enabled=True,
        value="green",
    )


def test_evaluation_preview__unknown_identifier_matching_segment__segment_reason_nothing_stored(
    overridden: None, environment: Environment
) -> None:
    # When
    preview = evaluation_preview(
        environment_id=environment.pk,
        identifier="bob",
        traits=[TraitInput("orders", 12)],
    )

    # Then
    flag = _by_name(preview.flags)["checkout_button"]
    assert (flag.value, flag.enabled) == ("green", True)
    assert flag.reason["source"] == SOURCE_SEGMENT
    assert flag.reason_text == "segment power_users"
    assert preview.identity_id is None
    assert not Identity.objects.filter(identifier="bob").exists()
    assert not Trait.objects.exists()


def test_evaluation_preview__stored_identity__given_traits_win_and_nothing_changes(
    overridden: None, environment: Environment, identity: Identity, actor: Actor
) -> None:
    # Given: stored orders=12 matches the segment
    trait_create(identity=identity, trait_key="orders", value=12, actor=actor)

    # When: a given orders=1 replaces it for this evaluation only
    stored = evaluation_preview(
        environment_id=environment.pk, identifier=identity.identifier, traits=[]
    )
    given = evaluation_preview(
        environment_id=environment.pk,
        identifier=identity.identifier,
        traits=[TraitInput("orders", 1), TraitInput("plan", "pro")],
    )

    # Then
    assert _by_name(stored.flags)["checkout_button"].value == "green"
    assert _by_name(given.flags)["checkout_button"].value == "blue"
    assert _by_name(given.flags)["checkout_button"].reason["source"] == SOURCE_DEFAULT
    assert given.identity_id == identity.pk
    assert {t.key: t.value for t in given.traits} == {"orders": 1, "plan": "pro"}
    assert list(Trait.objects.values_list("trait_key", "integer_value")) == [("orders", 12)]


def test_identity_flags_explained__identity_override__identity_override_reason(
    overridden: None,
    feature: Feature,
    environment: Environment,
    identity: Identity,
    actor: Actor,
) -> None:
    # Given: the identity matches the segment, and has its own override too
    trait_create(identity=identity, trait_key="orders", value=50, actor=actor)
    identity_override_create(
        feature=feature,
        identity_id=identity.pk,
        environment=environment,
        actor=actor,
        enabled=True,
        value="red",
    )

    # When
    preview = identity_flags_explained(environment.pk, identity.identifier)

    # Then
    flag = _by_name(preview.flags)["checkout_button"]
    assert flag.value == "red"
    assert flag.reason["source"] == SOURCE_IDENTITY_OVERRIDE
    assert flag.reason_text == "identity override"
    assert [o.feature_name for o in preview.overrides] == ["checkout_button"]


def test_evaluation_preview__multivariate__split_reason_and_sdk_value(
    project: Project, environment: Environment, actor: Actor
) -> None:
    # Given: every identity falls in the 100% variant
    feature_create(
        project=project,
        name="colour",
        initial_value="control",
        actor=actor,
        multivariate_options=[OptionSpec(value="purple", default_percentage_allocation=100)],
    )

    # When
    preview = evaluation_preview(environment_id=environment.pk, identifier="carol", traits=[])

    # Then
    flag = _by_name(preview.flags)["colour"]
    assert flag.value == "purple"
    assert flag.reason["split_weight"] == 100
    assert flag.reason_text == "default, split 100%"


def test_evaluation_preview__any_identity__equals_what_the_sdk_snapshot_serves(
    overridden: None, project: Project, environment: Environment, identity: Identity, actor: Actor
) -> None:
    # Given
    feature_create(
        project=project,
        name="colour",
        initial_value="control",
        actor=actor,
        multivariate_options=[
            OptionSpec(value="purple", default_percentage_allocation=40),
            OptionSpec(value="orange", default_percentage_allocation=30),
        ],
    )
    trait_create(identity=identity, trait_key="orders", value=12, actor=actor)
    snapshot = build_snapshot(environment.pk)

    for identifier in [identity.identifier, *(f"user-{n}" for n in range(20))]:
        # When
        preview = evaluation_preview(
            environment_id=environment.pk, identifier=identifier, traits=[]
        )

        # Then
        served = evaluate_identity(
            snapshot.compiled,
            snapshot.data,
            identifier=identifier,
            identity_id=preview.identity_id,
            traits={t.key: t.value for t in preview.traits},
            overrides=preview.overrides,
        )
        assert [(f.feature_name, f.value, f.enabled, f.variant) for f in preview.flags] == [
            (name, r["value"], r["enabled"], r["variant"]) for name, r in served.items()
        ]


def test_evaluation_preview__hide_disabled_flags__marks_disabled_hidden(
    feature: Feature, environment: Environment, actor: Actor
) -> None:
    # Given
    environment_update(environment=environment, actor=actor, hide_disabled_flags=True)

    # When
    preview = evaluation_preview(environment_id=environment.pk, identifier="dave", traits=[])

    # Then
    flag = _by_name(preview.flags)["checkout_button"]
    assert (flag.enabled, flag.hidden) == (False, True)


def _queries(environment: Environment) -> int:
    with CaptureQueriesContext(connection) as queries:
        evaluation_preview(
            environment_id=environment.pk,
            identifier="erin",
            traits=[TraitInput("orders", 3)],
        )
    return len(queries)


def test_evaluation_preview__ten_or_a_hundred_features__same_query_count(
    overridden: None, project: Project, environment: Environment, actor: Actor
) -> None:
    # Given
    for n in range(10):
        feature_create(project=project, name=f"f{n}", actor=actor)
    few = _queries(environment)
    for n in range(10, 100):
        feature_create(project=project, name=f"f{n}", actor=actor)

    # When
    many = _queries(environment)

    # Then
    assert many == few
