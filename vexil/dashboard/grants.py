"""Who may do what on a project or an environment: its grants to users and to groups.

One set of views serves both pages: ``@page`` resolves the scope from the URL, and the scope
says which object the grants are on. They call the services and selectors of the management
API's ``user-permissions`` / ``user-group-permissions`` routes, under the same rule: the
object's administrators manage its grants (project admins; for an environment, also its own
admins). Everyone else gets 403, and a refused POST changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import TextChoices
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from vexil.dashboard.forms.permissions import GrantForm, NewGrantForm
from vexil.dashboard.page import page, submit
from vexil.dashboard.rendering import render_page
from vexil.dashboard.scope import Scope
from vexil.organisations.selectors import groups_in, members_of
from vexil.permissions import selectors, services
from vexil.permissions.keys import EnvironmentPermission, ProjectPermission
from vexil.permissions.models import EnvironmentGrant, ProjectGrant

Grant = ProjectGrant | EnvironmentGrant


def is_admin_here(scope: Scope) -> bool:
    """Administrator of the page's environment, else of its project."""
    return scope.is_environment_admin if scope.environment else scope.is_project_admin


@dataclass(frozen=True)
class Target:
    """The object whose grants a page shows: a project or an environment."""

    kind: str
    name: str
    keys: type[TextChoices]
    grants: list[Grant]
    create: Callable[..., Grant]
    url: str


def _target(scope: Scope) -> Target:
    if scope.environment is not None:
        environment = scope.current_environment

        def create_on_environment(**kwargs: Any) -> Grant:
            return services.environment_grant_create(environment=environment, **kwargs)

        return Target(
            kind="environment",
            name=environment.name,
            keys=EnvironmentPermission,
            grants=list(selectors.grants_on_environment(environment)),
            create=create_on_environment,
            url=reverse(
                "dashboard:environment-permissions",
                args=[scope.current_project.pk, environment.api_key],
            ),
        )
    project = scope.current_project

    def create_on_project(**kwargs: Any) -> Grant:
        return services.project_grant_create(project=project, **kwargs)

    return Target(
        kind="project",
        name=project.name,
        keys=ProjectPermission,
        grants=list(selectors.grants_on_project(project)),
        create=create_on_project,
        url=reverse("dashboard:project-permissions", args=[project.pk]),
    )


def _grantee_name(grant: Grant) -> str:
    return grant.user.email if grant.user else f"group {grant.group.name}"  # type: ignore[union-attr]


def _grant_form(target: Target, grant: Grant, data: Any = None) -> GrantForm:
    return GrantForm(
        data,
        keys=target.keys,
        prefix=f"grant-{grant.pk}",
        initial={"admin": grant.admin, "permissions": list(grant.permissions)},
    )


def _new_grant_form(scope: Scope, target: Target, data: Any = None) -> NewGrantForm:
    """Offers only the members and groups without a grant here (one grant each)."""
    organisation = scope.organisation
    assert organisation is not None
    granted_users = {g.user_id for g in target.grants}
    granted_groups = {g.group_id for g in target.grants}
    users = [m.user for m in members_of(organisation) if m.user_id not in granted_users]
    groups = [g for g in groups_in(organisation) if g.pk not in granted_groups]
    return NewGrantForm(data, keys=target.keys, users=users, groups=groups, prefix="new")


def _page(
    request: HttpRequest,
    scope: Scope,
    target: Target,
    *,
    new_form: NewGrantForm | None = None,
    failed: tuple[int, GrantForm] | None = None,
) -> HttpResponse:
    rows = [
        {
            "grant": grant,
            "name": _grantee_name(grant),
            "form": failed[1] if failed and failed[0] == grant.pk else _grant_form(target, grant),
        }
        for grant in target.grants
    ]
    context = {
        "target": target,
        "rows": rows,
        "new_form": new_form or _new_grant_form(scope, target),
    }
    status = 400 if new_form or failed else 200
    return render_page(
        request, "dashboard/settings/permissions.html", scope, context, status=status
    )


@page(read=[is_admin_here])
def permissions_page(request: HttpRequest, scope: Scope) -> HttpResponse:
    return _page(request, scope, _target(scope))


@page(methods=["POST"], read=[is_admin_here])
def grant_add(request: HttpRequest, scope: Scope) -> HttpResponse:
    target = _target(scope)
    form = _new_grant_form(scope, target, request.POST)

    def save(data: dict[str, Any]) -> HttpResponse:
        target.create(
            admin=data["admin"],
            permissions=data["permissions"],
            actor=scope.actor,
            **form.selected_grantee(),
        )
        return redirect(target.url)

    return submit(form, save, default="grantee") or _page(request, scope, target, new_form=form)


def _grant(target: Target, grant_id: int) -> Grant:
    grant = next((g for g in target.grants if g.pk == grant_id), None)
    if grant is None:
        raise Http404
    return grant


@page(methods=["POST"], read=[is_admin_here])
def grant_save(request: HttpRequest, scope: Scope, grant_id: int) -> HttpResponse:
    target = _target(scope)
    grant = _grant(target, grant_id)
    form = _grant_form(target, grant, request.POST)

    def save(data: dict[str, Any]) -> HttpResponse:
        services.grant_update(
            grant=grant, admin=data["admin"], permissions=data["permissions"], actor=scope.actor
        )
        return redirect(target.url)

    return submit(form, save, default="permissions") or _page(
        request, scope, target, failed=(grant.pk, form)
    )


@page(methods=["POST"], read=[is_admin_here])
def grant_remove(request: HttpRequest, scope: Scope, grant_id: int) -> HttpResponse:
    target = _target(scope)
    services.grant_delete(grant=_grant(target, grant_id), actor=scope.actor)
    return redirect(target.url)
