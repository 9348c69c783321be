"""`Authorization: Token <key>`: user tokens issued at login or registration (django-rest-knox).

Only a SHA-512 digest of each token is stored, indexed by its first characters. A token ends when
it expires (``AUTH_TOKEN_TTL_HOURS``), at logout, or when its user changes their password.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from rest_framework import exceptions


class TokenAuthentication(KnoxTokenAuthentication):
    """Knox's scheme, made to refuse (401) instead of crash on a token that is not text."""

    def authenticate_credentials(self, token: bytes) -> tuple[Any, Any]:
        try:
            token.decode("utf-8")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(_("Invalid token.")) from None
        return super().authenticate_credentials(token)  # type: ignore[no-any-return,unused-ignore]
