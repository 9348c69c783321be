from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from vexil.audit.models import AuditAction
from vexil.audit.services import Actor, audit_record
from vexil.environments.services import organisation_environments_revision_bump
from vexil.features.models import Feature
from vexil.organisations.models import (
    Organisation,
    OrganisationMembership,
    OrganisationRole,
    UserGroup,
)
from vexil.permissions.models import EnvironmentGrant, ProjectGrant
from vexil.users.models import User

logger = logging.getLogger(__name__)

# Fields an organisation's administrators may change over the API. ``persist_trait_data`` and
# ``stop_serving_flags`` are the operator's (Django admin), as in Flagsmith.
ORGANISATION_EDITABLE = (
    "name",
    "force_2fa",
    "restrict_project_create_to_admin",
    "webhook_notification_email",
    "feature_analytics",
)


# What only the operator changes (the Django admin), through organisation_operator_update.
ORGANISATION_OPERATOR_SETTINGS = ("persist_trait_data", "stop_serving_flags")


def _organisation_state(organisation: Organisation) -> dict[str, Any]:
    fields = (*ORGANISATION_EDITABLE, *ORGANISATION_OPERATOR_SETTINGS)
    return {name: getattr(organisation, name) for name in fields}


@transaction.atomic
def organisation_create(
    *, name: str, creator: User | None, actor: Actor, **settings: Any
) -> Organisation:
    """Create an organisation; its creator (if a user) becomes its first administrator.

    ``settings`` may set any of ``ORGANISATION_EDITABLE`` at creation.
    """
    _check_editable(settings)
    organisation = Organisation(name=name, **settings)
    organisation.full_clean(exclude=["uuid"])
    organisation.save()
    if creator is not None:
        OrganisationMembership.objects.create(
            user=creator, organisation=organisation, role=OrganisationRole.ADMIN
        )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        resource_type="organisation",
        resource_id=organisation.pk,
        log=f"Organisation {name!r} created",
        organisation_id=organisation.pk,
        after=_organisation_state(organisation),
    )
    return organisation


def _check_editable(
    changes: dict[str, Any], editable: Iterable[str] = ORGANISATION_EDITABLE
) -> None:
    unknown = sorted(set(changes) - set(editable))
    if unknown:
        raise ValidationError({name: ["This field cannot be changed."] for name in unknown})


# Organisation fields that the SDK environment document carries (vexil.evaluation.document).
DOCUMENT_FIELDS = frozenset(
    {"name", "feature_analytics", "stop_serving_flags", "persist_trait_data"}
)


@transaction.atomic
def organisation_update(
    *, organisation: Organisation, actor: Actor, **changes: Any
) -> Organisation:
    _check_editable(changes)
    return _organisation_update(organisation, actor, changes)


@transaction.atomic
def organisation_operator_update(
    *, organisation: Organisation, actor: Actor, **changes: Any
) -> Organisation:
    """The operator's change (Django admin): the administrators' fields and the operator's own."""
    _check_editable(changes, (*ORGANISATION_EDITABLE, *ORGANISATION_OPERATOR_SETTINGS))
    return _organisation_update(organisation, actor, changes)


def _organisation_update(
    organisation: Organisation, actor: Actor, changes: dict[str, Any]
) -> Organisation:
    before = _organisation_state(organisation)
    fields = [name for name, value in changes.items() if getattr(organisation, name) != value]
    if not fields:
        return organisation
    for name in fields:
        setattr(organisation, name, changes[name])
    organisation.full_clean(exclude=["uuid"])
    organisation.save(update_fields=fields)
    if DOCUMENT_FIELDS.intersection(fields):
        # The environment document carries these: every environment's document moves.
        organisation_environments_revision_bump(organisation_id=organisation.pk)
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        resource_type="organisation",
        resource_id=organisation.pk,
        log=f"Organisation {organisation.name!r} updated",
        organisation_id=organisation.pk,
        before=before,
        after=_organisation_state(organisation),
    )
    return organisation


