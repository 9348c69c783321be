from __future__ import annotations

import secrets

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.signals import user_logged_in
from django.contrib.sites.models import Site
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from knox.models import AuthToken

from vexil.common.mail import email_queue, public_base_url
from vexil.invites.selectors import SignUpType, sign_up_admitted
from vexil.users import two_factor
from vexil.users.backends import RETRY_AFTER_ATTRIBUTE
from vexil.users.models import SetupToken, User
from vexil.users.passwords import password_set, password_validate
from vexil.users.selectors import instance_is_initialised, organisations_only_administered_by

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


@transaction.atomic
def user_register(
    *,
    email: str,
    password: str,
    first_name: str = "",
    last_name: str = "",
    sign_up_type: str = SignUpType.NO_INVITE,
    invite_hash: str = "",
) -> tuple[User, str]:
    """Create an account (when registration is open to it) and return it with a first token."""
    user = user_sign_up(
        email=email,
        password=password,
        first_name=first_name,
        last_name=last_name,
        sign_up_type=sign_up_type,
        invite_hash=invite_hash,
    )
    return user, auth_token_issue(user=user)


@transaction.atomic
def user_sign_up(
    *,
    email: str,
    password: str,
    first_name: str = "",
    last_name: str = "",
    sign_up_type: str = SignUpType.NO_INVITE,
    invite_hash: str = "",
) -> User:
    """Create an account (the dashboard signs it in by session). ``PREVENT_SIGNUP`` refuses
    every sign-up, ``PREVENT_EMAIL_PASSWORD`` every sign-up with a password (all of them here);
    ``ALLOW_REGISTRATION_WITHOUT_INVITE=false`` all but those with an invite
    (Flagsmith's ``sign_up_type`` and ``invite_hash``). Joining is a separate step."""
    if settings.PREVENT_SIGNUP:
        raise SignUpPreventedError
    if settings.PREVENT_EMAIL_PASSWORD:
        raise PasswordSignUpPreventedError
    if not settings.ALLOW_REGISTRATION_WITHOUT_INVITE and not sign_up_admitted(
        email=email, sign_up_type=sign_up_type, invite_hash=invite_hash
    ):
        raise RegistrationClosedError
    email = User.objects.normalize_email(email).lower()
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError({"email": ["A user with this e-mail address already exists."]})
    candidate = User(email=email, first_name=first_name, last_name=last_name)
    password_validate(password, user=candidate, field="password")
    return User.objects.create_user(
        email=email, password=password, first_name=first_name, last_name=last_name
    )


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
