from __future__ import annotations

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from vexil.common.models import OutboundEmail
from vexil.organisations.models import OrganisationMembership, OrganisationRole
from vexil.users.models import PendingSignUp, SetupToken, TOTPDevice, User


def password_sign_up_open() -> bool:
    """Whether anyone may sign up with a password, invited or not: not under ``PREVENT_SIGNUP``,
    nor under ``PREVENT_EMAIL_PASSWORD`` (accounts then come from single sign-on)."""
    return not settings.PREVENT_SIGNUP and not settings.PREVENT_EMAIL_PASSWORD


def registration_open() -> bool:
    """Whether a sign-up without an invite is taken (``ALLOW_REGISTRATION_WITHOUT_INVITE``)."""
    return settings.ALLOW_REGISTRATION_WITHOUT_INVITE and password_sign_up_open()


def instance_is_initialised() -> bool:
    """An install is set up once it has a superuser."""
    return User.objects.filter(is_superuser=True).exists()


def setup_token_is_valid(token: str) -> bool:
    if not token:
        return False
    oldest_accepted = timezone.now() - SetupToken.LIFETIME
    return SetupToken.objects.filter(
        digest=SetupToken.digest_of(token), created_at__gte=oldest_accepted
    ).exists()


def organisations_only_administered_by(user: User) -> list[str]:
    """Names of organisations with other members where ``user`` is the only administrator."""
    admin_of = OrganisationMembership.objects.filter(user=user, role=OrganisationRole.ADMIN)
    stranded = []
    for membership in admin_of.select_related("organisation"):
        others = OrganisationMembership.objects.filter(
            organisation_id=membership.organisation_id
        ).exclude(user=user)
        if others.exists() and not others.filter(role=OrganisationRole.ADMIN).exists():
            stranded.append(membership.organisation.name)
    return stranded


def user_get(*, user_id: int) -> User | None:
    return User.objects.filter(pk=user_id).first()


def two_factor_missing(user: User) -> bool:
    """``user`` belongs to an organisation that forces two-factor, and has not turned it on."""
    forced = OrganisationMembership.objects.filter(user=user, organisation__force_2fa=True)
    return forced.exists() and not TOTPDevice.objects.filter(user=user, is_active=True).exists()


def organisation_emails(*, organisation_id: int) -> QuerySet[OutboundEmail]:
    """The outbox records of e-mails sent for an organisation, newest first."""
    return OutboundEmail.objects.filter(organisation_id=organisation_id).order_by(
        "-created_at", "-id"
    )


# Longer values are never a sign-up token of ours; refusing them early bounds the digest work.
SIGN_UP_TOKEN_MAX_LENGTH = 100


def pending_sign_up_for_token(token: str, *, lock: bool = False) -> PendingSignUp | None:
    """The unexpired pending sign-up a confirmation link's token names; with ``lock``, its row
    locked for the rest of the transaction (the confirmation makes the account once)."""
    if not token or len(token) > SIGN_UP_TOKEN_MAX_LENGTH:
        return None
    rows = PendingSignUp.objects.select_related("invite_link__organisation")
    if lock:
        rows = rows.select_for_update(of=("self",))
    pending = rows.filter(token_digest=PendingSignUp.digest_of(token)).first()
    return None if pending is None or pending.is_expired else pending
