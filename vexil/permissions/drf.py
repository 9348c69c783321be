"""DRF permission classes over the selectors. Views declare what each action needs.

A view nested under a project implements ``get_project()``; one nested under an environment
implements ``get_environment()``. Both must raise ``Http404`` for objects the requester cannot
see (so another tenant's object answers 404, never 403). The view maps actions to permission
keys, e.g. ``project_permissions = {"create": ProjectPermission.CREATE_FEATURE}``; actions not in
the map need only visibility (VIEW_PROJECT / VIEW_ENVIRONMENT).
"""

from __future__ import annotations

from typing import Any, Protocol

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from vexil.environments.models import Environment
from vexil.permissions import selectors
from vexil.permissions.keys import EnvironmentPermission, ProjectPermission
from vexil.permissions.principals import MasterKeyPrincipal, Principal
from vexil.projects.models import Project
from vexil.users.models import User


class ProjectScopedView(Protocol):
    action: str | None
    project_permissions: dict[str, str]

    def get_project(self) -> Project: ...


class EnvironmentScopedView(Protocol):
    action: str | None
    environment_permissions: dict[str, str]

    def get_environment(self) -> Environment: ...


def principal_of(request: Request) -> Principal | None:
    """The authenticated user or master key behind a request; None when anonymous."""
    user: Any = request.user
    if isinstance(user, User | MasterKeyPrincipal) and user.is_authenticated:
        return user
    return None


def _action(request: Request, view: Any) -> str:
    return getattr(view, "action", None) or request.method.lower()  # type: ignore[union-attr]


class HasProjectPermission(BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        principal = principal_of(request)
        if principal is None:
            return False
        project = view.get_project()
        needed = view.project_permissions.get(
            _action(request, view), ProjectPermission.VIEW_PROJECT
        )
        return selectors.has_project_permission(principal, project, needed)


class HasEnvironmentPermission(BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        principal = principal_of(request)
        if principal is None:
            return False
        environment = view.get_environment()
        needed = view.environment_permissions.get(
            _action(request, view), EnvironmentPermission.VIEW_ENVIRONMENT
        )
        return selectors.has_environment_permission(principal, environment, needed)
