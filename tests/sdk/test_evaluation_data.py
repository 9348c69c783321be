"""Flag analytics read back through the management API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rest_framework.test import APIClient

from vexil.analytics.models import FeatureEvaluationCount
from vexil.analytics.services import feature_evaluations_record
from vexil.audit.services import Actor
from vexil.environments.models import Environment
from vexil.features.models import Feature
from vexil.features.services import feature_create, feature_delete
from vexil.projects.models import Project
from vexil.users.models import User


def _url(project: Project, feature: Feature, environment: Environment, period: int = 3) -> str:
    return (
        f"/api/v1/projects/{project.pk}/features/{feature.pk}/evaluation-data/"
        f"?environment_id={environment.pk}&period={period}"
    )


def test_evaluation_data__counts__per_day_with_zeros(
    api_client: APIClient,
    organisation_admin: User,
    project: Project,
    environment: Environment,
    feature: Feature,
) -> None:
    # Given: 5 + 7 evaluations today (two hours), 2 yesterday
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    today = now.replace(hour=0)
    feature_evaluations_record(
        counts={
            (environment.pk, feature.pk, today): 5,
            (environment.pk, feature.pk, today + timedelta(hours=1)): 7,
            (environment.pk, feature.pk, today - timedelta(hours=3)): 2,
        }
    )
    api_client.force_authenticate(organisation_admin)
    # When
    reply = api_client.get(_url(project, feature, environment))
    # Then
    day = today.date()
    assert reply.status_code == 200
    assert reply.json() == [
        {"day": (day - timedelta(days=2)).isoformat(), "count": 0},
        {"day": (day - timedelta(days=1)).isoformat(), "count": 2},
        {"day": day.isoformat(), "count": 12},
    ]


def test_evaluation_data__other_tenant__404(
    api_client: APIClient,
    other_admin: User,
    project: Project,
    environment: Environment,
    feature: Feature,
) -> None:
    api_client.force_authenticate(other_admin)
    assert api_client.get(_url(project, feature, environment)).status_code == 404


def test_evaluation_data__missing_environment__400(
    api_client: APIClient, organisation_admin: User, project: Project, feature: Feature
) -> None:
    api_client.force_authenticate(organisation_admin)
    reply = api_client.get(f"/api/v1/projects/{project.pk}/features/{feature.pk}/evaluation-data/")
    assert reply.status_code == 400
    assert "environment_id" in reply.json()


def test_record__same_bucket_twice__adds(environment: Environment, feature: Feature) -> None:
    hour = datetime(2026, 1, 1, 10, tzinfo=UTC)
    feature_evaluations_record(counts={(environment.pk, feature.pk, hour): 3})
    feature_evaluations_record(counts={(environment.pk, feature.pk, hour): 4})
    assert FeatureEvaluationCount.objects.get().count == 7


def test_record__feature_deleted_since_counted__its_bucket_dropped_others_stored(
    environment: Environment, feature: Feature, project: Project, actor: Actor
) -> None:
    # Given: counts buffered for a feature that is deleted before the flush
    gone = feature_create(project=project, name="short_lived", actor=actor)
    gone_id = gone.pk
    feature_delete(feature=gone, actor=actor)
    hour = datetime(2026, 1, 1, 10, tzinfo=UTC)
    # When
    feature_evaluations_record(
        counts={
            (environment.pk, feature.pk, hour): 3,
            (environment.pk, gone_id, hour): 5,
        }
    )
    # Then: the batch is not poisoned; what can be stored is stored once
    assert list(FeatureEvaluationCount.objects.values_list("feature_id", "count")) == [
        (feature.pk, 3)
    ]
