"""What a user may see and do. Every queryset the API returns is narrowed through these.

Rules: an organisation ADMIN may do everything in it; a project grant with ``admin`` implies every
project and environment permission in that project; an environment grant with ``admin`` implies
every permission on that environment. A user's permissions are the union of their own grants and
those of every group they belong to. Any project or environment permission implies VIEW of it.

Any environment grant in a project also implies VIEW_PROJECT on that project, and nothing more:
whoever may see an environment's flags may read the features, segments and tags they are made of
(read-only; every project write still needs its own project permission).

Within one request the rows these rules read (a user's organisation role, their grants on a
project or an environment) are remembered: a page asks the same questions several times (its
navigation, its controls, each permission check). The memo lives only inside
:func:`remembered_per_request`, which ``vexil.permissions.middleware`` enters around every
request, never across requests; any change to a membership, a grant or a group's members
forgets it at once (signals, connected in ``apps.py``). Outside a request nothing is remembered.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from django.db.models import Q, QuerySet

from vexil.environments.models import Environment
from vexil.organisations.models import Organisation, OrganisationMembership, OrganisationRole
from vexil.permissions.keys import (
    ALL_ENVIRONMENT_PERMISSIONS,
    ALL_ORGANISATION_PERMISSIONS,
    ALL_PROJECT_PERMISSIONS,
    EnvironmentPermission,
    OrganisationPermission,
    ProjectPermission,
)
from vexil.permissions.models import EnvironmentGrant, ProjectGrant
from vexil.permissions.principals import MasterKeyPrincipal, Principal
from vexil.projects.models import Project
from vexil.users.models import User

_T = TypeVar("_T")
_memo: ContextVar[dict[tuple[Any, ...], Any] | None] = ContextVar(
    "vexil_permission_memo", default=None
)


@contextmanager
def remembered_per_request() -> Iterator[None]:
    """Remember the permission rows read inside this block (one request), and only there."""
    token = _memo.set({})
    try:
        yield
    finally:
        _memo.reset(token)


def forget_remembered(**_: object) -> None:
    """Forget what this request remembered (a membership, grant or group changed)."""
    memo = _memo.get()
    if memo is not None:
        memo.clear()


def _remembered(key: tuple[Any, ...], read: Callable[[], _T]) -> _T:
    memo = _memo.get()
    if memo is None:
        return read()
    if key not in memo:
        memo[key] = read()
    return memo[key]


def _grantee(user: User) -> Q:
    return Q(user=user) | Q(group__users=user)


def organisation_role(user: Principal, organisation_id: int) -> str | None:
    if isinstance(user, MasterKeyPrincipal):
        if user.organisation_id != organisation_id:
            return None
        return OrganisationRole.ADMIN if user.is_admin else OrganisationRole.USER
    return _remembered(
        ("role", user.pk, organisation_id),
        lambda: (
            OrganisationMembership.objects.filter(user=user, organisation_id=organisation_id)
            .values_list("role", flat=True)
            .first()
        ),
    )


def _project_grants(user: User, project: Project) -> tuple[tuple[bool, list[str]], ...]:
    """``(admin, permissions)`` of each grant on ``project`` to the user or their groups."""
    return _remembered(
        ("project_grants", user.pk, project.pk),
        lambda: tuple(
            ProjectGrant.objects.filter(_grantee(user), project=project).values_list(
                "admin", "permissions"
            )
        ),
    )


def _environment_grants(user: User, environment: Environment) -> tuple[tuple[bool, list[str]], ...]:
    """``(admin, permissions)`` of each grant on ``environment`` to the user or their groups."""
    return _remembered(
        ("environment_grants", user.pk, environment.pk),
        lambda: tuple(
            EnvironmentGrant.objects.filter(_grantee(user), environment=environment).values_list(
                "admin", "permissions"
            )
        ),
    )


def is_organisation_admin(user: Principal, organisation_id: int) -> bool:
    return organisation_role(user, organisation_id) == OrganisationRole.ADMIN


def organisations_for(user: Principal) -> QuerySet[Organisation]:
    if isinstance(user, MasterKeyPrincipal):
        return Organisation.objects.filter(id=user.organisation_id)
    return Organisation.objects.filter(memberships__user=user)


def project_permissions(user: Principal, project: Project) -> frozenset[str]:
    if is_organisation_admin(user, project.organisation_id):
        return ALL_PROJECT_PERMISSIONS
    if isinstance(user, MasterKeyPrincipal):
        return frozenset()
    granted: set[str] = set()
    for admin, keys in _project_grants(user, project):
        if admin:
            return ALL_PROJECT_PERMISSIONS
        granted.update(keys)
    if granted or _has_environment_grant_in(user, project):
        granted.add(ProjectPermission.VIEW_PROJECT)
    return frozenset(granted)


def _has_environment_grant_in(user: User, project: Project) -> bool:
    return EnvironmentGrant.objects.filter(_grantee(user), environment__project=project).exists()


def is_project_admin(user: Principal, project: Project) -> bool:
    if is_organisation_admin(user, project.organisation_id):
        return True
    if isinstance(user, MasterKeyPrincipal):
        return False
    return any(admin for admin, _ in _project_grants(user, project))


def environment_permissions(user: Principal, environment: Environment) -> frozenset[str]:
    if is_project_admin(user, environment.project):
        return ALL_ENVIRONMENT_PERMISSIONS
    if isinstance(user, MasterKeyPrincipal):
        return frozenset()
    granted: set[str] = set()
    for admin, keys in _environment_grants(user, environment):
        if admin:
            return ALL_ENVIRONMENT_PERMISSIONS
        granted.update(keys)
    if granted:
        granted.add(EnvironmentPermission.VIEW_ENVIRONMENT)
    return frozenset(granted)


def has_project_permission(user: Principal, project: Project, permission: str) -> bool:
    return permission in project_permissions(user, project)


def has_environment_permission(user: Principal, environment: Environment, permission: str) -> bool:
    return permission in environment_permissions(user, environment)


def projects_visible_to(user: Principal) -> QuerySet[Project]:
    """Projects the user may see: any project grant, any environment grant in it, or org admin."""
    if isinstance(user, MasterKeyPrincipal):
        return (
            Project.objects.filter(organisation_id=user.organisation_id)
            if user.is_admin
            else Project.objects.none()
        )
    admin_orgs = OrganisationMembership.objects.filter(
        user=user, role=OrganisationRole.ADMIN
    ).values("organisation_id")
    via_project = ProjectGrant.objects.filter(_grantee(user)).values("project_id")
    via_environment = EnvironmentGrant.objects.filter(_grantee(user)).values(
        "environment__project_id"
    )
    return Project.objects.filter(
        Q(organisation_id__in=admin_orgs) | Q(id__in=via_project) | Q(id__in=via_environment)
    ).filter(organisation__memberships__user=user)


def environments_visible_to(user: Principal) -> QuerySet[Environment]:
    """Environments the user may see: an environment grant, project admin, or org admin."""
    if isinstance(user, MasterKeyPrincipal):
        if not user.is_admin:
            return Environment.objects.none()
        return Environment.objects.filter(project__organisation_id=user.organisation_id)
    admin_orgs = OrganisationMembership.objects.filter(
        user=user, role=OrganisationRole.ADMIN
    ).values("organisation_id")
    admin_projects = ProjectGrant.objects.filter(_grantee(user), admin=True).values("project_id")
    via_environment = EnvironmentGrant.objects.filter(_grantee(user)).values("environment_id")
    return Environment.objects.filter(
        Q(project__organisation_id__in=admin_orgs)
        | Q(project_id__in=admin_projects)
        | Q(id__in=via_environment)
    ).filter(project__organisation__memberships__user=user)


def organisation_permissions(user: Principal, organisation: Organisation) -> frozenset[str]:
    """See :class:`~vexil.permissions.keys.OrganisationPermission`."""
    role = organisation_role(user, organisation.pk)
    if role == OrganisationRole.ADMIN:
        return ALL_ORGANISATION_PERMISSIONS
    user_may_create = not organisation.restrict_project_create_to_admin
    if role == OrganisationRole.USER and user_may_create and isinstance(user, User):
        return frozenset({OrganisationPermission.CREATE_PROJECT})
    return frozenset()


def is_environment_admin(user: Principal, environment: Environment) -> bool:
    """Project admin (so org admin), or an ``admin`` environment grant."""
    if is_project_admin(user, environment.project):
        return True
    if isinstance(user, MasterKeyPrincipal):
        return False
    return any(admin for admin, _ in _environment_grants(user, environment))


def project_ids_with_permission(user: Principal, permission: str) -> set[int]:
    """Projects where ``user`` holds ``permission`` through a project grant (not via org admin).

    Evaluated in Python: grants are few per user, and JSON list containment is not portable
    across SQLite and PostgreSQL.
    """
    if isinstance(user, MasterKeyPrincipal):
        return set()
    rows = ProjectGrant.objects.filter(_grantee(user)).values_list(
        "project_id", "admin", "permissions"
    )
    return {project_id for project_id, admin, keys in rows if admin or permission in keys}


def admin_organisation_ids(user: Principal) -> set[int]:
    if isinstance(user, MasterKeyPrincipal):
        return {user.organisation_id} if user.is_admin else set()
    return set(
        OrganisationMembership.objects.filter(user=user, role=OrganisationRole.ADMIN).values_list(
            "organisation_id", flat=True
        )
    )


def grants_on_project(project: Project) -> QuerySet[ProjectGrant]:
    """The grants on a project (to users and to groups), with their grantee, oldest first."""
    return (
        ProjectGrant.objects.filter(project=project).select_related("user", "group").order_by("id")
    )


def grants_on_environment(environment: Environment) -> QuerySet[EnvironmentGrant]:
    """The grants on an environment (to users and to groups), with their grantee, oldest first."""
    return (
        EnvironmentGrant.objects.filter(environment=environment)
        .select_related("user", "group")
        .order_by("id")
    )
