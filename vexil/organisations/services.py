from __future__ import annotations

from django.db import transaction

from vexil.audit.models import AuditAction
from vexil.audit.services import Actor, audit_record
from vexil.organisations.models import Organisation, OrganisationMembership, OrganisationRole
from vexil.users.models import User


@transaction.atomic
def organisation_create(*, name: str, creator: User | None, actor: Actor) -> Organisation:
    """Create an organisation; its creator (if a user) becomes its first administrator."""
    organisation = Organisation.objects.create(name=name)
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
        after={"name": name},
    )
    return organisation


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
