"""The segments of a project: list and search, create and edit with the rule builder, delete,
and which features use each one.

Reading needs only to see the project; every change needs MANAGE_SEGMENTS (the management
API's key). Saving goes through ``vexil.segments.services``, which checks every condition again,
audits and moves every environment's revision; a refused save stores nothing.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET, require_http_methods

from vexil.dashboard.forms import add_service_errors
from vexil.dashboard.forms.segments import (
    OPERATOR_LABELS,
    RULE_TYPE_LABELS,
    ConditionInput,
    GroupInput,
    SegmentForm,
    SegmentSearchForm,
    apply_builder_action,
    builder_views,
    check_conditions,
    groups_of_post,
    groups_of_rules,
)
from vexil.dashboard.rendering import render_page
from vexil.dashboard.scope import Scope, project_scope
from vexil.permissions import selectors as permissions
from vexil.permissions.keys import ProjectPermission
from vexil.segments import selectors, services
from vexil.segments.models import Segment

PAGE_SIZE = 50


def _may_manage(scope: Scope) -> bool:
    return scope.may(ProjectPermission.MANAGE_SEGMENTS)


def _require_manage(scope: Scope) -> None:
    if not _may_manage(scope):
        raise PermissionDenied


def _segment(scope: Scope, segment_id: int) -> Segment:
    segment = selectors.segment_of_project(scope.current_project, segment_id)
    if segment is None:
        raise Http404
    return segment


@login_required
@require_GET
def segment_list(request: HttpRequest, project_id: int) -> HttpResponse:
    scope = project_scope(request, project_id)
    search = SegmentSearchForm(request.GET)
    query = search.query()
    segments = selectors.segments_search(scope.current_project, query)
    page = Paginator(segments, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"search": search, "query": query, "page": page, "may_manage": _may_manage(scope)}
    return render_page(request, "dashboard/segments/list.html", scope, context)


@login_required
@require_http_methods(["GET", "POST"])
def segment_new(request: HttpRequest, project_id: int) -> HttpResponse:
    scope = project_scope(request, project_id)
    _require_manage(scope)
    if request.method == "GET":
        groups = [GroupInput(conditions=[ConditionInput()])]
        return _edit_page(request, scope, None, SegmentForm(), groups)
    form = SegmentForm(request.POST)
    groups = groups_of_post(request.POST)
    if "builder" in request.POST:
        apply_builder_action(groups, request.POST["builder"])
        return _edit_page(request, scope, None, form, groups, check=False)
    if form.is_valid() and check_conditions(groups):
        try:
            segment = services.segment_create(
                project=scope.current_project,
                name=form.cleaned_data["name"],
                description=form.cleaned_data["description"],
                rules=[group.spec() for group in groups],
                actor=scope.actor,
            )
        except ValidationError as error:
            add_service_errors(form, error, default=None)
        else:
            return redirect("dashboard:segment", project_id, segment.pk)
    return _edit_page(request, scope, None, form, groups, status=400)


@login_required
@require_http_methods(["GET", "POST"])
def segment_detail(request: HttpRequest, project_id: int, segment_id: int) -> HttpResponse:
    """The segment, its rules (editable by those who may) and the overrides that use it."""
    scope = project_scope(request, project_id)
    segment = _segment(scope, segment_id)
    if request.method == "GET":
        form = SegmentForm(initial={"name": segment.name, "description": segment.description})
        rules = selectors.segment_rule_trees([segment])[segment.pk]
        return _edit_page(request, scope, segment, form, groups_of_rules(rules))
    _require_manage(scope)
    form = SegmentForm(request.POST)
    groups = groups_of_post(request.POST)
    if "builder" in request.POST:
        apply_builder_action(groups, request.POST["builder"])
        return _edit_page(request, scope, segment, form, groups, check=False)
    if form.is_valid() and check_conditions(groups):
        try:
            services.segment_update(
                segment=segment,
                name=form.cleaned_data["name"],
                description=form.cleaned_data["description"],
                rules=[group.spec() for group in groups],
                actor=scope.actor,
            )
        except ValidationError as error:
            add_service_errors(form, error, default=None)
        else:
            return redirect("dashboard:segment", project_id, segment.pk)
    return _edit_page(request, scope, segment, form, groups, status=400)


def _edit_page(
    request: HttpRequest,
    scope: Scope,
    segment: Segment | None,
    form: SegmentForm,
    groups: list[GroupInput],
    *,
    check: bool = False,
    status: int = 200,
) -> HttpResponse:
    if check:
        check_conditions(groups)
    usage: list[Any] = []
    if segment is not None:
        environments = permissions.environments_visible_to(scope.user).filter(
            project=scope.current_project
        )
        usage = list(selectors.segment_overrides_of(segment, environments))
    context = {
        "segment": segment,
        "form": form,
        "builder": builder_views(groups),
        "operators": list(OPERATOR_LABELS.items()),
        "rule_types": list(RULE_TYPE_LABELS.items()),
        "usage": usage,
        "may_manage": _may_manage(scope),
    }
    return render_page(request, "dashboard/segments/edit.html", scope, context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def segment_delete(request: HttpRequest, project_id: int, segment_id: int) -> HttpResponse:
    scope = project_scope(request, project_id)
    _require_manage(scope)
    segment = _segment(scope, segment_id)
    if request.method == "POST":
        services.segment_delete(segment=segment, actor=scope.actor)
        return redirect("dashboard:segments", project_id)
    return render_page(request, "dashboard/segments/delete.html", scope, {"segment": segment})
