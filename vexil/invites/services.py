"""Invites: create, resend, revoke, and join an organisation by an e-mail invite or a link.

Every write is audited in the organisation's log. Invite e-mails go through the outbox
(:func:`vexil.common.mail.email_queue`), sent after the transaction commits. Seats (when
``MAX_SEATS_PER_ORGANISATION`` is set) are checked on every path that adds a person.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from vexil.audit.models import AuditAction
from vexil.audit.services import Actor, audit_record
from vexil.common.mail import email_queue, public_base_url
from vexil.invites import selectors
from vexil.invites.models import Invite, InviteLink
from vexil.organisations.models import (
    Organisation,
    OrganisationMembership,
    OrganisationRole,
    UserGroup,
)
from vexil.organisations.services import organisation_member_add, user_group_users_add
from vexil.users.models import User


class InviteRefusedError(Exception):
    """A join or an invite the rules refuse; ``message`` says why, ``code`` names the rule."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class InviteNotFoundError(Exception):
    """No invite has this hash (or it was used or revoked)."""


class InviteLinksDisabledError(InviteRefusedError):
    def __init__(self) -> None:
        super().__init__("Invite links are disabled.", "invite_links_disabled")


def _seats_error(limit: int) -> InviteRefusedError:
    return InviteRefusedError(
        f"This organisation has no free seat (its limit is {limit}): "
        "remove a member or a pending invite first.",
        "no_free_seat",
    )


def seats_check(*, organisation_id: int, adding: int, joining: bool = False) -> None:
    """Refuse when ``adding`` more people would pass ``MAX_SEATS_PER_ORGANISATION``.

    A pending invite already holds its seat: a person joining by their own e-mail invite
    (``joining``) moves it to a membership and adds nobody.
    """
    limit = settings.MAX_SEATS_PER_ORGANISATION
    if limit and selectors.seats_taken(organisation_id) + adding - int(joining) > limit:
        raise _seats_error(limit)


def _lock_organisation(organisation: Organisation) -> None:
    # Seat counts are read, then written: serialise the writers of one organisation.
    Organisation.objects.select_for_update().filter(pk=organisation.pk).first()


def _expiry() -> datetime:
    return timezone.now() + timedelta(days=settings.INVITE_EXPIRY_DAYS)


@dataclass(frozen=True)
class InviteRequest:
    email: str
    role: str = OrganisationRole.USER
    permission_group_ids: Sequence[int] = field(default_factory=tuple)


class InvitesInvalidError(ValidationError):
    """Some of the requested invites are refused, and none is made.

    ``problems`` holds one entry per requested invite, in order: ``{}`` for a good one, else
    its field names with their messages (``email``, ``permission_groups``), which is the shape
    DRF (and so Flagsmith) gives the errors of a list of objects. As a Django
    ``ValidationError`` it carries all the messages, for callers that only show them."""

    def __init__(self, problems: list[dict[str, list[str]]]) -> None:
        super().__init__([m for problem in problems for ms in problem.values() for m in ms])
        self.problems = problems


def _invite_problems(
    request: InviteRequest, earlier: set[str], pending: set[str], members: set[str]
) -> list[str]:
    email = request.email
    if email in earlier:
        return [f"Email {email} appears more than once."]
    if email in pending:
        return [f"Invite for email {email} already exists"]
    if email in members:
        return [f"{email} is already a member of the organisation."]
    return []


def _check_invitable(
    organisation: Organisation, requests: Sequence[InviteRequest]
) -> list[list[UserGroup]]:
    """Each request's groups; or :class:`InvitesInvalidError` naming what is wrong with each."""
    emails = [request.email for request in requests]
    pending_invites = Invite.objects.filter(organisation=organisation, email__in=emails)
    pending = set(pending_invites.filter(selectors.unexpired()).values_list("email", flat=True))
    members = set(
        OrganisationMembership.objects.filter(
            organisation=organisation, user__email__in=emails
        ).values_list("user__email", flat=True)
    )
    wanted_groups = {pk for request in requests for pk in request.permission_group_ids}
    groups = {
        g.pk: g for g in UserGroup.objects.filter(organisation=organisation, pk__in=wanted_groups)
    }
    problems: list[dict[str, list[str]]] = []
    earlier: set[str] = set()
    for request in requests:
        problem: dict[str, list[str]] = {}
        if email_problems := _invite_problems(request, earlier, pending, members):
            problem["email"] = email_problems
        missing = sorted(set(request.permission_group_ids) - set(groups))
        if missing:
            names = ", ".join(f'"{pk}"' for pk in missing)
            problem["permission_groups"] = [f"Invalid pk {names} - object does not exist."]
        earlier.add(request.email)
        problems.append(problem)
    if any(problems):
        raise InvitesInvalidError(problems)
    return [[groups[pk] for pk in dict.fromkeys(r.permission_group_ids)] for r in requests]


