"""Writes of project and environment grants (Flagsmith's user- and group-permissions)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from vexil.audit.models import AuditAction
from vexil.audit.services import Actor, audit_record
from vexil.environments.models import Environment
from vexil.organisations.models import OrganisationMembership, UserGroup
from vexil.permissions.keys import ALL_ENVIRONMENT_PERMISSIONS, ALL_PROJECT_PERMISSIONS
from vexil.permissions.models import EnvironmentGrant, Grant, ProjectGrant
from vexil.projects.models import Project
from vexil.users.models import User


def _clean_keys(keys: Iterable[str], allowed: frozenset[str]) -> list[str]:
    keys = list(keys)
    unknown = sorted(set(keys) - allowed)
    if unknown:
        raise ValidationError({"permissions": [f"Unknown permission: {key}" for key in unknown]})
    return sorted(set(keys))


def _check_grantee(*, organisation_id: int, user: User | None, group: UserGroup | None) -> None:
    if (user is None) == (group is None):
        raise ValidationError("A grant is given to exactly one user or one group.")
    if (
        user is not None
        and not OrganisationMembership.objects.filter(
            user=user, organisation_id=organisation_id
        ).exists()
    ):
        raise ValidationError({"user": ["This user is not a member of the organisation."]})
    if group is not None and group.organisation_id != organisation_id:
        raise ValidationError({"group": ["This group belongs to another organisation."]})


def _state(grant: Grant) -> dict[str, Any]:
    return {
        "user": grant.user_id,
        "group": grant.group_id,
        "admin": grant.admin,
        "permissions": list(grant.permissions),
    }


@transaction.atomic
def project_grant_create(
    *,
    project: Project,
    user: User | None = None,
    group: UserGroup | None = None,
    admin: bool = False,
    permissions: Iterable[str] = (),
    actor: Actor,
) -> ProjectGrant:
    _check_grantee(organisation_id=project.organisation_id, user=user, group=group)
    keys = _clean_keys(permissions, ALL_PROJECT_PERMISSIONS)
    if ProjectGrant.objects.filter(project=project, user=user, group=group).exists():
        raise ValidationError("This user or group already has a grant here: update it instead.")
    grant = ProjectGrant.objects.create(
        project=project, user=user, group=group, admin=admin, permissions=keys
    )
    _audit(grant, AuditAction.CREATE, actor, project=project, after=_state(grant))
    return grant


@transaction.atomic
def environment_grant_create(
    *,
    environment: Environment,
    user: User | None = None,
    group: UserGroup | None = None,
    admin: bool = False,
    permissions: Iterable[str] = (),
    actor: Actor,
) -> EnvironmentGrant:
    _check_grantee(organisation_id=environment.project.organisation_id, user=user, group=group)
    keys = _clean_keys(permissions, ALL_ENVIRONMENT_PERMISSIONS)
    if EnvironmentGrant.objects.filter(environment=environment, user=user, group=group).exists():
        raise ValidationError("This user or group already has a grant here: update it instead.")
    grant = EnvironmentGrant.objects.create(
        environment=environment, user=user, group=group, admin=admin, permissions=keys
    )
    _audit(grant, AuditAction.CREATE, actor, environment=environment, after=_state(grant))
    return grant


@transaction.atomic
def grant_update(
    *,
    grant: ProjectGrant | EnvironmentGrant,
    admin: bool | None = None,
    permissions: Iterable[str] | None = None,
    actor: Actor,
) -> ProjectGrant | EnvironmentGrant:
    """Change what a grant allows; its grantee and object never change."""
    before = _state(grant)
    fields = []
    if admin is not None and admin != grant.admin:
        grant.admin = admin
        fields.append("admin")
    if permissions is not None:
        allowed = (
            ALL_PROJECT_PERMISSIONS
            if isinstance(grant, ProjectGrant)
            else ALL_ENVIRONMENT_PERMISSIONS
        )
        keys = _clean_keys(permissions, allowed)
        if keys != sorted(grant.permissions):
            grant.permissions = keys
            fields.append("permissions")
    if fields:
        grant.save(update_fields=fields)
        _audit(
            grant, AuditAction.UPDATE, actor, before=before, after=_state(grant), **_scope(grant)
        )
    return grant


@transaction.atomic
def grant_delete(*, grant: ProjectGrant | EnvironmentGrant, actor: Actor) -> None:
    before = _state(grant)
    scope = _scope(grant)
    _audit(grant, AuditAction.DELETE, actor, before=before, **scope)
    grant.delete()


def _scope(grant: ProjectGrant | EnvironmentGrant) -> dict[str, Any]:
    if isinstance(grant, ProjectGrant):
        return {"project": grant.project}
    return {"environment": grant.environment}


def _audit(
    grant: ProjectGrant | EnvironmentGrant,
    action: AuditAction,
    actor: Actor,
    *,
    project: Project | None = None,
    environment: Environment | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    target = environment or project
    assert target is not None
    organisation_id = (environment.project if environment else project).organisation_id  # type: ignore[union-attr]
    kind = "environment" if environment else "project"
    verb = {"CREATE": "granted", "UPDATE": "changed", "DELETE": "revoked"}[action]
    audit_record(
        actor=actor,
        action=action,
        resource_type=f"{kind}_grant",
        resource_id=grant.pk,
        log=f"Permissions of {grant.grantee_label} on {kind} {target.name!r} {verb}",
        organisation_id=organisation_id,
        project=project,
        environment=environment,
        before=before,
        after=after,
    )
