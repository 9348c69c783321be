from __future__ import annotations

from typing import Any, cast

from django.http import HttpRequest
from rest_framework.request import Request
from rest_framework.throttling import ScopedRateThrottle


class AuthRateThrottle(ScopedRateThrottle):
    """``AUTH_THROTTLE_RATE`` per client address on login, registration and password changes.

    Keyed by address even for signed-in callers: these endpoints are what a guesser hammers,
    and a master-key principal has no user id to key on.
    """

    scope_attr = "throttle_scope"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class _AuthScope:
    throttle_scope = "auth"


def auth_attempt_allowed(request: HttpRequest) -> bool:
    """The API's auth throttle for a plain Django request (the dashboard's sign-in, sign-up and
    password forms): the same rate and the same bucket per client address as the API."""
    return AuthRateThrottle().allow_request(cast(Request, request), cast(Any, _AuthScope()))
