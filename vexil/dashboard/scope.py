"""Where a dashboard page is: the signed-in user's organisation, project and environment.

Every page under a project or an environment resolves its scope here, through the same
permission selectors as the management API, so an object the user may not see answers 404 (as
the API does), and the navigation lists only what the user may see. Templates read the
permission sets to leave out controls the user may not use; the views check again on POST.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.http import Http404, HttpRequest

from vexil.audit.services import Actor
from vexil.environments.models import Environment
from vexil.organisations.models import Organisation
from vexil.organisations.selectors import organisations_of
from vexil.permissions import selectors as permissions
from vexil.permissions.keys import EnvironmentPermission, OrganisationPermission, ProjectPermission
from vexil.projects.models import Project
from vexil.projects.selectors import projects_of
from vexil.users.models import User

_LAST_ENVIRONMENT = "dashboard_environment"


@dataclass
class Scope:
    """The current organisation, project and environment, with what the user may do there."""

    user: User
    organisations: list[Organisation]
    organisation: Organisation | None = None
    projects: list[Project] = field(default_factory=list)
    project: Project | None = None
    environments: list[Environment] = field(default_factory=list)
    environment: Environment | None = None
    organisation_permissions: frozenset[str] = frozenset()
    project_permissions: frozenset[str] = frozenset()
    environment_permissions: frozenset[str] = frozenset()
    is_project_admin: bool = False
    is_environment_admin: bool = False

    @property
    def current_project(self) -> Project:
        """The project of a project or environment page."""
        assert self.project is not None
        return self.project

    @property
    def current_environment(self) -> Environment:
        """The environment of an environment page."""
        assert self.environment is not None
        return self.environment

    @property
    def actor(self) -> Actor:
        return Actor(user=self.user)

    def may(self, permission: str) -> bool:
        """Whether the user holds ``permission`` here (an environment, project or org key)."""
        return permission in (
            self.environment_permissions | self.project_permissions | self.organisation_permissions
        )

    @property
    def may_update_feature_state(self) -> bool:
        return self.may(EnvironmentPermission.UPDATE_FEATURE_STATE)

    @property
    def may_create_feature(self) -> bool:
        return self.may(ProjectPermission.CREATE_FEATURE)

    @property
    def may_delete_feature(self) -> bool:
        return self.may(ProjectPermission.DELETE_FEATURE)

    @property
    def may_create_environment(self) -> bool:
        return self.may(ProjectPermission.CREATE_ENVIRONMENT)

    @property
    def may_create_project(self) -> bool:
        return self.may(OrganisationPermission.CREATE_PROJECT)

    @property
    def may_manage_segment_overrides(self) -> bool:
        return self.may(EnvironmentPermission.MANAGE_SEGMENT_OVERRIDES)


def signed_in_user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User), "dashboard views are wrapped in login_required"
    return user


def user_scope(request: HttpRequest) -> Scope:
    user = signed_in_user(request)
    return Scope(user=user, organisations=list(organisations_of(user)))


def organisation_scope(request: HttpRequest, organisation_id: int) -> Scope:
    scope = user_scope(request)
    organisation = next((o for o in scope.organisations if o.pk == organisation_id), None)
    if organisation is None:
        raise Http404
    _enter_organisation(scope, organisation)
    return scope


def _enter_organisation(
    scope: Scope, organisation: Organisation, visible: list[Project] | None = None
) -> None:
    """``visible``: the user's projects in every organisation, when the caller has them."""
    scope.organisation = organisation
    scope.organisation_permissions = permissions.organisation_permissions(scope.user, organisation)
    if visible is None:
        scope.projects = list(projects_of(scope.user).filter(organisation=organisation))
    else:
        scope.projects = [p for p in visible if p.organisation_id == organisation.pk]


def project_scope(request: HttpRequest, project_id: int) -> Scope:
    scope = user_scope(request)
    # One query finds the project and fills the switcher: a user sees few projects in all.
    visible = list(projects_of(scope.user))
    project = next((p for p in visible if p.pk == project_id), None)
    organisation = next(
        (o for o in scope.organisations if project and o.pk == project.organisation_id), None
    )
    if project is None or organisation is None:
        raise Http404
    project.organisation = organisation
    _enter_organisation(scope, organisation, visible)
    scope.project = project
    scope.project_permissions = permissions.project_permissions(scope.user, project)
    scope.is_project_admin = permissions.is_project_admin(scope.user, project)
    scope.environments = list(
        permissions.environments_visible_to(scope.user)
        .filter(project=project)
        .distinct()
        .order_by("id")
    )
    return scope


def environment_scope(request: HttpRequest, project_id: int, client_key: str) -> Scope:
    """The scope of an environment page; remembered as the user's last environment."""
    scope = project_scope(request, project_id)
    environment = next((e for e in scope.environments if e.api_key == client_key), None)
    if environment is None:
        raise Http404
    assert scope.project is not None
    environment.project = scope.project
    scope.environment = environment
    scope.environment_permissions = permissions.environment_permissions(scope.user, environment)
    scope.is_environment_admin = permissions.is_environment_admin(scope.user, environment)
    if request.session.get(_LAST_ENVIRONMENT) != [project_id, client_key]:
        # Only on a change: an assignment saves the session, a write on every page view.
        request.session[_LAST_ENVIRONMENT] = [project_id, client_key]
    return scope


def last_environment(request: HttpRequest) -> tuple[int, str] | None:
    remembered = request.session.get(_LAST_ENVIRONMENT)
    if isinstance(remembered, list) and len(remembered) == 2:
        return int(remembered[0]), str(remembered[1])
    return None
