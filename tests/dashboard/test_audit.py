"""The audit log pages: organisation, project and environment; filters, pages and diffs."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from vexil.audit.models import AuditAction, AuditLog
from vexil.audit.services import Actor, audit_record
from vexil.environments.models import Environment
from vexil.features.models import Feature, FeatureState
from vexil.features.services import feature_state_update
from vexil.organisations.models import Organisation
from vexil.projects.models import Project
from vexil.segments.models import Segment
from vexil.segments.services import segment_update
from vexil.users.models import User

pytestmark = pytest.mark.django_db


def _environment_url(project: Project, environment: Environment) -> str:
    return f"/projects/{project.pk}/environments/{environment.api_key}/audit/"


def test_environment_audit__state_change__readable_diff(
    admin_client: Client,
    project: Project,
    environment: Environment,
    feature: Feature,
    actor: Actor,
) -> None:
    state = FeatureState.objects.get(
        feature=feature, environment=environment, identity=None, feature_segment=None
    )
    feature_state_update(feature_state=state, actor=actor, enabled=True, value="red")

    body = admin_client.get(_environment_url(project, environment)).content.decode()

    assert "Updated by owner@example.com" in body
    assert "<del><code>&quot;blue&quot;</code></del>" in body
    assert "<ins><code>&quot;red&quot;</code></ins>" in body
    assert "<del><code>false</code></del>" in body


def test_project_audit__type_filter_and_bad_dates(
    admin_client: Client, project: Project, feature: Feature
) -> None:
    url = f"/projects/{project.pk}/audit/"

    features = admin_client.get(url, {"type": "feature"}).content.decode()
    environments = admin_client.get(url, {"type": "environment"}).content.decode()
    backwards = admin_client.get(url, {"date_from": "2026-03-10", "date_to": "2026-03-01"})

    assert "Feature &#x27;checkout_button&#x27; created" in features
    assert "checkout_button" not in environments
    assert backwards.status_code == 400
    assert "The end date is before the start date." in backwards.content.decode()


def test_organisation_audit__pages_with_a_cursor(
    admin_client: Client, organisation: Organisation, actor: Actor
) -> None:
    for n in range(60):
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            resource_type="tag",
            resource_id=n,
            log=f"row {n:02}",
            organisation_id=organisation.pk,
        )
    url = f"/organisations/{organisation.pk}/audit/"

    first = admin_client.get(url, {"type": "tag"}).content.decode()
    cursor = first.split("before=")[1].split('"')[0]
    second = admin_client.get(url, {"type": "tag", "before": cursor}).content.decode()
    forged = admin_client.get(url, {"before": "nonsense"})

    assert "row 59" in first
    assert "row 09" not in first
    assert "row 09" in second
    assert "row 59" not in second
    assert forged.status_code == 400


def test_audit__viewer_without_audit_permission__403(
    viewer_client: Client, organisation: Organisation, project: Project, environment: Environment
) -> None:
    responses = [
        viewer_client.get(f"/organisations/{organisation.pk}/audit/"),
        viewer_client.get(f"/projects/{project.pk}/audit/"),
        viewer_client.get(_environment_url(project, environment)),
    ]

    assert [r.status_code for r in responses] == [403, 403, 403]


def test_audit__other_tenant__404(admin_client: Client, other_project: Project) -> None:
    assert admin_client.get(f"/projects/{other_project.pk}/audit/").status_code == 404


@pytest.mark.parametrize("rows", [10, 100])
def test_audit__query_count_does_not_grow_with_rows(
    admin_client: Client, organisation: Organisation, organisation_admin: User, rows: int
) -> None:
    AuditLog.objects.bulk_create(
        AuditLog(
            organisation=organisation,
            author=organisation_admin,
            action=AuditAction.UPDATE,
            resource_type="feature",
            resource_id=str(n),
            log=f"row {n}",
            before={"enabled": False},
            after={"enabled": True},
        )
        for n in range(rows)
    )
    url = f"/organisations/{organisation.pk}/audit/"
    admin_client.get(url)

    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get(url)

    assert response.status_code == 200
    assert len(queries) == 7


def test_project_audit__rules_diff__lines_marked_and_escaped(
    admin_client: Client, project: Project, segment: Segment, actor: Actor
) -> None:
    rules = [
        {"type": "ALL", "conditions": [{"operator": "EQUAL", "property": "x", "value": "<b>"}]}
    ]
    segment_update(segment=segment, actor=actor, rules=rules)

    body = admin_client.get(f"/projects/{project.pk}/audit/").content.decode()

    assert "<ins>+         &quot;value&quot;: &quot;&lt;b&gt;&quot;</ins>" in body
    assert "&quot;property&quot;: &quot;orders&quot;,</del>" in body
    assert "<b>" not in body
