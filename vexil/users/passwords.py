"""Passwords: validation with per-field messages, reset by e-mail, and the audit of changes.

A reset link is ``<public URL>/password-reset/confirm/<uid>/<token>`` (djoser's and Flagsmith's
shape). The token is Django's: it expires after ``PASSWORD_RESET_TIMEOUT`` and stops working as
soon as the password changes (so it is single-use) or the user signs in again.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from knox.models import AuthToken

from vexil.audit.services import SYSTEM
from vexil.common.mail import email_queue, public_base_url
from vexil.users.account_audit import account_audit
from vexil.users.limits import login_failures_clear, rate_limit_hit
from vexil.users.models import User

RESET_EMAIL_SUBJECT = "Reset your password"
RESET_LINK_PATH = "/password-reset/confirm/{uid}/{token}"


def password_validate(password: str, *, user: User, field: str = "new_password") -> None:
    """Django's password validators, their messages under ``field``."""
    try:
        validate_password(password, user=user)
    except ValidationError as error:
        raise ValidationError({field: list(error.messages)}) from None


def password_set(*, user: User, password: str, keep: AuthToken | None = None, how: str) -> None:
    """Store a new password; every token but ``keep`` and every other session stops working
    (sessions carry a hash of the password), the login delay is cleared, and it is audited."""
    user.set_password(password)
    user.save(update_fields=["password"])
    tokens = AuthToken.objects.filter(user=user)
    if keep is not None:
        tokens = tokens.exclude(digest=keep.digest)
    tokens.delete()
    login_failures_clear(email=user.email)
    account_audit(user=user, log=f"Password {how} for {user.email}")


def password_reset_request(*, email: str, request: HttpRequest | None = None) -> None:
    """E-mail a reset link if an active account with a password has this address.

    Says nothing either way (no account enumeration). At most ``MAX_PASSWORD_RESET_EMAILS`` per
    address per ``PASSWORD_RESET_EMAIL_COOLDOWN`` seconds; further requests are dropped. Each
    e-mail sent is audited in the account's organisations.
    """
    address = User.objects.normalize_email(email).strip().lower()
    allowed = not rate_limit_hit(
        key=f"password_reset:account:{address}",
        limit=settings.MAX_PASSWORD_RESET_EMAILS,
        period=settings.PASSWORD_RESET_EMAIL_COOLDOWN,
    )
    user = User.objects.filter(email__iexact=address, is_active=True).first()
    if not allowed or user is None or not user.has_usable_password():
        return
    base_url = public_base_url(request)
    path = RESET_LINK_PATH.format(
        uid=urlsafe_base64_encode(force_bytes(user.pk)),
        token=default_token_generator.make_token(user),
    )
    with transaction.atomic():
        email_queue(
            kind="password_reset",
            recipient=user.email,
            subject=RESET_EMAIL_SUBJECT,
            template="users/emails/password_reset",
            context={"user": user, "reset_url": base_url + path},
            base_url=base_url,
        )
        # Whoever asked is not signed in: the system is the author. Bounded like the e-mails.
        account_audit(user=user, log=f"Password reset e-mailed to {user.email}", actor=SYSTEM)


@transaction.atomic
def password_reset_confirm(
    *, uid: str, token: str, new_password: str, re_new_password: str
) -> User:
    """Set a new password from a reset link's ``uid`` and ``token``; the token is then spent."""
    user = _user_from_uid(uid)
    if user is None:
        raise ValidationError({"uid": ["Invalid user id or user doesn't exist."]})
    if not default_token_generator.check_token(user, token):
        raise ValidationError({"token": ["Invalid token for given user."]})
    if new_password != re_new_password:
        raise ValidationError("The two password fields didn't match.")
    password_validate(new_password, user=user)
    password_set(user=user, password=new_password, how="reset")
    user.last_login = timezone.now()
    user.save(update_fields=["last_login"])
    return user


def password_reset_link_is_valid(*, uid: str, token: str) -> bool:
    """Whether a reset link's ``uid`` and ``token`` would still set a password (its page asks)."""
    user = _user_from_uid(uid)
    return user is not None and default_token_generator.check_token(user, token)


def _user_from_uid(uid: str) -> User | None:
    try:
        pk = int(urlsafe_base64_decode(uid).decode())
    except (ValueError, TypeError, UnicodeDecodeError, OverflowError):
        return None
    return User.objects.filter(pk=pk, is_active=True).first()
