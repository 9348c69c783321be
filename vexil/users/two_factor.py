"""Two-factor sign-in with an authenticator app (TOTP) and single-use backup codes.

Flagsmith's flow: ``activate`` gives a secret and an ``otpauth://`` URI (and here a QR code),
``confirm`` with a first code turns it on and shows the backup codes once; a password login then
answers an ``ephemeral_token`` that ``login/code/`` exchanges, with a code, for an API token.
Codes are accepted one step either side of now, never twice, and attempts are throttled per user
and per ephemeral token.
"""

from __future__ import annotations

import base64
import hashlib
import io
import secrets
import string
import time
from typing import Any

import pyotp
import segno
from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.core import signing
from django.db import transaction
from django.utils import timezone

from vexil.users.account_audit import account_audit
from vexil.users.limits import rate_limit_hit
from vexil.users.models import TOTPDevice, User

ISSUER = "Vexil"
BACKUP_CODE_COUNT = 5
BACKUP_CODE_LENGTH = 10
_BACKUP_ALPHABET = string.ascii_letters + string.digits
_EPHEMERAL_SALT = "vexil.users.two_factor.ephemeral"
EPHEMERAL_TOKEN_SECONDS = 15 * 60
CODE_ATTEMPTS_PER_MINUTE = 5


class TwoFactorError(Exception):
    """A refused two-factor step; ``message`` is Flagsmith's wording, ``code`` ours."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class TwoFactorThrottledError(Exception):
    def __init__(self, wait: float) -> None:
        super().__init__(wait)
        self.wait = wait


def two_factor_is_active(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, is_active=True).exists()


def backup_codes_left(*, user: User) -> int:
    device = TOTPDevice.objects.filter(user=user, is_active=True).first()
    return len(device.backup_codes) if device is not None else 0


def totp_secrets_reencrypt() -> int:
    """Rewrite every readable secret under the current ``SECRET_KEY`` (after a rotation, so the
    old key can leave ``SECRET_KEY_FALLBACKS``); return how many were rewritten. A secret no key
    opens is left as it is."""
    rewritten = 0
    for device in TOTPDevice.objects.only("pk", "secret"):
        if not device.secret:
            continue  # no key opens it: writing it back would lose it for good
        device.save(update_fields=["secret"])  # the field encrypts under the current key
        rewritten += 1
    return rewritten


def _device(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user).first()


def totp_activate(*, user: User) -> dict[str, str]:
    """Start enrolment (or repeat it, keeping the secret): the secret, its URI and a QR code."""
    device = _device(user)
    if device is not None and device.is_active:
        raise TwoFactorError("MFA method already active.", "mfa_already_active")
    if device is None:
        device = TOTPDevice.objects.create(user=user, secret=pyotp.random_base32(32))
    uri = pyotp.TOTP(device.secret).provisioning_uri(name=user.email, issuer_name=ISSUER)
    return {"qr_link": uri, "secret": device.secret, "qr_svg": _qr_svg(uri)}


def _qr_svg(uri: str) -> str:
    buffer = io.BytesIO()
    segno.make(uri, error="m").save(buffer, kind="svg", scale=4, xmldecl=False)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


def _verify_totp(device: TOTPDevice, code: str) -> bool:
    """Accept a code of the step before, at or after now, newer than the last one accepted."""
    code = code.strip().replace(" ", "")
    if not (code.isdigit() and len(code) == 6) or not device.secret:
        # No secret: it was encrypted under a key this server no longer has (see
        # vexil.common.encryption); only a backup code can sign in, then re-enrol.
        return False
    totp = pyotp.TOTP(device.secret)
    now_step = int(time.time()) // totp.interval
    for step in (now_step - 1, now_step, now_step + 1):
        if step > device.last_step and secrets.compare_digest(totp.at(step * totp.interval), code):
            # Claim the step atomically, so two requests with the same code cannot both pass.
            claimed = TOTPDevice.objects.filter(pk=device.pk, last_step__lt=step).update(
                last_step=step
            )
            if claimed:
                device.last_step = step
                return True
    return False


def _use_backup_code(device: TOTPDevice, code: str) -> bool:
    with transaction.atomic():
        locked = TOTPDevice.objects.select_for_update().get(pk=device.pk)
        for stored in locked.backup_codes:
            if check_password(code.strip(), stored):
                locked.backup_codes = [c for c in locked.backup_codes if c != stored]
                locked.save(update_fields=["backup_codes"])
                return True
    return False


def _new_backup_codes(device: TOTPDevice) -> list[str]:
    codes = [
        "".join(secrets.choice(_BACKUP_ALPHABET) for _ in range(BACKUP_CODE_LENGTH))
        for _ in range(BACKUP_CODE_COUNT)
    ]
    device.backup_codes = [make_password(code) for code in codes]
    device.save(update_fields=["backup_codes"])
    return codes


def _throttle(key: str, limit: int, period: float) -> None:
    wait = rate_limit_hit(key=key, limit=limit, period=period)
    if wait:
        raise TwoFactorThrottledError(wait)


def _check_code(device: TOTPDevice, code: str, *, backup: bool) -> None:
    _throttle(f"mfa:user:{device.user_id}", CODE_ATTEMPTS_PER_MINUTE, 60)
    if _verify_totp(device, code) or (backup and _use_backup_code(device, code)):
        return
    raise TwoFactorError("Code invalid or expired.", "mfa_invalid_code")


def totp_confirm(*, user: User, code: str) -> list[str]:
    """Turn the app on with a first code; return the backup codes (shown this once)."""
    device = _device(user)
    if device is None:
        raise TwoFactorError("Requested MFA method does not exist.", "mfa_not_found")
    if device.is_active:
        raise TwoFactorError("MFA method already active.", "mfa_already_active")
    _check_code(device, code, backup=False)
    # The code check stays outside: a refused code must still count against the attempt limit.
    with transaction.atomic():
        device.is_active = True
        device.confirmed_at = timezone.now()
        device.save(update_fields=["is_active", "confirmed_at"])
        codes = _new_backup_codes(device)
        account_audit(
            user=user,
            log=f"Two-factor sign-in enabled for {user.email}",
            before={"two_factor": False},
            after={"two_factor": True},
        )
    return codes


def _active_device(user: User) -> TOTPDevice:
    device = _device(user)
    if device is None:
        raise TwoFactorError("Requested MFA method does not exist.", "mfa_not_found")
    if not device.is_active:
        raise TwoFactorError("2FA is not enabled.", "mfa_not_enabled")
    return device


def totp_deactivate(*, user: User, code: str) -> None:
    """Turn two-factor off; needs a current code (or a backup code)."""
    device = _active_device(user)
    _check_code(device, code, backup=True)
    with transaction.atomic():
        device.delete()
        account_audit(
            user=user,
            log=f"Two-factor sign-in disabled for {user.email}",
            before={"two_factor": True},
            after={"two_factor": False},
        )


def backup_codes_regenerate(*, user: User, code: str) -> list[str]:
    """Replace the backup codes (the old ones stop working); needs a current code."""
    device = _active_device(user)
    _check_code(device, code, backup=False)
    with transaction.atomic():
        codes = _new_backup_codes(device)
        account_audit(user=user, log=f"Two-factor backup codes regenerated for {user.email}")
    return codes


def ephemeral_token_issue(*, user: User) -> str:
    """A short-lived, signed token naming ``user``; void once the password changes."""
    # The nonce makes every token distinct, so each has its own budget of code attempts.
    payload = {"u": user.pk, "p": _password_mark(user), "n": secrets.token_hex(8)}
    return signing.dumps(payload, salt=_EPHEMERAL_SALT)


def _password_mark(user: User) -> str:
    return hashlib.sha256(f"{settings.SECRET_KEY}:{user.password}".encode()).hexdigest()[:16]


def login_with_code(*, ephemeral_token: str, code: str) -> User:
    """The user of a valid ephemeral token whose code checks (a TOTP code or a backup code)."""
    token_key = hashlib.sha256(ephemeral_token.encode()).hexdigest()
    _throttle(f"mfa:token:{token_key}", CODE_ATTEMPTS_PER_MINUTE, EPHEMERAL_TOKEN_SECONDS)
    user = _ephemeral_user(ephemeral_token)
    if user is None:
        raise TwoFactorError("Invalid or expired token.", "mfa_invalid_token")
    device = _device(user)
    if device is None or not device.is_active:
        raise TwoFactorError("Invalid or expired token.", "mfa_invalid_token")
    try:
        _check_code(device, code, backup=True)
    except TwoFactorError:
        raise TwoFactorError("Invalid or expired code.", "mfa_invalid_code") from None
    return user


def _ephemeral_user(token: str) -> User | None:
    try:
        data: Any = signing.loads(token, salt=_EPHEMERAL_SALT, max_age=EPHEMERAL_TOKEN_SECONDS)
    except signing.BadSignature:
        return None
    user = User.objects.filter(pk=data.get("u"), is_active=True).first()
    if user is None or not secrets.compare_digest(str(data.get("p")), _password_mark(user)):
        return None
    return user
