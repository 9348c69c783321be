"""DRF permission classes over the selectors. Views declare what each action needs.

A view nested under a project implements ``get_project()``; one nested under an environment
implements ``get_environment()``. Both must raise ``Http404`` for objects the requester cannot
see (so another tenant's object answers 404, never 403). The view maps actions to permission
keys, e.g. ``project_permissions = {"create": ProjectPermission.CREATE_FEATURE}``; actions not in
the map need only visibility (VIEW_PROJECT / VIEW_ENVIRONMENT).
"""

from __future__ import annotations

from typing import Any, Protocol

from rest_framework.exceptions import NotAuthenticated
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from vexil.audit.services import Actor
from vexil.environments.models import Environment
from vexil.organisations.models import Organisation
from vexil.permissions import selectors
from vexil.permissions.keys import EnvironmentPermission, ProjectPermission
from vexil.permissions.principals import MasterKeyPrincipal, Principal, actor_of
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


class OrganisationScopedView(Protocol):
    action: str | None
    organisation_permissions: dict[str, str]

    def get_organisation(self) -> Organisation: ...


class HasOrganisationPermission(BasePermission):
    """Membership of the view's organisation, plus the key the action maps to, if any.

    ``get_organisation()`` raises ``Http404`` for organisations the requester is not part of.
    """

    def has_permission(self, request: Request, view: Any) -> bool:
        principal = principal_of(request)
        if principal is None:
            return False
        organisation = view.get_organisation()
        if selectors.organisation_role(principal, organisation.pk) is None:
            return False
        needed = view.organisation_permissions.get(_action(request, view))
        if needed is None:
            return True
        return needed in selectors.organisation_permissions(principal, organisation)


class IsUser(BasePermission):
    """A signed-in person, not a master API key (e.g. to manage master API keys themselves)."""

    message = "This endpoint needs a user's token, not an API key."

    def has_permission(self, request: Request, view: Any) -> bool:
        return isinstance(request.user, User) and request.user.is_authenticated


def request_principal(request: Request) -> Principal:
    """The principal of a request that permission classes already let through."""
    principal = principal_of(request)
    if principal is None:
        raise NotAuthenticated
    return principal


def request_actor(request: Request) -> Actor:
    """The audit author of the request's changes."""
    return actor_of(request_principal(request))
