"""The Compare page: two environments' defaults side by side, differences marked."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from vexil.audit.services import Actor
from vexil.environments.models import Environment
from vexil.environments.services import environment_create
from vexil.features.models import Feature, FeatureState
from vexil.features.services import feature_state_update, features_bulk_create
from vexil.projects.models import Project

pytestmark = pytest.mark.django_db


@pytest.fixture
def production(project: Project, actor: Actor) -> Environment:
    return environment_create(project=project, name="Production", actor=actor)


def _url(project: Project, environment: Environment) -> str:
    return f"/projects/{project.pk}/environments/{environment.api_key}/compare/"


def test_compare__changed_feature__marked_and_filterable(
    admin_client: Client,
    project: Project,
    environment: Environment,
    production: Environment,
    feature: Feature,
    actor: Actor,
) -> None:
    features_bulk_create(project=project, specs=[{"name": "same_everywhere"}], actor=actor)
    state = FeatureState.objects.get(
        feature=feature, environment=production, identity=None, feature_segment=None
    )
    feature_state_update(feature_state=state, actor=actor, enabled=True, value="red")

    everything = admin_client.get(_url(project, environment), {"other": production.api_key})
    only = admin_client.get(
        _url(project, environment), {"other": production.api_key, "only_differences": "on"}
    )

    body = everything.content.decode()
    assert everything.status_code == 200
    assert "1 feature differs." in body
    assert "<mark>Differs</mark> (on/off) (value)" in body
    assert '<code class="value">red</code>' in body
    assert "same_everywhere" in body
    assert "same_everywhere" not in only.content.decode()


def test_compare__environment_not_visible__400_and_no_table(
    admin_client: Client, project: Project, environment: Environment, other_environment: Environment
) -> None:
    response = admin_client.get(_url(project, environment), {"other": other_environment.api_key})

    assert response.status_code == 400
    assert "<table" not in response.content.decode()


@pytest.mark.parametrize("rows", [10, 100])
def test_compare__query_count_does_not_grow_with_features(
    admin_client: Client,
    project: Project,
    environment: Environment,
    production: Environment,
    actor: Actor,
    rows: int,
) -> None:
    features_bulk_create(
        project=project, specs=[{"name": f"flag_{i:03}"} for i in range(rows)], actor=actor
    )
    query = {"other": production.api_key}
    admin_client.get(_url(project, environment), query)

    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get(_url(project, environment), query)

    assert response.status_code == 200
    assert len(queries) == 10