@transaction.atomic
def organisation_delete(*, organisation: Organisation, actor: Actor) -> None:
    """Delete an organisation with everything it owns, its audit log included (the log is the
    organisation's; a trace of the deletion goes to the server log)."""
    logger.warning(
        "Organisation %s (%r) deleted by %s", organisation.pk, organisation.name, actor.label
    )
    organisation.delete()


@transaction.atomic
def organisation_member_add(
    *, organisation: Organisation, user: User, role: OrganisationRole, actor: Actor
) -> OrganisationMembership:
    membership, created = OrganisationMembership.objects.get_or_create(
        organisation=organisation, user=user, defaults={"role": role}
    )
    if created:
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            resource_type="organisation_membership",
            resource_id=membership.pk,
            log=f"{user.email} joined {organisation.name!r} as {role}",
            organisation_id=organisation.pk,
            after={"user": user.pk, "role": role},
        )
    return membership


def _admins_left(organisation_id: int, without_users: Iterable[int]) -> bool:
    return (
        OrganisationMembership.objects.filter(
            organisation_id=organisation_id, role=OrganisationRole.ADMIN
        )
        .exclude(user_id__in=list(without_users))
        .exists()
    )


@transaction.atomic
def organisation_member_role_update(
    *, membership: OrganisationMembership, role: OrganisationRole, actor: Actor
) -> OrganisationMembership:
    """Change a member's role; an organisation always keeps at least one administrator."""
    if membership.role == role:
        return membership
    # Lock the organisation's administrators, so two demotions cannot both see "one more left".
    list(
        OrganisationMembership.objects.select_for_update()
        .filter(organisation_id=membership.organisation_id, role=OrganisationRole.ADMIN)
        .values_list("pk", flat=True)
    )
    if role != OrganisationRole.ADMIN and not _admins_left(
        membership.organisation_id, [membership.user_id]
    ):
        raise ValidationError({"role": ["An organisation needs at least one administrator."]})
    before = {"user": membership.user_id, "role": membership.role}
    membership.role = role
    membership.save(update_fields=["role"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        resource_type="organisation_membership",
        resource_id=membership.pk,
        log=f"Role of user {membership.user_id} changed to {role}",
        organisation_id=membership.organisation_id,
        before=before,
        after={"user": membership.user_id, "role": role},
    )
    return membership


@transaction.atomic
def organisation_members_remove(
    *, organisation: Organisation, user_ids: Iterable[int], actor: Actor
) -> int:
    """Remove members, with their group memberships, grants and feature ownerships in this
    organisation (a former member's e-mail must not stay on its features).

    Ids that are not members are ignored; the last administrator cannot be removed.
    """
    memberships = list(
        OrganisationMembership.objects.select_for_update().filter(
            organisation=organisation, user_id__in=list(user_ids)
        )
    )
    removed = [m.user_id for m in memberships]
    if not removed:
        return 0
    if not _admins_left(organisation.pk, removed):
        raise ValidationError("An organisation needs at least one administrator.")
    UserGroup.users.through.objects.filter(
        usergroup__organisation=organisation, user_id__in=removed
    ).delete()
    ProjectGrant.objects.filter(project__organisation=organisation, user_id__in=removed).delete()
    EnvironmentGrant.objects.filter(
        environment__project__organisation=organisation, user_id__in=removed
    ).delete()
    Feature.owners.through.objects.filter(
        feature__project__organisation=organisation, user_id__in=removed
    ).delete()
    for membership in memberships:
        audit_record(
            actor=actor,
            action=AuditAction.DELETE,
            resource_type="organisation_membership",
            resource_id=membership.pk,
            log=f"User {membership.user_id} removed from {organisation.name!r}",
            organisation_id=organisation.pk,
            before={"user": membership.user_id, "role": membership.role},
        )
        membership.delete()
    return len(removed)


# --- Groups ---


def _group_state(group: UserGroup) -> dict[str, Any]:
    return {"name": group.name, "is_default": group.is_default, "external_id": group.external_id}


def _check_group_name(organisation_id: int, name: str, group_id: int | None = None) -> None:
    clash = UserGroup.objects.filter(organisation_id=organisation_id, name__iexact=name)
    if group_id is not None:
        clash = clash.exclude(pk=group_id)
    if clash.exists():
        raise ValidationError({"name": ["A group with this name already exists."]})


def _members_of(organisation_id: int, user_ids: Iterable[int]) -> list[int]:
    wanted = set(user_ids)
    members = set(
        OrganisationMembership.objects.filter(
            organisation_id=organisation_id, user_id__in=wanted
        ).values_list("user_id", flat=True)
    )
    if wanted - members:
        missing = ", ".join(str(i) for i in sorted(wanted - members))
        raise ValidationError({"user_ids": [f"Not members of the organisation: {missing}."]})
    return sorted(members)


@transaction.atomic
def user_group_create(
    *,
    organisation: Organisation,
    name: str,
    is_default: bool = False,
    external_id: str = "",
    user_ids: Iterable[int] = (),
    actor: Actor,
) -> UserGroup:
    _check_group_name(organisation.pk, name)
    members = _members_of(organisation.pk, user_ids)
    group = UserGroup.objects.create(
        organisation=organisation, name=name, is_default=is_default, external_id=external_id
    )
    group.users.add(*members)
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        resource_type="user_group",
        resource_id=group.pk,
        log=f"Group {name!r} created",
        organisation_id=organisation.pk,
        after={**_group_state(group), "users": members},
    )
    return group


