"""``Authorization: Api-Key <prefix>.<secret>``: an organisation's master API key.

``request.user`` becomes a :class:`~vexil.permissions.principals.MasterKeyPrincipal` and
``request.auth`` the :class:`MasterAPIKey`. Another scheme, or no header, is "not mine" (None);
a malformed, unknown, revoked or expired key is "mine, refused" (401).
"""

from __future__ import annotations

from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request

from vexil.api_keys.models import MasterAPIKey
from vexil.permissions.principals import MasterKeyPrincipal

KEYWORD = "Api-Key"


class MasterAPIKeyAuthentication(BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[MasterKeyPrincipal, MasterAPIKey] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != KEYWORD.lower().encode():
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Invalid Api-Key header.")
        try:
            key = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("Invalid API key.") from None
        api_key = self._resolve(key)
        principal = MasterKeyPrincipal(
            key_id=api_key.prefix,
            organisation_id=api_key.organisation_id,
            name=api_key.name,
            is_admin=api_key.is_admin,
        )
        return principal, api_key

    def _resolve(self, key: str) -> MasterAPIKey:
        prefix, dot, _ = key.partition(".")
        candidate = MasterAPIKey.objects.filter(prefix=prefix).first() if dot else None
        if candidate is None or not candidate.is_valid(key):
            raise exceptions.AuthenticationFailed("Invalid API key.")
        if candidate.revoked:
            raise exceptions.AuthenticationFailed("This API key has been revoked.")
        if not candidate.is_usable_at(timezone.now()):
            raise exceptions.AuthenticationFailed("This API key has expired.")
        return candidate

    def authenticate_header(self, request: Request) -> str:
        return KEYWORD
