"""Reads of invites: an organisation's pending invites and links, and an invite by its hash."""

from __future__ import annotations

from typing import TypeVar

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from vexil.invites.models import Invite, InviteLink, hash_digest_of
from vexil.organisations.models import Organisation, OrganisationMembership

T = TypeVar("T", Invite, InviteLink)

# Longer values are never a hash of ours; refusing them early keeps the digest work bounded.
HASH_MAX_LENGTH = 100


class SignUpType:
    """Flagsmith's ``sign_up_type`` values."""

    NO_INVITE = "NO_INVITE"
    INVITE_EMAIL = "INVITE_EMAIL"
    INVITE_LINK = "INVITE_LINK"
    CHOICES = (NO_INVITE, INVITE_EMAIL, INVITE_LINK)


def invites_of(organisation: Organisation) -> QuerySet[Invite]:
    """An organisation's e-mail invites (expired ones included), newest first."""
    return (
        Invite.objects.filter(organisation=organisation)
        .select_related("invited_by")
        .prefetch_related("permission_groups")
        .order_by("-date_created", "-id")
    )


def invite_links_of(organisation: Organisation) -> QuerySet[InviteLink]:
    return InviteLink.objects.filter(organisation=organisation).order_by("-date_created", "-id")


def unexpired() -> Q:
    return Q(expires_at__isnull=True) | Q(expires_at__gte=timezone.now())


def _by_hash(queryset: QuerySet[T], value: str) -> T | None:
    if not value or len(value) > HASH_MAX_LENGTH:
        return None
    found = queryset.filter(hash_digest=hash_digest_of(value)).first()
    # The digest found the row; the hash itself is still compared in constant time.
    if found is None or not found.hash_matches(value):
        return None
    return found


def invite_for_hash(value: str, *, lock: bool = False) -> Invite | None:
    queryset = Invite.objects.select_related("organisation")
    return _by_hash(queryset.select_for_update() if lock else queryset, value)


def invite_link_for_hash(value: str) -> InviteLink | None:
    return _by_hash(InviteLink.objects.select_related("organisation"), value)


def seats_taken(organisation_id: int) -> int:
    """Members plus pending (unexpired) e-mail invites: what counts against the seat limit."""
    members = OrganisationMembership.objects.filter(organisation_id=organisation_id).count()
    pending = Invite.objects.filter(unexpired(), organisation_id=organisation_id).count()
    return members + pending


def sign_up_admitted(*, email: str, sign_up_type: str, invite_hash: str) -> bool:
    """Whether a sign-up carries an invite that lets it in while registration without one is
    closed: a valid link's hash, or an unexpired e-mail invite for this address (by its hash
    when one is given; without one, Flagsmith's rule: any invite for the address)."""
    if sign_up_type == SignUpType.INVITE_LINK:
        link = invite_link_for_hash(invite_hash)
        return link is not None and not link.is_expired and not settings.DISABLE_INVITE_LINKS
    if sign_up_type != SignUpType.INVITE_EMAIL:
        return False
    if invite_hash:
        invite = invite_for_hash(invite_hash)
        return invite is not None and not invite.is_expired and invite.email == email.lower()
    return Invite.objects.filter(unexpired(), email__iexact=email).exists()
