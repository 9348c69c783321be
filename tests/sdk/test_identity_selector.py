"""``identity_evaluation_state``: the one hand-written read behind every identify call must
read what the models read."""

from __future__ import annotations

import pytest

from tests.sdk.conftest import (
    OVERRIDE_VALUES,
    STORED_TRAIT_TYPES,
    store_every_trait_type_and_an_override,
)
from vexil.audit.services import Actor
from vexil.environments.models import Environment
from vexil.environments.services import environment_create
from vexil.features.models import Feature, FeatureState
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


@pytest.mark.parametrize("override_value", OVERRIDE_VALUES, ids=repr)
def test_state__traits_and_overrides__as_the_models_read_them(
    environment: Environment,
    identity: Identity,
    feature: Feature,
    actor: Actor,
    override_value: object,
) -> None:
    # Given: every trait type, and an override of every value type
    store_every_trait_type_and_an_override(environment, identity, feature, actor, override_value)
    # When
    state = identity_evaluation_state(environment.pk, identity.identifier)
    # Then
    assert state is not None
    expected_traits = [
        StoredTrait(t.pk, t.trait_key, t.trait_value)  # type: ignore[arg-type]
        for t in Trait.objects.filter(identity=identity).order_by("id")
    ]
    assert state.traits == expected_traits
    assert [type(t.value) for t in state.traits] == STORED_TRAIT_TYPES
    row = FeatureState.objects.get(identity=identity)
    assert state.overrides == [StoredOverride(row.pk, feature.pk, feature.name, True, row.value)]
    assert type(state.overrides[0].value) is type(row.value)


def test_state__other_environment_same_identifier__not_read(
    environment: Environment, identity: Identity, actor: Actor
) -> None:
    other = environment_create(project=environment.project, name="Other", actor=actor)
    assert identity_evaluation_state(other.pk, identity.identifier) is None
