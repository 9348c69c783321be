"""The last steps of every dashboard sign-in (password or SSO): the two-factor code, then the
session.

An account with two-factor on gets no session from its first step: the session keeps an
ephemeral token (the API's, :func:`vexil.users.two_factor.ephemeral_token_issue`) and the page to
return to, and the code page exchanges it, with a code, for the session.
"""

from __future__ import annotations

from django.contrib.auth import login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect

from vexil.users.backends import SESSION_BACKEND
from vexil.users.models import User
from vexil.users.sso import password_login_allowed
from vexil.users.two_factor import ephemeral_token_issue, two_factor_is_active

PENDING_CODE_KEY = "vexil_two_factor_pending"

__all__ = ["PENDING_CODE_KEY", "password_sign_in_allowed", "session_sign_in"]


def password_sign_in_allowed() -> bool:
    return password_login_allowed()


def session_sign_in(request: HttpRequest, user: User, *, next_url: str) -> HttpResponse:
    """Open the session, or, with two-factor on, send the browser to the code step first."""
    if two_factor_is_active(user):
        request.session[PENDING_CODE_KEY] = {
            "token": ephemeral_token_issue(user=user),
            "next": next_url,
        }
        return redirect("dashboard:sign-in-code")
    login(request, user, backend=SESSION_BACKEND)
    return HttpResponseRedirect(next_url)
