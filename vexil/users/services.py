from __future__ import annotations

import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.hashers import make_password
from django.contrib.auth.signals import user_logged_in
from django.contrib.sites.models import Site
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from knox.models import AuthToken

from vexil.common.mail import email_queue, public_base_url
from vexil.invites.selectors import SignUpType, invite_link_for_hash, sign_up_admitted
from vexil.invites.services import InviteNotFoundError, InviteRefusedError, invite_link_accept
from vexil.users import two_factor
from vexil.users.backends import RETRY_AFTER_ATTRIBUTE
from vexil.users.limits import rate_limit_hit
from vexil.users.models import PendingSignUp, SetupToken, User
from vexil.users.passwords import password_set, password_validate
from vexil.users.selectors import (
    instance_is_initialised,
    organisations_only_administered_by,
    pending_sign_up_for_token,
)

INSTANCE_INITIALISED_SUBJECT = "Your Vexil install is set up"


class InstanceAlreadyInitialisedError(Exception):
    """The install already has a superuser; first-run set-up is closed."""


def setup_token_issue() -> str | None:
    """Issue a one-time setup token if the install is not set up yet; return it (shown once)."""
    if instance_is_initialised():
        SetupToken.objects.all().delete()
        return None
    token = secrets.token_urlsafe(24)
    SetupToken.objects.create(digest=SetupToken.digest_of(token))
    return token


@transaction.atomic
def instance_initialise(
    *,
    email: str,
    password: str,
    first_name: str = "",
    last_name: str = "",
    site_name: str = "",
    site_domain: str = "",
    request: HttpRequest | None = None,
) -> User:
    """Create the first superuser and name the site; refuse once the install is set up.

    On commit, the new administrator is e-mailed that the install is ready (links from
    :func:`vexil.common.mail.public_base_url`, the request's host when there is one).
    """
    # The site row doubles as the first-run mutex: two racing requests queue on its row lock, and
    # the second then sees the superuser the first created.
    Site.objects.select_for_update().filter(pk=1).first()
    if instance_is_initialised():
        raise InstanceAlreadyInitialisedError
    user = User.objects.create_superuser(
        email=email, password=password, first_name=first_name, last_name=last_name
    )
    if site_name or site_domain:
        site_update(name=site_name, domain=site_domain)
    SetupToken.objects.all().delete()
    email_queue(
        kind="instance_initialised",
        recipient=user.email,
        subject=INSTANCE_INITIALISED_SUBJECT,
        template="users/emails/instance_initialised",
        context={"user": user},
        base_url=public_base_url(request),
    )
    return user


def site_update(*, name: str, domain: str) -> Site:
    site, _ = Site.objects.get_or_create(pk=1, defaults={"domain": domain, "name": name})
    site.name = name or site.name
    site.domain = domain or site.domain
    site.save(update_fields=["name", "domain"])
    return site


def password_generate() -> str:
    return secrets.token_urlsafe(18)


# --- Accounts and tokens (the management API's auth endpoints) ---


class RegistrationClosedError(Exception):
    """Self-registration is off (``ALLOW_REGISTRATION_WITHOUT_INVITE=false``) and the sign-up
    carries no valid invite."""


class SignUpPreventedError(RegistrationClosedError):
    """``PREVENT_SIGNUP``: no sign-up at all, invited or not."""

    message = "Sign-up is disabled on this installation."


class PasswordSignUpPreventedError(SignUpPreventedError):
    """``PREVENT_EMAIL_PASSWORD``: password sign-in is off, and so is signing up with a password
    (a sign-up is signed in at once); accounts come from single sign-on."""

    message = "Sign-up with a password is disabled: sign in with single sign-on."


class LockedOutError(Exception):
    """django-axes refuses this client: too many failed logins."""


