from __future__ import annotations

from typing import Any, cast

from django.http import HttpRequest
from rest_framework.request import Request
from rest_framework.throttling import ScopedRateThrottle

from vexil.users.limits import rate_limit_hit


class AuthRateThrottle(ScopedRateThrottle):
    """``AUTH_THROTTLE_RATE`` per client address on login, registration and password changes.

    Keyed by address even for signed-in callers: these endpoints are what a guesser hammers,
    and a master-key principal has no user id to key on. The count lives in the database
    (:func:`vexil.users.limits.rate_limit_hit`), so all workers share one budget, and the wait
    it reports (``Retry-After``) is exact.
    """

    scope_attr = "throttle_scope"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}

    def allow_request(self, request: Request, view: Any) -> bool:
        self.scope = getattr(view, self.scope_attr, None)
        if not self.scope:
            return True
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        key = self.get_cache_key(request, view)
        if key is None or self.num_requests is None or self.duration is None:
            return True
        self._wait = rate_limit_hit(key=key, limit=self.num_requests, period=self.duration)
        return self._wait == 0.0

    def wait(self) -> float | None:
        return self._wait or None


class _Scope:
    def __init__(self, scope: str) -> None:
        self.throttle_scope = scope


def auth_attempt_allowed(request: HttpRequest, *, scope: str = "auth") -> bool:
    """The API's auth throttle for a plain Django request (the dashboard's sign-in, sign-up and
    password forms): the same rate and the same bucket per client address as the API; the
    ``password_reset`` scope is the reset request's."""
    return AuthRateThrottle().allow_request(cast(Request, request), cast(Any, _Scope(scope)))
