from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from vexil.audit.diffs import FieldChange, field_changes
from vexil.audit.models import AuditAction, AuditLog
from vexil.permissions import selectors as permission_selectors
from vexil.permissions.keys import ProjectPermission
from vexil.permissions.principals import Principal
from vexil.users.models import User


def audit_logs_visible_to(principal: Principal) -> QuerySet[AuditLog]:
    """Rows the principal may read: all of an organisation they administer (an admin master key
    counts), and the rows of projects where they hold VIEW_AUDIT_LOG (project admins do)."""
    organisation_ids = permission_selectors.admin_organisation_ids(principal)
    project_ids = permission_selectors.project_ids_with_permission(
        principal, ProjectPermission.VIEW_AUDIT_LOG
    )
    if not organisation_ids and not project_ids:
        return AuditLog.objects.none()
    return (
        AuditLog.objects.filter(
            Q(organisation_id__in=organisation_ids) | Q(project_id__in=project_ids)
        )
        .select_related("author")
        .order_by("-created_date", "-id")
    )


# --- The audit log pages: filtered, keyset-paginated, each row with its diff ---------------------

AUDIT_PAGE_SIZE = 50

#: Every ``resource_type`` the services write, with the name the pages show for it.
RESOURCE_TYPES: dict[str, str] = {
    "organisation": "Organisation",
    "organisation_membership": "Membership",
    "invite": "Invite",
    "invite_link": "Invite link",
    "user": "User account",
    "user_group": "Group",
    "master_api_key": "Master API key",
    "project": "Project",
    "environment": "Environment",
    "environment_api_key": "Server-side key",
    "feature": "Feature",
    "feature_state": "Feature state",
    "feature_segment": "Segment override",
    "multivariate_feature_option": "Multivariate option",
    "segment": "Segment",
    "identity": "Identity",
    "trait": "Trait",
    "tag": "Tag",
    "feature_export": "Feature export",
    "feature_import": "Feature import",
}


class InvalidCursorError(ValueError):
    """A page cursor that this module did not write."""


@dataclass(frozen=True)
class AuditScope:
    """Whose rows: an organisation's, or one of its projects', or one of its environments'."""

    organisation_id: int
    project_id: int | None = None
    environment_id: int | None = None

    def rows(self) -> QuerySet[AuditLog]:
        if self.environment_id is not None:
            return AuditLog.objects.filter(
                organisation_id=self.organisation_id, environment_id=self.environment_id
            )
        if self.project_id is not None:
            return AuditLog.objects.filter(
                organisation_id=self.organisation_id, project_id=self.project_id
            )
        return AuditLog.objects.filter(organisation_id=self.organisation_id)


@dataclass(frozen=True)
class AuditFilters:
    author_id: int | None = None
    resource_type: str = ""
    date_from: date | None = None  # inclusive, a day in the current time zone
    date_to: date | None = None  # inclusive

    def apply(self, rows: QuerySet[AuditLog]) -> QuerySet[AuditLog]:
        if self.author_id is not None:
            rows = rows.filter(author_id=self.author_id)
        if self.resource_type:
            rows = rows.filter(resource_type=self.resource_type)
        if self.date_from is not None:
            rows = rows.filter(created_date__gte=_start_of(self.date_from))
        if self.date_to is not None:
            rows = rows.filter(created_date__lt=_start_of(self.date_to + timedelta(days=1)))
        return rows


@dataclass(frozen=True)
class AuditEntry:
    id: int
    created_date: datetime
    author: str
    action: str
    resource_type: str
    resource_id: str
    log: str
    project_name: str | None
    environment_name: str | None
    changes: list[FieldChange]

    @property
    def resource_type_label(self) -> str:
        return RESOURCE_TYPES.get(self.resource_type, self.resource_type)


@dataclass(frozen=True)
class AuditPage:
    entries: list[AuditEntry]
    next_cursor: str | None  # the cursor of the next (older) page, None on the last


