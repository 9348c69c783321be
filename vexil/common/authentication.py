"""The last authentication class: an ``Authorization`` header no scheme recognised is refused.

Each scheme steps aside (returns ``None``) for a header that is not its own, so without this class
``Authorization: Bearer <token>`` would be treated as no credentials at all and answered "not
provided", which sends the caller looking for a missing header instead of a wrong scheme.
"""

from __future__ import annotations

from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request

ACCEPTED_SCHEMES = "'Authorization: Token <key>' or 'Authorization: Api-Key <key>'"


class UnsupportedAuthorizationScheme(exceptions.AuthenticationFailed):
    default_code = "unsupported_authorization_scheme"


class UnrecognisedSchemeAuthentication(BaseAuthentication):
    """Refuse (401) a non-empty ``Authorization`` header that no earlier class accepted."""

    def authenticate(self, request: Request) -> None:
        header = get_authorization_header(request).split()
        if not header:
            return None
        scheme = header[0].decode("latin-1")[:32]
        raise UnsupportedAuthorizationScheme(
            f"Unsupported authorization scheme '{scheme}'. The management API accepts "
            f"{ACCEPTED_SCHEMES}.",
            code=UnsupportedAuthorizationScheme.default_code,
        )
