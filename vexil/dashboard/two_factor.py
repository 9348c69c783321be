"""Two-factor sign-in in the dashboard: the code step of a sign-in, and the account's set-up page.

Every step calls the same services as the API (:mod:`vexil.users.two_factor`): the same code
window, replay refusal, backup codes and attempt limits.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.views.decorators.http import require_http_methods

from vexil.dashboard.forms.two_factor import TwoFactorAppCodeForm, TwoFactorCodeForm
from vexil.dashboard.middleware import two_factor_check_forget
from vexil.dashboard.rendering import render_page
from vexil.dashboard.scope import signed_in_user, user_scope
from vexil.dashboard.sign_in_steps import PENDING_CODE_KEY
from vexil.users import two_factor
from vexil.users.backends import SESSION_BACKEND
from vexil.users.models import User
from vexil.users.selectors import two_factor_missing

_TOO_MANY = "Too many attempts. Please wait a minute and try again."
_EXPIRED = "This sign-in has expired. Please sign in again."


@require_http_methods(["GET", "POST"])
def sign_in_code(request: HttpRequest) -> HttpResponse:
    pending = request.session.get(PENDING_CODE_KEY)
    if not isinstance(pending, dict):
        return redirect("dashboard:sign-in")
    form = TwoFactorCodeForm(request.POST or None)
    status = 200 if request.method == "GET" else 400
    if request.method == "POST" and form.is_valid():
        try:
            user = two_factor.login_with_code(
                ephemeral_token=str(pending.get("token", "")), code=form.cleaned_data["code"]
            )
        except two_factor.TwoFactorThrottledError:
            form.add_error(None, _TOO_MANY)
            status = 429
        except two_factor.TwoFactorError as error:
            if error.code == "mfa_invalid_token":
                del request.session[PENDING_CODE_KEY]
                form.add_error(None, _EXPIRED)
            else:
                form.add_error("code", "This code is not correct, or it has expired.")
        else:
            del request.session[PENDING_CODE_KEY]
            login(request, user, backend=SESSION_BACKEND)
            return HttpResponseRedirect(str(pending.get("next") or "/"))
    return render_page(
        request, "dashboard/auth/sign_in_code.html", None, {"form": form}, status=status
    )


@login_required
@require_http_methods(["GET", "POST"])
def two_factor_settings(request: HttpRequest) -> HttpResponse:
    """Turn two-factor on (QR code, first code, backup codes shown once), off (needs a code),
    or replace the backup codes (needs a code from the app)."""
    user = signed_in_user(request)
    action = request.POST.get("action", "") if request.method == "POST" else ""
    context: dict[str, Any] = {f"{name}_form": _code_form(name) for name in _CODE_ACTIONS}
    status = 200
    if action in _CODE_ACTIONS:
        form = _code_form(action, request.POST)
        context[f"{action}_form"] = form
        status = _code_action(user, action, form, context)
        two_factor_check_forget(request)
    if action in ("start", "confirm") and not two_factor.two_factor_is_active(user):
        context["enrolment"] = two_factor.totp_activate(user=user)
    context["active"] = two_factor.two_factor_is_active(user)
    context["backup_codes_left"] = two_factor.backup_codes_left(user=user)
    context["required"] = two_factor_missing(user)
    return render_page(
        request, "dashboard/auth/two_factor.html", user_scope(request), context, status=status
    )


_CODE_ACTIONS = ("confirm", "deactivate", "regenerate")


def _code_form(action: str, data: Any = None) -> TwoFactorAppCodeForm:
    form = TwoFactorAppCodeForm(data, prefix=action)
    if action == "deactivate":
        form.fields["code"].label = "Code from your app or a backup code"
    elif action == "regenerate":
        form.fields["code"].label = "Current code from your app"
    return form


def _code_action(
    user: User, action: str, form: TwoFactorAppCodeForm, context: dict[str, Any]
) -> int:
    if not form.is_valid():
        return 400
    code = form.cleaned_data["code"]
    try:
        if action == "confirm":
            context["backup_codes"] = two_factor.totp_confirm(user=user, code=code)
            context["saved"] = "Two-factor sign-in is on."
        elif action == "regenerate":
            context["backup_codes"] = two_factor.backup_codes_regenerate(user=user, code=code)
            context["saved"] = "New backup codes are made; the old ones no longer work."
        else:
            two_factor.totp_deactivate(user=user, code=code)
            context["saved"] = "Two-factor sign-in is off."
    except two_factor.TwoFactorThrottledError:
        form.add_error(None, _TOO_MANY)
        return 429
    except two_factor.TwoFactorError as error:
        if error.code == "mfa_invalid_code":
            form.add_error("code", "This code is not correct, or it has expired.")
        else:
            form.add_error(None, error.message)
        return 400
    context[f"{action}_form"] = _code_form(action)
    return 200