def audit_log_page(
    *,
    scope: AuditScope,
    filters: AuditFilters = AuditFilters(),
    cursor: str | None = None,
    page_size: int = AUDIT_PAGE_SIZE,
) -> AuditPage:
    """One page of the scope's rows, newest first, with their diffs: one query.

    Keyset pagination on (created_date, id), so a page costs the same at row 100,000 as at
    row 1, and rows written while someone reads never shift a page. The caller checks that
    the reader may see the scope's audit log (``vexil.permissions``)."""
    rows = filters.apply(scope.rows())
    if cursor:
        created, row_id = _decode(cursor)
        # The first condition lets the (scope, created_date) index bound the scan.
        rows = rows.filter(created_date__lte=created).filter(
            Q(created_date__lt=created) | Q(id__lt=row_id)
        )
    # Plain values, not model instances: a page reads five related rows' worth of columns
    # (the entry, its author, project and environment), of which it prints a few.
    found = list(
        rows.order_by("-created_date", "-id").values_list(*_ENTRY_COLUMNS)[: page_size + 1]
    )
    entries = [_entry(*row) for row in found[:page_size]]
    has_more = len(found) > page_size
    last = found[page_size - 1] if has_more else None
    return AuditPage(entries, _cursor(last[1], last[0]) if last else None)


def audit_author_choices(organisation_id: int) -> list[tuple[int, str]]:
    """The people whose changes the filter can pick: the organisation's members, by e-mail."""
    return list(
        User.objects.filter(memberships__organisation_id=organisation_id)
        .order_by("email")
        .values_list("id", "email")
    )


_ENTRY_COLUMNS = (
    "id",
    "created_date",
    "author__email",
    "master_api_key_name",
    "action",
    "resource_type",
    "resource_id",
    "log",
    "project__name",
    "environment__name",
    "before",
    "after",
)
_ACTION_LABELS = {str(action.value): str(action.label) for action in AuditAction}


def _entry(
    row_id: int,
    created_date: datetime,
    author_email: str | None,
    master_api_key_name: str | None,
    action: str,
    resource_type: str,
    resource_id: str,
    log: str,
    project_name: str | None,
    environment_name: str | None,
    before: Any,
    after: Any,
) -> AuditEntry:
    """An entry from the values of :data:`_ENTRY_COLUMNS`."""
    return AuditEntry(
        id=row_id,
        created_date=created_date,
        author=_author(author_email, master_api_key_name),
        action=_ACTION_LABELS.get(action, action),
        resource_type=resource_type,
        resource_id=resource_id,
        log=log,
        project_name=project_name,
        environment_name=environment_name,
        changes=field_changes(before, after),
    )


def _author(email: str | None, master_api_key_name: str | None) -> str:
    if email is not None:
        return email
    if master_api_key_name:
        return f"master API key {master_api_key_name!r}"
    return "system"


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def audit_cursor(row: AuditLog) -> str:
    """The cursor of the page that starts after ``row`` (``audit_log_page(cursor=...)``)."""
    return _cursor(row.created_date, row.pk)


def _cursor(created_date: datetime, row_id: int) -> str:
    return f"{(created_date - _EPOCH) // _MICROSECOND}_{row_id}"


_CURSOR = re.compile(r"([0-9]{1,18})_([0-9]{1,18})")


def _decode(cursor: str) -> tuple[datetime, int]:
    found = _CURSOR.fullmatch(cursor)
    if found is None:
        raise InvalidCursorError(cursor)
    micros, row_id = found.groups()
    try:
        return _EPOCH + int(micros) * _MICROSECOND, int(row_id)
    except OverflowError as error:
        raise InvalidCursorError(cursor) from error


EXPORT_COLUMNS = (
    "id",
    "created_date",
    "author",
    "master_api_key_name",
    "action",
    "related_object_type",
    "related_object_id",
    "log",
    "organisation",
    "project",
    "environment",
)


def audit_log_export_rows(rows: QuerySet[AuditLog]) -> Iterator[tuple[object, ...]]:
    """The rows of an export (:data:`EXPORT_COLUMNS`), read in chunks: memory stays flat."""
    values = rows.values_list(
        "id",
        "created_date",
        "author__email",
        "master_api_key_name",
        "action",
        "resource_type",
        "resource_id",
        "log",
        "organisation_id",
        "project_id",
        "environment_id",
    )
    return values.iterator(chunk_size=2000)
