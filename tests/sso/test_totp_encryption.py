"""Two-factor secrets are encrypted at rest under a key derived from SECRET_KEY; older keys in
SECRET_KEY_FALLBACKS still open them, and a secret no key opens never checks a code."""

from __future__ import annotations

import importlib
import io
import time
from typing import Any

import pyotp
import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.loader import MigrationLoader

from vexil.common import encryption
from vexil.users import two_factor
from vexil.users.models import TOTPDevice, User

pytestmark = pytest.mark.django_db

OLD_KEY = "an-older-secret-key-that-was-in-use-before-the-rotation-0123456789"


def _raw_secret(device: TOTPDevice) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM users_totpdevice WHERE id = %s", [device.pk])
        return str(cursor.fetchone()[0])


def _enrol(user: User) -> tuple[str, list[str]]:
    secret = two_factor.totp_activate(user=user)["secret"]
    codes = two_factor.totp_confirm(user=user, code=pyotp.TOTP(secret).now())
    TOTPDevice.objects.filter(user=user).update(last_step=0)
    return secret, codes


def _code_checks(user: User, secret: str) -> bool:
    token = two_factor.ephemeral_token_issue(user=user)
    try:
        two_factor.login_with_code(ephemeral_token=token, code=pyotp.TOTP(secret).now())
    except two_factor.TwoFactorError:
        return False
    TOTPDevice.objects.filter(user=user).update(last_step=0)
    return True


def test_secret__stored_encrypted__read_back_plain(organisation_admin: User) -> None:
    secret, _ = _enrol(organisation_admin)
    device = TOTPDevice.objects.get(user=organisation_admin)

    raw = _raw_secret(device)

    assert device.secret == secret
    assert secret not in raw
    assert raw.startswith("gAAAAA")  # a Fernet token
    assert encryption.decrypt(raw, purpose="totp-secret") == secret
    assert encryption.decrypt(raw, purpose="another-purpose") == ""


def test_rotation__old_key_in_fallbacks__codes_still_check(
    settings: Any, organisation_admin: User
) -> None:
    # Given: enrolled under the old key
    current = settings.SECRET_KEY
    settings.SECRET_KEY = OLD_KEY
    secret, _ = _enrol(organisation_admin)
    # When: the key changes, the old one kept as a fallback
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = current, [OLD_KEY]
    # Then
    assert TOTPDevice.objects.get(user=organisation_admin).secret == secret
    assert _code_checks(organisation_admin, secret)
    raw = _raw_secret(TOTPDevice.objects.get(user=organisation_admin))
    rotated = encryption.reencrypt(raw, purpose="totp-secret")
    settings.SECRET_KEY_FALLBACKS = []
    assert encryption.decrypt(rotated, purpose="totp-secret") == secret


def test_rotation__old_key_dropped__codes_refused_backup_codes_work(
    settings: Any, organisation_admin: User
) -> None:
    secret, backup = _enrol(organisation_admin)
    settings.SECRET_KEY = "a-completely-new-secret-key-with-no-fallback-0123456789abcdef"
    settings.SECRET_KEY_FALLBACKS = []

    assert TOTPDevice.objects.get(user=organisation_admin).secret == ""
    assert not _code_checks(organisation_admin, secret)
    token = two_factor.ephemeral_token_issue(user=organisation_admin)
    assert two_factor.login_with_code(ephemeral_token=token, code=backup[0]) == organisation_admin


def test_migration__plaintext_rows__encrypted(organisation_admin: User) -> None:
    # Given: a row as the previous schema stored it
    plain = pyotp.random_base32(32)
    device = TOTPDevice.objects.create(user=organisation_admin, secret="placeholder")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE users_totpdevice SET secret = %s WHERE id = %s", [plain, device.pk])
    migration = importlib.import_module("vexil.users.migrations.0004_totp_secret_encrypted")
    before = MigrationLoader(connection).project_state(("users", "0003_totp")).apps
    # When
    migration.encrypt_existing(before, None)
    # Then
    assert plain not in _raw_secret(device)
    assert TOTPDevice.objects.get(pk=device.pk).secret == plain
    assert pyotp.TOTP(plain).at(time.time())  # still a usable secret


def test_reencrypt_command__after_rotation__old_key_can_go(
    settings: Any, organisation_admin: User, other_admin: User
) -> None:
    # Given: one secret under the old key, and one no key opens any more
    current = settings.SECRET_KEY
    settings.SECRET_KEY = "a-key-that-is-lost-before-the-command-runs-0123456789abcdefgh"
    _enrol(other_admin)
    lost = _raw_secret(TOTPDevice.objects.get(user=other_admin))
    settings.SECRET_KEY = OLD_KEY
    secret, _ = _enrol(organisation_admin)
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = current, [OLD_KEY]
    # When
    output = io.StringIO()
    call_command("totp_reencrypt", stdout=output)
    # Then
    assert output.getvalue().strip() == "Re-encrypted 1 two-factor secret(s) under the current key."
    settings.SECRET_KEY_FALLBACKS = []
    assert TOTPDevice.objects.get(user=organisation_admin).secret == secret
    assert _raw_secret(TOTPDevice.objects.get(user=other_admin)) == lost
