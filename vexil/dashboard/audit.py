"""The audit log of an organisation, a project or an environment: filter by author, date range
and object type; each entry shows its before and after as a readable diff.

Keyset pages (``?before=<cursor>``) keep every page as cheap as the first, and every filter is
in the query string, so a view of the log is bookmarkable. Reading needs the management API's
keys: the organisation's VIEW_AUDIT_LOG (administrators), or the project's VIEW_AUDIT_LOG.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from vexil.audit.selectors import (
    RESOURCE_TYPES,
    AuditFilters,
    AuditScope,
    InvalidCursorError,
    audit_author_choices,
    audit_log_page,
)
from vexil.dashboard.audit_entries import entries_html
from vexil.dashboard.forms import DashboardForm
from vexil.dashboard.forms.renderer import FILTER_RENDERER
from vexil.dashboard.rendering import render_page
from vexil.dashboard.scope import Scope, environment_scope, organisation_scope, project_scope
from vexil.permissions.keys import OrganisationPermission, ProjectPermission


class DateInput(forms.DateInput):
    input_type = "date"


class AuditFilterForm(DashboardForm):
    default_renderer = FILTER_RENDERER

    author = forms.TypedChoiceField(label="Author", required=False, coerce=int, empty_value=None)
    type = forms.ChoiceField(label="Object type", required=False)
    date_from = forms.DateField(label="From", required=False, widget=DateInput)
    date_to = forms.DateField(label="To", required=False, widget=DateInput)

    def __init__(self, *args: Any, authors: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["author"].choices = [("", "Anyone"), *authors]  # type: ignore[attr-defined]
        types = sorted(RESOURCE_TYPES.items(), key=lambda item: item[1])
        self.fields["type"].choices = [("", "Any type"), *types]  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "The end date is before the start date.")
        return cleaned

    def filters(self) -> AuditFilters:
        data = self.cleaned_data
        return AuditFilters(
            author_id=data["author"],
            resource_type=data["type"],
            date_from=data["date_from"],
            date_to=data["date_to"],
        )


def _page(
    request: HttpRequest, scope: Scope, audit_scope: AuditScope, heading: str
) -> HttpResponse:
    form = AuditFilterForm(request.GET, authors=audit_author_choices(audit_scope.organisation_id))
    page = None
    status = 200
    if form.is_valid():
        try:
            page = audit_log_page(
                scope=audit_scope, filters=form.filters(), cursor=request.GET.get("before")
            )
        except InvalidCursorError:
            form.add_error(None, "This page link is not valid: start again from the newest.")
    if page is None:
        status = 400
    query = request.GET.copy()
    query.pop("before", None)
    context = {
        "form": form,
        "page": page,
        "entries_html": entries_html(page.entries) if page else "",
        "heading": heading,
        "query_string": query.urlencode(),
        "first_page": "before" in request.GET,
    }
    return render_page(request, "dashboard/audit/page.html", scope, context, status=status)


@login_required
@require_GET
def organisation_audit(request: HttpRequest, organisation_id: int) -> HttpResponse:
    scope = organisation_scope(request, organisation_id)
    if not scope.may(OrganisationPermission.VIEW_AUDIT_LOG):
        raise PermissionDenied
    assert scope.organisation is not None
    return _page(request, scope, AuditScope(organisation_id), scope.organisation.name)


@login_required
@require_GET
def project_audit(request: HttpRequest, project_id: int) -> HttpResponse:
    scope = project_scope(request, project_id)
    if not scope.may(ProjectPermission.VIEW_AUDIT_LOG):
        raise PermissionDenied
    project = scope.current_project
    audit_scope = AuditScope(project.organisation_id, project_id=project.pk)
    return _page(request, scope, audit_scope, project.name)


@login_required
@require_GET
def environment_audit(request: HttpRequest, project_id: int, client_key: str) -> HttpResponse:
    scope = environment_scope(request, project_id, client_key)
    if not scope.may(ProjectPermission.VIEW_AUDIT_LOG):
        raise PermissionDenied
    environment = scope.current_environment
    audit_scope = AuditScope(scope.current_project.organisation_id, environment_id=environment.pk)
    return _page(request, scope, audit_scope, environment.name)