@transaction.atomic
def invites_create(
    *,
    organisation: Organisation,
    invites: Sequence[InviteRequest],
    invited_by: User | None,
    actor: Actor,
    request: HttpRequest | None = None,
    send_email: bool = True,
) -> list[Invite]:
    """Invite each address with its role and groups, and e-mail each its link (on commit,
    unless ``send_email`` is false: an operator hands the link over another way).

    An expired invite for the same address is replaced; a pending one, a member, an address
    given twice or another organisation's group is refused (:class:`InvitesInvalidError`, and
    nothing is created).
    """
    requests = [
        InviteRequest(
            User.objects.normalize_email(r.email).lower(), r.role, tuple(r.permission_group_ids)
        )
        for r in invites
    ]
    _lock_organisation(organisation)
    groups = _check_invitable(organisation, requests)
    Invite.objects.filter(organisation=organisation, email__in=[r.email for r in requests]).delete()
    seats_check(organisation_id=organisation.pk, adding=len(requests))
    base_url = public_base_url(request)
    created = []
    for invite_request, invite_groups in zip(requests, groups, strict=True):
        invite = _invite_create(organisation, invite_request, invited_by, actor)
        invite.permission_groups.set(invite_groups)
        if send_email:
            _invite_email(invite, base_url)
        created.append(invite)
    return created


def _invite_create(
    organisation: Organisation, request: InviteRequest, invited_by: User | None, actor: Actor
) -> Invite:
    invite = Invite(
        organisation=organisation,
        email=request.email,
        role=OrganisationRole(request.role),
        invited_by=invited_by,
        expires_at=_expiry(),
    )
    invite.set_hash_digest()
    invite.full_clean(exclude=["uuid", "hash_digest", "organisation", "invited_by"])
    invite.save()
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        resource_type="invite",
        resource_id=invite.pk,
        log=f"{invite.email} invited to {organisation.name!r} as {invite.role}",
        organisation_id=organisation.pk,
        after={
            "email": invite.email,
            "role": invite.role,
            "permission_groups": list(request.permission_group_ids),
        },
    )
    return invite


def invite_url(invite: Invite | InviteLink, base_url: str) -> str:
    """Flagsmith's shapes: ``<base>/invite/<hash>`` and ``<base>/invite-link/<hash>``."""
    path = "invite" if isinstance(invite, Invite) else "invite-link"
    return f"{base_url}/{path}/{invite.hash}"


def _invite_subject(invite: Invite) -> str:
    organisation = invite.organisation.name
    if invite.invited_by is None:
        return f"You have been invited to join the organisation '{organisation}' on Vexil"
    who = inviter_name(invite.invited_by) or "A user"
    return f"{who} has invited you to join the organisation '{organisation}' on Vexil"


def inviter_name(user: User) -> str:
    return f"{user.first_name} {user.last_name}".strip()


def _invite_email(invite: Invite, base_url: str) -> None:
    email_queue(
        kind="invite",
        recipient=invite.email,
        subject=_invite_subject(invite)[:255],
        template="invites/emails/invite",
        context={
            "invite": invite,
            "organisation": invite.organisation,
            "inviter": invite.invited_by,
            "inviter_name": (
                inviter_name(invite.invited_by) or invite.invited_by.email
                if invite.invited_by
                else ""
            ),
            "invite_url": invite_url(invite, base_url),
        },
        base_url=base_url,
        organisation_id=invite.organisation_id,
    )


@transaction.atomic
def invite_resend(*, invite: Invite, actor: Actor, request: HttpRequest | None = None) -> Invite:
    """E-mail the same link again; the invite's lifetime starts afresh."""
    invite.expires_at = _expiry()
    invite.save(update_fields=["expires_at"])
    _invite_email(invite, public_base_url(request))
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        resource_type="invite",
        resource_id=invite.pk,
        log=f"Invite of {invite.email} to {invite.organisation.name!r} sent again",
        organisation_id=invite.organisation_id,
        after={"expires_at": invite.expires_at.isoformat()},
    )
    return invite


@transaction.atomic
def invite_delete(*, invite: Invite, actor: Actor) -> None:
    """Revoke an invite: its link stops working."""
    audit_record(
        actor=actor,
        action=AuditAction.DELETE,
        resource_type="invite",
        resource_id=invite.pk,
        log=f"Invite of {invite.email} to {invite.organisation.name!r} revoked",
        organisation_id=invite.organisation_id,
        before={"email": invite.email, "role": invite.role},
    )
    invite.delete()


@transaction.atomic
def invite_link_create(
    *,
    organisation: Organisation,
    role: str = OrganisationRole.USER,
    expires_at: datetime | None = None,
    actor: Actor,
) -> InviteLink:
    if settings.DISABLE_INVITE_LINKS:
        raise InviteLinksDisabledError
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": ["The expiry must be in the future."]})
    link = InviteLink(organisation=organisation, role=OrganisationRole(role), expires_at=expires_at)
    link.set_hash_digest()
    link.save()
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        resource_type="invite_link",
        resource_id=link.pk,
        log=f"Invite link to {organisation.name!r} created for role {link.role}",
        organisation_id=organisation.pk,
        after={"role": link.role, "expires_at": expires_at.isoformat() if expires_at else None},
    )
    return link


