"""`audit_log_page`: scoped, filtered, keyset-paginated audit rows with readable diffs."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from vexil.audit.diffs import field_changes
from vexil.audit.models import AuditAction, AuditLog
from vexil.audit.selectors import (
    RESOURCE_TYPES,
    AuditFilters,
    AuditScope,
    InvalidCursorError,
    audit_author_choices,
    audit_log_page,
)
from vexil.audit.services import Actor, audit_record
from vexil.environments.models import Environment
from vexil.organisations.models import Organisation
from vexil.projects.models import Project
from vexil.segments.models import Segment
from vexil.segments.services import segment_update
from vexil.users.models import User

pytestmark = pytest.mark.django_db

NOON = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def _row(
    organisation: Organisation,
    *,
    actor: Actor,
    when: datetime = NOON,
    resource_type: str = "feature",
    project: Project | None = None,
    environment: Environment | None = None,
    before: dict[str, object] | None = None,
    after: dict[str, object] | None = None,
) -> AuditLog:
    row = audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        resource_type=resource_type,
        resource_id=1,
        log="changed",
        organisation_id=organisation.pk,
        project=project,
        environment=environment,
        before=before,
        after=after,
    )
    AuditLog.objects.filter(pk=row.pk).update(created_date=when)
    return row


@pytest.fixture
def clean(organisation: Organisation, project: Project, environment: Environment) -> Organisation:
    """The organisation, its project and environment, without the rows their fixtures wrote."""
    AuditLog.objects.all().delete()
    return organisation


def test_audit_log_page__scopes__each_sees_its_own_rows(
    clean: Organisation, project: Project, environment: Environment, actor: Actor
) -> None:
    # Given
    organisation_row = _row(clean, actor=actor)
    project_row = _row(clean, actor=actor, project=project)
    environment_row = _row(clean, actor=actor, environment=environment)

    # When
    def ids(scope: AuditScope) -> set[int]:
        return {entry.id for entry in audit_log_page(scope=scope).entries}

    # Then
    assert ids(AuditScope(clean.pk)) == {organisation_row.pk, project_row.pk, environment_row.pk}
    assert ids(AuditScope(clean.pk, project_id=project.pk)) == {project_row.pk, environment_row.pk}
    assert ids(AuditScope(clean.pk, environment_id=environment.pk)) == {environment_row.pk}


def test_audit_log_page__other_organisations_project__sees_nothing(
    clean: Organisation, other_project: Project, actor: Actor
) -> None:
    # Given: a row of another tenant's project
    _row(other_project.organisation, actor=actor, project=other_project)

    # When: asked through this organisation
    page = audit_log_page(scope=AuditScope(clean.pk, project_id=other_project.pk))

    # Then
    assert page.entries == []


def test_audit_log_page__filters__author_type_and_inclusive_dates(
    clean: Organisation, actor: Actor, organisation_admin: User, other_admin: User
) -> None:
    # Given
    mine = _row(clean, actor=actor, when=NOON)
    _row(clean, actor=Actor(user=other_admin), when=NOON)
    segment_row = _row(clean, actor=actor, resource_type="segment", when=NOON)
    earlier = _row(clean, actor=actor, when=NOON - timedelta(days=2))
    scope = AuditScope(clean.pk)

    def ids(filters: AuditFilters) -> set[int]:
        return {entry.id for entry in audit_log_page(scope=scope, filters=filters).entries}

    # When / Then
    assert ids(AuditFilters(author_id=organisation_admin.pk)) == {
        mine.pk,
        segment_row.pk,
        earlier.pk,
    }
    assert ids(AuditFilters(resource_type="segment")) == {segment_row.pk}
    march_10 = date(2026, 3, 10)
    assert ids(AuditFilters(author_id=organisation_admin.pk, date_from=march_10)) == {
        mine.pk,
        segment_row.pk,
    }
    assert ids(AuditFilters(date_to=date(2026, 3, 8))) == {earlier.pk}
    assert ids(AuditFilters(date_from=date(2026, 3, 11))) == set()


def test_audit_log_page__keyset_pages__every_row_once_newest_first(
    clean: Organisation, actor: Actor
) -> None:
    # Given: 23 rows, several sharing a timestamp
    rows = [_row(clean, actor=actor, when=NOON + timedelta(seconds=n // 3)) for n in range(23)]
    expected = [
        row.pk
        for row in sorted(
            AuditLog.objects.filter(pk__in=[r.pk for r in rows]),
            key=lambda r: (r.created_date, r.pk),
            reverse=True,
        )
    ]

    # When
    seen: list[int] = []
    cursor = None
    pages = 0
    while True:
        page = audit_log_page(scope=AuditScope(clean.pk), cursor=cursor, page_size=10)
        seen += [entry.id for entry in page.entries]
        pages += 1
        cursor = page.next_cursor
        if cursor is None:
            break

    # Then
    assert seen == expected
    assert pages == 3


def test_audit_log_page__page_exactly_full__no_next_cursor(
    clean: Organisation, actor: Actor
) -> None:
    for _ in range(5):
        _row(clean, actor=actor)

    page = audit_log_page(scope=AuditScope(clean.pk), page_size=5)

    assert (len(page.entries), page.next_cursor) == (5, None)


@pytest.mark.parametrize("cursor", ["x", "12_", "_3", "1-2", "9" * 40 + "_1", "١٢_3"])
def test_audit_log_page__forged_cursor__refused(clean: Organisation, cursor: str) -> None:
    with pytest.raises(InvalidCursorError):
        audit_log_page(scope=AuditScope(clean.pk), cursor=cursor)


def _queries(organisation: Organisation) -> int:
    with CaptureQueriesContext(connection) as queries:
        audit_log_page(scope=AuditScope(organisation.pk))
    return len(queries)


def test_audit_log_page__ten_or_a_hundred_rows__one_query(
    clean: Organisation, project: Project, environment: Environment, actor: Actor
) -> None:
    # Given
    for _ in range(10):
        _row(clean, actor=actor, environment=environment, before={"a": 1}, after={"a": 2})
    few = _queries(clean)
    for _ in range(90):
        _row(clean, actor=Actor(api_key_name="ci"), project=project)

    # When
    many = _queries(clean)

    # Then
    assert few == many == 1


def test_audit_log_page__authors__user_key_or_system(clean: Organisation, actor: Actor) -> None:
    _row(clean, actor=actor, when=NOON)
    _row(clean, actor=Actor(api_key_name="ci"), when=NOON - timedelta(seconds=1))
    _row(clean, actor=Actor(), when=NOON - timedelta(seconds=2))

    page = audit_log_page(scope=AuditScope(clean.pk))

    assert [entry.author for entry in page.entries] == [
        "owner@example.com",
        "master API key 'ci'",
        "system",
    ]


def test_audit_log_page__segment_rules_changed__line_diff_of_the_rules(
    segment: Segment, project: Project, actor: Actor
) -> None:
    # Given
    segment_update(
        segment=segment,
        actor=actor,
        rules=[
            {
                "type": "ALL",
                "conditions": [{"operator": "EQUAL", "property": "plan", "value": "pro"}],
            }
        ],
    )

    # When
    entry = audit_log_page(
        scope=AuditScope(project.organisation_id, project_id=project.pk)
    ).entries[0]

    # Then
    (rules,) = [change for change in entry.changes if change.field == "rules"]
    assert rules.kind == "changed"
    stripped = {(line.kind, line.text.strip()) for line in rules.lines}
    assert ("added", '"property": "plan",') in stripped
    assert ("removed", '"property": "orders",') in stripped
    assert ("same", '"type": "ALL"') in stripped


def test_field_changes__scalars__only_changed_fields_as_json_text() -> None:
    changes = field_changes(
        {"enabled": False, "value": 1, "name": "a"}, {"enabled": True, "value": True, "name": "a"}
    )

    assert [(c.field, c.before, c.after, c.kind, c.lines) for c in changes] == [
        ("enabled", "false", "true", "changed", ()),
        ("value", "1", "true", "changed", ()),
    ]


def test_field_changes__created_and_deleted__added_and_removed() -> None:
    created = field_changes(None, {"name": "beta"})
    deleted = field_changes({"name": "beta"}, None)

    assert [(c.field, c.before, c.after, c.kind) for c in created] == [
        ("name", None, '"beta"', "added")
    ]
    assert [(c.field, c.before, c.after, c.kind) for c in deleted] == [
        ("name", '"beta"', None, "removed")
    ]


def test_audit_author_choices__organisation_members_only(
    organisation: Organisation, organisation_admin: User, other_admin: User
) -> None:
    assert audit_author_choices(organisation.pk) == [(organisation_admin.pk, "owner@example.com")]


def test_resource_types__every_type_the_services_write__has_a_label() -> None:
    # Given: every literal resource type in the code that writes audit rows
    source = Path(__file__).resolve().parents[2] / "vexil"
    written = {
        match
        for path in source.rglob("*.py")
        for match in re.findall(r'resource_type="([a-z_]+)"', path.read_text(encoding="utf-8"))
    }

    # Then
    assert written
    assert written <= set(RESOURCE_TYPES)
