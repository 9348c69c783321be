"""Single sign-on pages: "Sign in with SSO" sends the browser to the OpenID Connect provider,
and the callback signs the person in (through the two-factor step when their account has it on).

The flow's rules (state, nonce, PKCE, ID-token verification, e-mail matching) are in
:mod:`vexil.users.sso`; these views only keep its pending values in the session, once.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.views.decorators.http import require_GET

from vexil.common.mail import public_base_url
from vexil.dashboard.auth import next_url
from vexil.dashboard.rendering import render_page
from vexil.dashboard.sign_in_steps import session_sign_in
from vexil.users import sso
from vexil.users.throttles import auth_attempt_allowed

PENDING_SSO_KEY = "vexil_sso_pending"


@require_GET
def sso_start(request: HttpRequest) -> HttpResponse:
    if not sso.sso_is_configured():
        return _failure(request, "Single sign-on is not set up on this Vexil.", status=404)
    redirect_uri = public_base_url(request) + reverse("dashboard:sso-callback")
    try:
        start = sso.sso_authorization_start(redirect_uri=redirect_uri)
    except sso.SsoError as error:
        return _failure(request, error.message, status=502)
    request.session[PENDING_SSO_KEY] = {**start.pending, "next": next_url(request)}
    return HttpResponseRedirect(start.url)


@require_GET
def sso_callback(request: HttpRequest) -> HttpResponse:
    # Taken out of the session at once: a callback URL works a single time.
    pending = request.session.pop(PENDING_SSO_KEY, None)
    if not sso.sso_is_configured():
        return _failure(request, "Single sign-on is not set up on this Vexil.", status=404)
    if not isinstance(pending, dict):
        return _failure(request, "This sign-in was not started here, or it was used already.")
    if not auth_attempt_allowed(request):
        return _failure(request, "Too many sign-ins from this address. Please wait a minute.", 429)
    try:
        user = sso.sso_authorization_finish(pending=pending, params=request.GET.dict())
    except sso.SsoError as error:
        return _failure(
            request, error.message, status=502 if error.code == "sso_unreachable" else 400
        )
    return session_sign_in(request, user, next_url=str(pending.get("next") or "/"))


def _failure(request: HttpRequest, message: str, status: int = 400) -> HttpResponse:
    return render_page(
        request, "dashboard/auth/sso_failed.html", None, {"message": message}, status=status
    )