@transaction.atomic
def invite_link_delete(*, link: InviteLink, actor: Actor) -> None:
    audit_record(
        actor=actor,
        action=AuditAction.DELETE,
        resource_type="invite_link",
        resource_id=link.pk,
        log=f"Invite link to {link.organisation.name!r} for role {link.role} deleted",
        organisation_id=link.organisation_id,
        before={"role": link.role},
    )
    link.delete()


def _join(
    organisation: Organisation,
    user: User,
    role: str,
    groups: Iterable[UserGroup],
    actor: Actor | None = None,
) -> OrganisationMembership:
    actor = actor or Actor(user=user)
    membership = organisation_member_add(
        organisation=organisation, user=user, role=OrganisationRole(role), actor=actor
    )
    defaults = UserGroup.objects.filter(organisation=organisation, is_default=True)
    for group in {*defaults, *groups}:
        user_group_users_add(group=group, user_ids=[user.pk], actor=actor)
    return membership


def _refuse_member(organisation: Organisation, user: User) -> None:
    if OrganisationMembership.objects.filter(organisation=organisation, user=user).exists():
        raise InviteRefusedError("You are already a member of this organisation.", "already_member")


@transaction.atomic
def invite_accept(*, user: User, invite_hash: str) -> OrganisationMembership:
    """Join by an e-mail invite: the invited address only, once, before it expires; the new
    member gets the invite's role, its groups and the organisation's default groups."""
    invite = selectors.invite_for_hash(invite_hash, lock=True)
    if invite is None:
        raise InviteNotFoundError
    if invite.is_expired:
        raise InviteRefusedError("Invite has expired", "invite_expired")
    if invite.email.lower() != user.email.lower():
        raise InviteRefusedError("Registered email does not match invited email", "email_mismatch")
    organisation = invite.organisation
    _lock_organisation(organisation)
    _refuse_member(organisation, user)
    seats_check(organisation_id=organisation.pk, adding=1, joining=True)
    membership = _join(organisation, user, invite.role, invite.permission_groups.all())
    audit_record(
        actor=Actor(user=user),
        action=AuditAction.DELETE,
        resource_type="invite",
        resource_id=invite.pk,
        log=f"Invite of {invite.email} to {organisation.name!r} accepted",
        organisation_id=organisation.pk,
        before={"email": invite.email, "role": invite.role},
    )
    invite.delete()
    return membership


@transaction.atomic
def invite_link_accept(*, user: User, invite_hash: str) -> OrganisationMembership:
    """Join by a link, with its role and the organisation's default groups; the link stays."""
    if settings.DISABLE_INVITE_LINKS:
        raise InviteLinksDisabledError
    link = selectors.invite_link_for_hash(invite_hash)
    if link is None:
        raise InviteNotFoundError
    if link.is_expired:
        raise InviteRefusedError("Invite has expired", "invite_expired")
    organisation = link.organisation
    _lock_organisation(organisation)
    _refuse_member(organisation, user)
    seats_check(organisation_id=organisation.pk, adding=1)
    membership = _join(organisation, user, link.role, ())
    audit_record(
        actor=Actor(user=user),
        action=AuditAction.UPDATE,
        resource_type="invite_link",
        resource_id=link.pk,
        log=f"{user.email} joined {organisation.name!r} by an invite link",
        organisation_id=organisation.pk,
        after={"user": user.pk, "role": link.role},
    )
    return membership


def invite_accept_any(*, user: User, invite_hash: str) -> OrganisationMembership:
    """Join by whichever kind of invite ``invite_hash`` names (the dashboard's accept page)."""
    if selectors.invite_link_for_hash(invite_hash) is not None:
        return invite_link_accept(user=user, invite_hash=invite_hash)
    return invite_accept(user=user, invite_hash=invite_hash)


@transaction.atomic
def member_add_or_invite(
    *,
    organisation: Organisation,
    email: str,
    role: str,
    actor: Actor,
    send_email: bool = True,
) -> OrganisationMembership | Invite:
    """The operator's way in (``vexil add-member``): an existing account becomes a member at
    once (with the default groups); an address without one gets an e-mail invite, whose link
    the caller shows. Seats are checked either way; an existing member is refused."""
    user = User.objects.filter(email__iexact=email.strip()).first()
    if user is None:
        [invite] = invites_create(
            organisation=organisation,
            invites=[InviteRequest(email, role)],
            invited_by=None,
            actor=actor,
            send_email=send_email,
        )
        return invite
    _lock_organisation(organisation)
    if OrganisationMembership.objects.filter(organisation=organisation, user=user).exists():
        raise InviteRefusedError(
            f"{user.email} is already a member of the organisation.", "already_member"
        )
    seats_check(organisation_id=organisation.pk, adding=1)
    return _join(organisation, user, role, (), actor=actor)
