"""CSV and XLSX exports of the audit log and of an environment's feature list, opened with the
csv module and openpyxl as a user's spreadsheet program would."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from vexil.audit.models import AuditAction, AuditLog
from vexil.audit.selectors import EXPORT_COLUMNS
from vexil.audit.services import Actor
from vexil.environments.models import Environment
from vexil.features.models import Feature
from vexil.features.selectors import FEATURE_EXPORT_COLUMNS, environment_feature_export_rows
from vexil.features.services import (
    feature_create,
    feature_owners_add,
    feature_update,
    segment_override_create,
)
from vexil.organisations.models import Organisation
from vexil.projects.models import Project
from vexil.segments.models import Segment
from vexil.tags.services import tag_create
from vexil.users.models import User
from vexil.users.services import auth_token_issue

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def client(organisation_admin: User) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Token {auth_token_issue(user=organisation_admin)}")


def _body(response: Any) -> bytes:
    assert response.status_code == 200, response.content
    return b"".join(response.streaming_content)


def _csv(response: Any) -> list[list[str]]:
    return list(csv.reader(io.StringIO(_body(response).decode())))


def _xlsx(response: Any) -> list[list[Any]]:
    workbook = load_workbook(io.BytesIO(_body(response)), read_only=True)
    return [list(row) for row in workbook.worksheets[0].iter_rows(values_only=True)]


# --- Audit log ----------------------------------------------------------------------------------
@pytest.fixture
def audit_rows(organisation: Organisation, project: Project, organisation_admin: User) -> int:
    AuditLog.objects.bulk_create(
        AuditLog(
            organisation=organisation,
            project=project,
            author=organisation_admin,
            action=AuditAction.UPDATE,
            resource_type="feature",
            resource_id=str(index),
            log=f"Feature {index} updated",
        )
        for index in range(120)
    )
    return AuditLog.objects.filter(organisation=organisation).count()


def test_audit_export__csv_by_format_param__every_row_unpaginated(
    client: Client, organisation: Organisation, audit_rows: int
) -> None:
    response = client.get(f"/api/v1/organisations/{organisation.pk}/audit/?format=csv")

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="audit-log.csv"'
    table = _csv(response)
    assert table[0] == list(EXPORT_COLUMNS)
    assert len(table) == audit_rows + 1
    newest = table[1]
    assert newest[2] == "owner@example.com"
    assert newest[4:8] == ["UPDATE", "feature", "119", "Feature 119 updated"]
    expected_ids = list(
        AuditLog.objects.filter(organisation=organisation)
        .order_by("-created_date", "-id")
        .values_list("id", flat=True)
    )
    assert [int(row[0]) for row in table[1:]] == expected_ids


def test_audit_export__xlsx_by_accept_header__opens_with_the_rows(
    client: Client, organisation: Organisation, audit_rows: int
) -> None:
    response = client.get(f"/api/v1/organisations/{organisation.pk}/audit/", HTTP_ACCEPT=XLSX)

    assert response["Content-Type"] == XLSX
    rows = _xlsx(response)
    assert rows[0] == list(EXPORT_COLUMNS)
    assert len(rows) == audit_rows + 1
    assert rows[1][4:8] == ["UPDATE", "feature", "119", "Feature 119 updated"]
    assert isinstance(rows[1][0], int)


def test_audit_export__format_param_and_json_accept__format_wins(
    client: Client, organisation: Organisation, audit_rows: int
) -> None:
    response = client.get(
        f"/api/v1/organisations/{organisation.pk}/audit/?format=csv", HTTP_ACCEPT="application/json"
    )

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert len(_csv(response)) == audit_rows + 1


def test_audit_export__refused__json_error_shape(organisation: Organisation) -> None:
    response = Client().get(f"/api/v1/organisations/{organisation.pk}/audit/?format=xlsx")

    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    assert set(response.json()) == {"detail", "code"}


def test_audit_export__filters_apply(
    client: Client, organisation: Organisation, audit_rows: int
) -> None:
    response = client.get(
        f"/api/v1/organisations/{organisation.pk}/audit/?format=csv&search=Feature 11"
    )

    logs = sorted(row[7] for row in _csv(response)[1:])
    assert logs == sorted(f"Feature {i} updated" for i in [11, *range(110, 120)])


def test_audit_export__formula_in_a_cell__escaped(
    client: Client, organisation: Organisation, organisation_admin: User
) -> None:
    AuditLog.objects.create(
        organisation=organisation,
        action=AuditAction.CREATE,
        resource_type="tag",
        resource_id="1",
        log='=HYPERLINK("http://example.com","click")',
    )

    table = _csv(client.get(f"/api/v1/organisations/{organisation.pk}/audit/?format=csv"))
    rows = _xlsx(client.get(f"/api/v1/organisations/{organisation.pk}/audit/?format=xlsx"))

    assert table[1][7] == '\'=HYPERLINK("http://example.com","click")'
    assert rows[1][7] == '\'=HYPERLINK("http://example.com","click")'


def test_audit_export__xlsx_cell_too_long__406_json_and_csv_still_whole(
    client: Client, organisation: Organisation
) -> None:
    # Given a log line longer than a spreadsheet cell can hold
    long_log = "x" * 40_000
    AuditLog.objects.create(
        organisation=organisation,
        action=AuditAction.UPDATE,
        resource_type="feature",
        resource_id="1",
        log=long_log,
    )
    url = f"/api/v1/organisations/{organisation.pk}/audit/"

    # When it is exported as XLSX, then as CSV
    refused = client.get(f"{url}?format=xlsx")
    table = _csv(client.get(f"{url}?format=csv"))

    # Then the XLSX is refused before any byte of a file, in the house shape; the CSV has it whole
    assert refused.status_code == 406
    assert refused["Content-Type"] == "application/json"
    assert refused.json()["code"] == "not_acceptable"
    assert "32,767" in refused.json()["detail"]
    assert "Content-Disposition" not in refused
    assert table[1][7] == long_log


def test_audit_export__xlsx__sent_with_its_length(
    client: Client, organisation: Organisation, audit_rows: int
) -> None:
    response = client.get(f"/api/v1/organisations/{organisation.pk}/audit/?format=xlsx")

    assert response["Content-Disposition"] == 'attachment; filename="audit-log.xlsx"'
    assert int(response["Content-Length"]) == len(_body(response))


def test_audit_export__other_tenant__404_no_rows(
    organisation: Organisation, audit_rows: int
) -> None:
    stranger = User.objects.create_user(email="stranger@example.com", password="x")
    client = Client(HTTP_AUTHORIZATION=f"Token {auth_token_issue(user=stranger)}")

    response = client.get(f"/api/v1/organisations/{organisation.pk}/audit/?format=csv")

    assert response.status_code == 404
    assert b"Feature" not in response.content


def test_audit_json__unchanged__paginated(
    client: Client, organisation: Organisation, audit_rows: int
) -> None:
    response = client.get(f"/api/v1/organisations/{organisation.pk}/audit/")

    assert response.status_code == 200
    assert response.json()["count"] == audit_rows
    assert len(response.json()["results"]) == 10


# --- Feature list of an environment --------------------------------------------------------------
@pytest.fixture
def catalogue(
    project: Project,
    environment: Environment,
    feature: Feature,
    segment: Segment,
    organisation_admin: User,
    actor: Actor,
) -> None:
    tag = tag_create(project=project, label="checkout", actor=actor)
    feature_update(feature=feature, actor=actor, tags=[tag])
    feature_owners_add(feature=feature, user_ids=[organisation_admin.pk], actor=actor)
    segment_override_create(
        feature=feature,
        segment=segment,
        environment=environment,
        actor=actor,
        enabled=True,
        value="gold",
    )
    feature_create(
        project=project, name="archived_banner", initial_value=7, is_archived=True, actor=actor
    )


@pytest.mark.usefixtures("catalogue")
def test_feature_export__xlsx__one_row_per_feature(
    client: Client, environment: Environment
) -> None:
    response = client.get(f"/api/v1/environments/{environment.api_key}/feature-export/?format=xlsx")

    assert response["Content-Disposition"] == (
        f'attachment; filename="features-{environment.api_key}.xlsx"'
    )
    rows = _xlsx(response)
    assert rows == [
        list(FEATURE_EXPORT_COLUMNS),
        ["archived_banner", "STANDARD", False, 7, None, None, None, None, True],
        [
            "checkout_button",
            "STANDARD",
            False,
            "blue",
            "checkout",
            "owner@example.com",
            "power_users: on, 'gold'",
            None,
            False,
        ],
    ]


@pytest.mark.parametrize("features", [2, 20])
def test_feature_export_rows__tagged_and_owned_features__queries_do_not_grow(
    project: Project,
    environment: Environment,
    organisation_admin: User,
    actor: Actor,
    features: int,
) -> None:
    # Given features that each have a tag and an owner
    tag = tag_create(project=project, label="checkout", actor=actor)
    for index in range(features):
        feature = feature_create(project=project, name=f"flag_{index:02}", actor=actor)
        feature_update(feature=feature, actor=actor, tags=[tag])
        feature_owners_add(feature=feature, user_ids=[organisation_admin.pk], actor=actor)

    # When
    with CaptureQueriesContext(connection) as queries:
        rows = environment_feature_export_rows(environment=environment)

    # Then: the features, their tags, owners and states, and the segment overrides
    assert len(queries) == 5
    assert [(row[4], row[5]) for row in rows] == [(["checkout"], [organisation_admin.email])] * (
        features
    )


@pytest.mark.usefixtures("catalogue")
def test_feature_export__csv_and_json__same_rows(client: Client, environment: Environment) -> None:
    url = f"/api/v1/environments/{environment.api_key}/feature-export/"

    table = _csv(client.get(url, HTTP_ACCEPT="text/csv"))
    listed = client.get(url).json()

    assert table[2] == [
        "checkout_button",
        "STANDARD",
        "False",
        "blue",
        "checkout",
        "owner@example.com",
        "power_users: on, 'gold'",
        "",
        "False",
    ]
    assert listed[1] == {
        "name": "checkout_button",
        "type": "STANDARD",
        "enabled": False,
        "value": "blue",
        "tags": ["checkout"],
        "owners": ["owner@example.com"],
        "segment_overrides": "power_users: on, 'gold'",
        "description": "",
        "archived": False,
    }
