"""Audit entries about a person's own account (password, two-factor sign-in).

Vexil's audit log, like Flagsmith's, belongs to an organisation, and an account belongs to none,
one or several. A change to an account is therefore written once into the log of every
organisation the person is a member of at the time, with the person as its author (resource type
``user``; the system when no one signed in made it, as a reset request), so each
organisation's administrators see what happened to their member's sign-in. An account in no
organisation leaves no entry.
"""

from __future__ import annotations

from typing import Any

from vexil.audit.models import AuditAction
from vexil.audit.services import Actor, audit_record
from vexil.organisations.models import OrganisationMembership
from vexil.users.models import User


def account_audit(
    *,
    user: User,
    log: str,
    actor: Actor | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """Write ``log`` about ``user``'s account, authored by them (or ``actor``), in each of their
    organisations.

    Call it inside the service's transaction, after the change."""
    organisation_ids = OrganisationMembership.objects.filter(user=user).values_list(
        "organisation_id", flat=True
    )
    for organisation_id in organisation_ids:
        audit_record(
            actor=actor or Actor(user=user),
            action=AuditAction.UPDATE,
            resource_type="user",
            resource_id=user.pk,
            log=log,
            organisation_id=organisation_id,
            before=before,
            after=after,
        )