class LoginDelayedError(LockedOutError):
    """This account had too many failed logins: the next attempt must wait ``retry_after``
    (a kind of lock-out that ends by itself; callers that only know lock-outs answer 429)."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(retry_after)
        self.retry_after = retry_after


def auth_token_issue(*, user: User) -> str:
    """Issue a new API token for ``user`` and return its plaintext (shown once, stored hashed)."""
    _, token = AuthToken.objects.create(user=user)
    return token


def user_authenticate(*, request: HttpRequest, email: str, password: str) -> User:
    """Check credentials through Django's backends (django-axes counts failures and locks out).

    The one check behind every sign-in (API token login and dashboard session). Wrong
    credentials and inactive users get the same answer; a locked-out client raises
    :class:`LockedOutError` whatever it sends. Signing in afterwards is the caller's.
    """
    email = User.objects.normalize_email(email).lower()
    user = authenticate(request=request, email=email, password=password)
    if getattr(request, "axes_locked_out", False):
        raise LockedOutError
    retry_after = getattr(request, RETRY_AFTER_ATTRIBUTE, 0.0)
    if retry_after:
        raise LoginDelayedError(retry_after)
    if not isinstance(user, User) or not user.is_active:
        raise ValidationError("Unable to log in with the provided credentials.")
    return user


def user_login(*, request: HttpRequest, email: str, password: str) -> dict[str, str]:
    """:func:`user_authenticate`, then a new token: ``{"key"}``. With two-factor on, no token
    yet but ``{"ephemeral_token", "method": "app"}`` for :func:`user_login_with_code`."""
    user = user_authenticate(request=request, email=email, password=password)
    if two_factor.two_factor_is_active(user):
        return {"ephemeral_token": two_factor.ephemeral_token_issue(user=user), "method": "app"}
    return {"key": _login_complete(request, user)}


def user_login_with_code(*, request: HttpRequest, ephemeral_token: str, code: str) -> str:
    """The second step of a two-factor login: a new token for a valid code."""
    user = two_factor.login_with_code(ephemeral_token=ephemeral_token, code=code)
    return _login_complete(request, user)


def _login_complete(request: HttpRequest, user: User) -> str:
    # Signals Django and axes listen to: last_login, and axes resetting this client's failures.
    user_logged_in.send(sender=User, request=request, user=user)
    return auth_token_issue(user=user)


def auth_token_revoke(*, token: AuthToken) -> None:
    token.delete()


def auth_tokens_revoke_all(*, user: User, keep: AuthToken | None = None) -> int:
    tokens = AuthToken.objects.filter(user=user)
    if keep is not None:
        tokens = tokens.exclude(digest=keep.digest)
    deleted, _ = tokens.delete()
    return deleted


SIGN_UP_CONFIRM_SUBJECT = "Finish signing up"
SIGN_UP_TAKEN_SUBJECT = "Someone tried to sign up with your address"
SIGN_UP_CONFIRM_PATH = "/sign-up/confirm/{token}"
SIGN_UP_CHECK_EMAIL = "Check your e-mail to finish signing up."
SIGN_UP_LINK_INVALID = "This sign-up link is not valid or has expired: sign up again."
SIGN_UP_ALREADY_DONE = "This address already has an account: sign in."


@transaction.atomic
def user_register(
    *,
    email: str,
    password: str,
    first_name: str = "",
    last_name: str = "",
    sign_up_type: str = SignUpType.NO_INVITE,
    invite_hash: str = "",
    request: HttpRequest | None = None,
) -> str | None:
    """The API's sign-up: :func:`user_sign_up_start`, and a first token when the account was
    made at once (an e-mail invite's hash proved the address). ``None``: check your e-mail."""
    user = user_sign_up_start(
        email=email,
        password=password,
        first_name=first_name,
        last_name=last_name,
        sign_up_type=sign_up_type,
        invite_hash=invite_hash,
        request=request,
    )
    return None if user is None else auth_token_issue(user=user)


def _password_sign_up_check() -> None:
    if settings.PREVENT_SIGNUP:
        raise SignUpPreventedError
    if settings.PREVENT_EMAIL_PASSWORD:
        raise PasswordSignUpPreventedError


def _sign_up_check_open(*, email: str, sign_up_type: str, invite_hash: str) -> None:
    _password_sign_up_check()
    if not settings.ALLOW_REGISTRATION_WITHOUT_INVITE and not sign_up_admitted(
        email=email, sign_up_type=sign_up_type, invite_hash=invite_hash
    ):
        raise RegistrationClosedError


def _email_invite_proves_address(*, email: str, sign_up_type: str, invite_hash: str) -> bool:
    """An e-mail invite's hash was mailed to its address: holding it proves the mailbox."""
    return (
        sign_up_type == SignUpType.INVITE_EMAIL
        and bool(invite_hash)
        and sign_up_admitted(email=email, sign_up_type=sign_up_type, invite_hash=invite_hash)
    )


@transaction.atomic
def user_sign_up_start(
    *,
    email: str,
    password: str,
    first_name: str = "",
    last_name: str = "",
    sign_up_type: str = SignUpType.NO_INVITE,
    invite_hash: str = "",
    request: HttpRequest | None = None,
) -> User | None:
    """Sign up, answering the same whether or not the address has an account.

    ``PREVENT_SIGNUP``, ``PREVENT_EMAIL_PASSWORD`` and ``ALLOW_REGISTRATION_WITHOUT_INVITE``
    refuse first, then the password validators (they do not depend on the address). With the
    hash of an e-mail invite for this address the account is made at once and returned (the
    hash was mailed there). Otherwise ``None``: a new address gets a confirmation link (the
    account is made by :func:`user_sign_up_confirm`), an address with an account an e-mail
    saying someone tried; both do the same work (hash the password, queue one e-mail). At most
    ``MAX_PASSWORD_RESET_EMAILS`` such e-mails per address per ``PASSWORD_RESET_EMAIL_COOLDOWN``;
    beyond it the answer is the same and nothing is sent or kept.
    """
    email = User.objects.normalize_email(email).lower()
    _sign_up_check_open(email=email, sign_up_type=sign_up_type, invite_hash=invite_hash)
    proven = _email_invite_proves_address(
        email=email, sign_up_type=sign_up_type, invite_hash=invite_hash
    )
    candidate = User(email=email, first_name=first_name, last_name=last_name)
    if proven:  # the hash was mailed to this address: the account at once
        if User.objects.filter(email__iexact=email).exists():
            raise ValidationError({"email": ["A user with this e-mail address already exists."]})
        password_validate(password, user=candidate, field="password")
        return User.objects.create_user(
            email=email, password=password, first_name=first_name, last_name=last_name
        )
    password_validate(password, user=candidate, field="password")
    password_hash = make_password(password)
    base_url = public_base_url(request)
    existing = User.objects.filter(email__iexact=email).first()
    # No mail-bombing an address through sign-up: the reset e-mails' limit per address applies.
    limited = rate_limit_hit(
        key=f"sign_up:account:{email}",
        limit=settings.MAX_PASSWORD_RESET_EMAILS,
        period=settings.PASSWORD_RESET_EMAIL_COOLDOWN,
    )
    if limited:
        return None
    if existing is not None:
        email_queue(
            kind="sign_up_taken",
            recipient=existing.email,
            subject=SIGN_UP_TAKEN_SUBJECT,
            template="users/emails/sign_up_taken",
            context={"user": existing},
            base_url=base_url,
        )
        return None
    now = timezone.now()
    expires_at = now + timedelta(seconds=settings.SIGN_UP_CONFIRMATION_TIMEOUT)
    PendingSignUp.objects.filter(expires_at__lt=now).delete()
    token = secrets.token_urlsafe(32)
    link = invite_link_for_hash(invite_hash) if sign_up_type == SignUpType.INVITE_LINK else None
    PendingSignUp.objects.create(
        email=email,
        password=password_hash,
        first_name=first_name,
        last_name=last_name,
        sign_up_type=sign_up_type,
        invite_link=link,
        token_digest=PendingSignUp.digest_of(token),
        created_at=now,
        expires_at=expires_at,
    )
    email_queue(
        kind="sign_up_confirm",
        recipient=email,
        subject=SIGN_UP_CONFIRM_SUBJECT,
        template="users/emails/sign_up_confirm",
        context={
            "first_name": first_name,
            "confirm_url": base_url + SIGN_UP_CONFIRM_PATH.format(token=token),
            "expires_at": expires_at,
        },
        base_url=base_url,
    )
    return None


@transaction.atomic
def user_sign_up_confirm(*, token: str) -> tuple[User, int | None]:
    """Make the account of a pending sign-up from its e-mailed token (once, before it expires);
    join the organisation of the invite link it came with, when that still works. Returns the
    user and the organisation joined, if any."""
    pending = pending_sign_up_for_token(token, lock=True)
    if pending is None:
        raise ValidationError({"token": [SIGN_UP_LINK_INVALID]})
    _password_sign_up_check()
    if User.objects.filter(email__iexact=pending.email).exists():
        raise ValidationError({"email": [SIGN_UP_ALREADY_DONE]})
    user = User(
        email=pending.email,
        first_name=pending.first_name,
        last_name=pending.last_name,
        password=pending.password,
    )
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:  # the same address confirmed at the same moment by another link
        raise ValidationError({"email": [SIGN_UP_ALREADY_DONE]}) from None
    # Every pending sign-up of the address is spent: the account exists now.
    PendingSignUp.objects.filter(email__iexact=pending.email).delete()
    joined = None
    link = pending.invite_link
    if link is not None:
        try:
            joined = invite_link_accept(user=user, invite_hash=link.hash).organisation_id
        except (InviteRefusedError, InviteNotFoundError):
            joined = None  # the link expired or the organisation is full: the account stays
    return user, joined


@transaction.atomic
def user_update(*, user: User, **changes: str) -> User:
    """Change a user's own profile: first and last name, e-mail address."""
    unknown = set(changes) - {"email", "first_name", "last_name"}
    if unknown:
        raise ValidationError(f"Cannot change {', '.join(sorted(unknown))}.")
    if "email" in changes:
        changes["email"] = User.objects.normalize_email(changes["email"]).lower()
        clash = User.objects.filter(email__iexact=changes["email"]).exclude(pk=user.pk)
        if clash.exists():
            raise ValidationError({"email": ["A user with this e-mail address already exists."]})
    fields = [name for name, value in changes.items() if getattr(user, name) != value]
    for name in fields:
        setattr(user, name, changes[name])
    if fields:
        user.save(update_fields=fields)
    return user


@transaction.atomic
def user_password_set(
    *, user: User, current_password: str, new_password: str, keep: AuthToken | None = None
) -> None:
    """Change a password; every other token and session of the user stops working."""
    if not user.check_password(current_password):
        raise ValidationError({"current_password": ["This password is not correct."]})
    password_validate(new_password, user=user)
    password_set(user=user, password=new_password, keep=keep, how="changed")


@transaction.atomic
def user_delete(*, user: User, current_password: str) -> None:
    """Delete one's own account. The last administrator of an organisation with other members
    must first hand the role on, or the organisation would be left with no one to run it."""
    if user.has_usable_password() and not user.check_password(current_password):
        raise ValidationError({"current_password": ["This password is not correct."]})
    stranded = organisations_only_administered_by(user)
    if stranded:
        raise ValidationError(
            "You are the last administrator of: "
            + ", ".join(sorted(stranded))
            + ". Make another member an administrator first."
        )
    user.delete()
