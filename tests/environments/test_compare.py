"""`environments_compare`: two environments' defaults side by side, in four queries."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from vexil.audit.services import Actor
from vexil.environments.models import Environment
from vexil.environments.selectors import FeatureComparison, environments_compare
from vexil.environments.services import environment_create
from vexil.features.models import Feature, FeatureState
from vexil.features.services import (
    OptionSpec,
    feature_create,
    feature_state_update,
    segment_override_create,
)
from vexil.projects.models import Project
from vexil.segments.models import Segment

pytestmark = pytest.mark.django_db


@pytest.fixture
def production(project: Project, actor: Actor) -> Environment:
    return environment_create(project=project, name="Production", actor=actor)


def _state(feature: Feature, environment: Environment) -> FeatureState:
    return FeatureState.objects.get(
        feature=feature, environment=environment, identity=None, feature_segment=None
    )


def _by_name(rows: list[FeatureComparison]) -> dict[str, FeatureComparison]:
    return {row.feature_name: row for row in rows}


def test_environments_compare__untouched__nothing_differs(
    feature: Feature, environment: Environment, production: Environment
) -> None:
    # When
    row = _by_name(environments_compare(environment, production))["checkout_button"]

    # Then
    assert row.left is not None
    assert row.right is not None
    assert (row.left.enabled, row.left.value) == (False, "blue")
    assert not row.differs


def test_environments_compare__enabled_and_value_changed__differs_on_both(
    feature: Feature, environment: Environment, production: Environment, actor: Actor
) -> None:
    # Given
    feature_state_update(
        feature_state=_state(feature, production), actor=actor, enabled=True, value="red"
    )

    # When
    row = _by_name(environments_compare(environment, production))["checkout_button"]

    # Then
    assert row.right is not None
    assert (row.right.enabled, row.right.value) == (True, "red")
    assert (row.differs, row.enabled_differs, row.value_differs) == (True, True, True)


def test_environments_compare__one_and_true__differ(
    project: Project, environment: Environment, production: Environment, actor: Actor
) -> None:
    # Given: equal in Python, but an SDK reads an integer and a boolean
    flag = feature_create(project=project, name="limit", initial_value=1, actor=actor)
    feature_state_update(feature_state=_state(flag, production), actor=actor, value=True)

    # When
    row = _by_name(environments_compare(environment, production))["limit"]

    # Then
    assert (row.differs, row.value_differs, row.enabled_differs) == (True, True, False)


def test_environments_compare__segment_override_in_one__differs(
    feature: Feature,
    segment: Segment,
    environment: Environment,
    production: Environment,
    actor: Actor,
) -> None:
    # Given
    segment_override_create(
        feature=feature, segment=segment, environment=production, actor=actor, value="x"
    )

    # When
    row = _by_name(environments_compare(environment, production))["checkout_button"]

    # Then
    assert row.right is not None
    assert row.right.segment_overrides == 1
    assert (row.differs, row.value_differs) == (True, False)


def test_environments_compare__multivariate_allocations__listed_per_side(
    project: Project, environment: Environment, production: Environment, actor: Actor
) -> None:
    # Given
    flag = feature_create(
        project=project,
        name="colour",
        initial_value="grey",
        actor=actor,
        multivariate_options=[OptionSpec(value="red", default_percentage_allocation=30)],
    )

    # When
    row = _by_name(environments_compare(environment, production))["colour"]

    # Then
    assert row.left is not None
    assert row.left.allocations == (("red", 30.0),)
    assert not row.differs
    assert flag.pk == row.feature_id


def test_environments_compare__other_project__refused(
    environment: Environment, other_environment: Environment
) -> None:
    with pytest.raises(ValueError, match="one project"):
        environments_compare(environment, other_environment)


def _queries(left: Environment, right: Environment) -> int:
    with CaptureQueriesContext(connection) as queries:
        environments_compare(left, right)
    return len(queries)


def test_environments_compare__ten_or_a_hundred_features__same_query_count(
    project: Project, environment: Environment, production: Environment, actor: Actor
) -> None:
    # Given
    for n in range(10):
        feature_create(
            project=project,
            name=f"f{n}",
            actor=actor,
            multivariate_options=[OptionSpec(value="a", default_percentage_allocation=10)],
        )
    few = _queries(environment, production)
    for n in range(10, 100):
        feature_create(project=project, name=f"f{n}", actor=actor)

    # When
    many = _queries(environment, production)

    # Then
    assert many == few == 4
