"""``force_2fa`` for browser sessions: a member of an organisation that requires two-factor,
who has not turned it on, is sent to the page that does it before anything else.

API tokens get the same rule from :class:`vexil.users.authentication.TokenAuthentication`; this
covers the session (dashboard pages, the admin, and the API called with a session cookie). The
answer is kept in the session for ``RECHECK_SECONDS``, so a page costs no query for it: a session
sees a newly set ``force_2fa`` within that time (a token at once), and enrolling or signing in
again clears it.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect

from vexil.users.models import User
from vexil.users.selectors import two_factor_missing

RECHECK_SECONDS = 60
CHECK_SESSION_KEY = "vexil_two_factor_check"

# Where such a member may still go: to enrol, to leave, and what the pages themselves load.
_OPEN_PREFIXES = (
    "/account/two-factor/",
    "/sign-out/",
    "/sign-in/",
    "/password-reset/",
    "/sso/",
    "/static/",
    "/health/",
    "/api/v1/auth/",
)
_MESSAGE = (
    "An organisation you belong to requires two-factor authentication: turn it on at "
    "/account/two-factor/ first."
)


class TwoFactorEnrolmentMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # Only a request with a session cookie can carry a session user: the SDK's never do.
        if settings.SESSION_COOKIE_NAME in request.COOKIES and self._must_enrol(request):
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": _MESSAGE, "code": "two_factor_required"}, status=403)
            return redirect("dashboard:two-factor")
        return self.get_response(request)

    @staticmethod
    def _must_enrol(request: HttpRequest) -> bool:
        user = request.user
        if not isinstance(user, User) or request.path.startswith(_OPEN_PREFIXES):
            return False
        check = request.session.get(CHECK_SESSION_KEY)
        now = time.time()
        if not (isinstance(check, list) and len(check) == 2 and now - check[0] < RECHECK_SECONDS):
            check = [now, two_factor_missing(user)]
            request.session[CHECK_SESSION_KEY] = check
        return bool(check[1])


def two_factor_check_forget(request: HttpRequest) -> None:
    """Make the next request check again (after enrolling or turning two-factor off)."""
    request.session.pop(CHECK_SESSION_KEY, None)