@transaction.atomic
def user_group_update(*, group: UserGroup, actor: Actor, **changes: Any) -> UserGroup:
    unknown = sorted(set(changes) - {"name", "is_default", "external_id"})
    if unknown:
        raise ValidationError({name: ["This field cannot be changed."] for name in unknown})
    if "name" in changes:
        _check_group_name(group.organisation_id, changes["name"], group.pk)
    before = _group_state(group)
    fields = [name for name, value in changes.items() if getattr(group, name) != value]
    if not fields:
        return group
    for name in fields:
        setattr(group, name, changes[name])
    group.save(update_fields=fields)
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        resource_type="user_group",
        resource_id=group.pk,
        log=f"Group {group.name!r} updated",
        organisation_id=group.organisation_id,
        before=before,
        after=_group_state(group),
    )
    return group


@transaction.atomic
def user_group_delete(*, group: UserGroup, actor: Actor) -> None:
    audit_record(
        actor=actor,
        action=AuditAction.DELETE,
        resource_type="user_group",
        resource_id=group.pk,
        log=f"Group {group.name!r} deleted",
        organisation_id=group.organisation_id,
        before=_group_state(group),
    )
    group.delete()


@transaction.atomic
def user_group_users_add(*, group: UserGroup, user_ids: Iterable[int], actor: Actor) -> UserGroup:
    members = _members_of(group.organisation_id, user_ids)
    already = set(group.users.filter(pk__in=members).values_list("pk", flat=True))
    added = [pk for pk in members if pk not in already]
    if added:
        group.users.add(*added)
        _membership_audit(group, actor, added=added)
    return group


@transaction.atomic
def user_group_users_remove(
    *, group: UserGroup, user_ids: Iterable[int], actor: Actor
) -> UserGroup:
    present = sorted(group.users.filter(pk__in=list(user_ids)).values_list("pk", flat=True))
    if present:
        group.users.remove(*present)
        _membership_audit(group, actor, removed=present)
    return group


def _membership_audit(
    group: UserGroup, actor: Actor, added: list[int] | None = None, removed: list[int] | None = None
) -> None:
    verb = "added to" if added else "removed from"
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        resource_type="user_group",
        resource_id=group.pk,
        log=f"Users {', '.join(map(str, added or removed or []))} {verb} group {group.name!r}",
        organisation_id=group.organisation_id,
        before={"users_removed": removed} if removed else None,
        after={"users_added": added} if added else None,
    )
