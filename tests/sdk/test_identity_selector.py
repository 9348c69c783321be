"""``identity_evaluation_state``: the one hand-written read behind every identify call must
read what the models read."""

from __future__ import annotations

import pytest

from vexil.audit.services import Actor
from vexil.environments.models import Environment
from vexil.environments.services import environment_create
from vexil.features.models import Feature, FeatureState
from vexil.features.services import identity_override_create
from vexil.identities.identify import TraitInput, identity_identify
from vexil.identities.models import Identity, Trait
from vexil.identities.selectors import (
    StoredOverride,
    StoredTrait,
    identity_evaluation_state,
)

pytestmark = pytest.mark.django_db


def test_state__unknown_identifier__none(environment: Environment) -> None:
    assert identity_evaluation_state(environment.pk, "nobody") is None


def test_state__no_traits_no_overrides__identity_only(
    environment: Environment, identity: Identity
) -> None:
    state = identity_evaluation_state(environment.pk, identity.identifier)
    assert state is not None
    assert (state.identity_id, state.traits, state.overrides) == (identity.pk, [], [])


@pytest.mark.parametrize(
    "override_value", ["text", 0, 42, True, False, None], ids=lambda v: repr(v)
)
def test_state__traits_and_overrides__as_the_models_read_them(
    environment: Environment,
    identity: Identity,
    feature: Feature,
    actor: Actor,
    override_value: object,
) -> None:
    # Given: every trait type, and an override of every value type
    identity_identify(
        environment_id=environment.pk,
        identifier=identity.identifier,
        traits=[
            TraitInput("s", "pro"),
            TraitInput("i", 7),
            TraitInput("f", 1.5),
            TraitInput("t", True),
            TraitInput("b", False),
            TraitInput("z", 0),
        ],
        transient=False,
        persist_traits=True,
    )
    identity_override_create(
        feature=feature,
        identity_id=identity.pk,
        environment=environment,
        actor=actor,
        enabled=True,
        value=override_value,  # type: ignore[arg-type]
    )
    # When
    state = identity_evaluation_state(environment.pk, identity.identifier)
    # Then
    assert state is not None
    expected_traits = [
        StoredTrait(t.pk, t.trait_key, t.trait_value)  # type: ignore[arg-type]
        for t in Trait.objects.filter(identity=identity).order_by("id")
    ]
    assert state.traits == expected_traits
    assert [type(t.value) for t in state.traits] == [str, int, float, bool, bool, int]
    row = FeatureState.objects.get(identity=identity)
    assert state.overrides == [StoredOverride(row.pk, feature.pk, feature.name, True, row.value)]
    assert type(state.overrides[0].value) is type(row.value)


def test_state__other_environment_same_identifier__not_read(
    environment: Environment, identity: Identity, actor: Actor
) -> None:
    other = environment_create(project=environment.project, name="Other", actor=actor)
    assert identity_evaluation_state(other.pk, identity.identifier) is None
