"""`Authorization: Token <key>`: user tokens issued at login or registration (django-rest-knox).

Only a SHA-512 digest of each token is stored, indexed by its first characters. A token ends when
it expires (``AUTH_TOKEN_TTL_HOURS``), at logout, or when its user changes their password.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from rest_framework import exceptions

from vexil.users.selectors import two_factor_missing


class TokenAuthentication(KnoxTokenAuthentication):
    """Knox's scheme, made to refuse (401) instead of crash on a token that is not text.

    A member of an organisation with ``force_2fa`` who has not turned two-factor on is refused
    (403 ``two_factor_required``) everywhere but the auth endpoints, where they can enrol.
    """

    def authenticate(self, request: Any) -> tuple[Any, Any] | None:
        result = super().authenticate(request)
        exempt = request.path.startswith(_TWO_FACTOR_EXEMPT_PREFIX)
        if result is not None and not exempt and two_factor_missing(result[0]):
            raise TwoFactorRequired
        return result

    def authenticate_credentials(self, token: bytes) -> tuple[Any, Any]:
        try:
            token.decode("utf-8")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(_("Invalid token.")) from None
        return super().authenticate_credentials(token)  # type: ignore[no-any-return,unused-ignore]


# Where a member who must turn two-factor on can still go: the auth endpoints (to enrol).
_TWO_FACTOR_EXEMPT_PREFIX = "/api/v1/auth/"


class TwoFactorRequired(exceptions.PermissionDenied):
    default_detail = (
        "An organisation you belong to requires two-factor authentication: turn it on with "
        "POST /api/v1/auth/app/activate/ and /api/v1/auth/app/activate/confirm/ first."
    )
    default_code = "two_factor_required"
