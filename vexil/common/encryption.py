"""Values encrypted at rest (two-factor secrets), with keys derived from ``SECRET_KEY``.

Fernet (the ``cryptography`` package: AES-128-CBC with an HMAC-SHA256, authenticated) under a
key derived with HKDF-SHA256 from ``SECRET_KEY``; ``SECRET_KEY_FALLBACKS`` give older keys that
still decrypt, so the secret key can be rotated (new writes use the current key;
:func:`reencrypt` rewrites a value under it). A value no key decrypts reads as ``""``: callers
treat it as "no secret" (a two-factor code then never checks; backup codes, stored as password
hashes, still work).
"""

from __future__ import annotations

import base64
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.db import models

_SALT = b"vexil.common.encryption"


def _fernet_for(secret_key: str, purpose: str) -> Fernet:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=_SALT, info=purpose.encode()).derive(
        secret_key.encode()
    )
    return Fernet(base64.urlsafe_b64encode(derived))


def _keys(purpose: str) -> MultiFernet:
    secrets = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return MultiFernet([_fernet_for(key, purpose) for key in secrets])


def encrypt(value: str, *, purpose: str) -> str:
    return _keys(purpose).encrypt(value.encode()).decode()


def decrypt(token: str, *, purpose: str) -> str:
    """The plaintext, or ``""`` when no current or fallback key opens ``token``."""
    try:
        return _keys(purpose).decrypt(token.encode()).decode()
    except (InvalidToken, ValueError):
        return ""


def reencrypt(token: str, *, purpose: str) -> str:
    """``token`` under the current key (after a rotation); unchanged if no key opens it."""
    try:
        return _keys(purpose).rotate(token.encode()).decode()
    except (InvalidToken, ValueError):
        return token


class EncryptedTextField(models.TextField):
    """Text stored encrypted (:func:`encrypt`), read decrypted; ``purpose`` separates keys."""

    def __init__(self, *args: Any, purpose: str = "", **kwargs: Any) -> None:
        self.purpose = purpose
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        kwargs["purpose"] = self.purpose
        return name, path, args, kwargs

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        return None if value is None else decrypt(value, purpose=self.purpose)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(str(value), purpose=self.purpose)
