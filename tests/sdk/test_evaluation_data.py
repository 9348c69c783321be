"""Flag analytics read back through the management API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rest_framework.test import APIClient

from vexil.analytics.models import FeatureEvaluationCount
from vexil.analytics.services import feature_evaluations_record
from vexil.environments.models import Environment
from vexil.features.models import Feature
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
