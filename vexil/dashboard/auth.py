"""Sign in, sign up, sign out and the account page: sessions over the API's auth services.

Sign-in goes through ``user_authenticate``, the API login's own check, so django-axes counts
and locks out the same way; the API's auth throttle limits both, per client address.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import login, logout, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from vexil.dashboard.forms import add_service_errors
from vexil.dashboard.forms.auth import AccountForm, PasswordChangeForm, SignInForm, SignUpForm
from vexil.dashboard.rendering import render_page
from vexil.dashboard.scope import signed_in_user, user_scope
from vexil.dashboard.sign_in_steps import password_sign_in_allowed, session_sign_in
from vexil.users import services
from vexil.users.backends import SESSION_BACKEND
from vexil.users.selectors import (
    instance_is_initialised,
    pending_sign_up_for_token,
    registration_open,
)
from vexil.users.sso import sso_is_configured
from vexil.users.throttles import auth_attempt_allowed

_TOO_MANY = "Too many attempts from this address. Please wait a minute and try again."


def next_url(request: HttpRequest) -> str:
    """The page to return to after signing in: ``next`` when it is on this site, else home."""
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    safe = url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return wanted if safe and wanted.startswith("/") else "/"


@require_http_methods(["GET", "POST"])
def sign_in(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated and request.method == "GET":
        return redirect(next_url(request))
    form = SignInForm(request.POST or None)
    if request.method == "POST" and not password_sign_in_allowed():
        form = SignInForm({})
        form.is_valid()  # only the refusal below is shown: the page has no password fields
        form.add_error(None, "Password sign-in is turned off here: sign in with SSO.")
        return _sign_in_page(request, form, status=403)
    if request.method == "POST" and form.is_valid():
        if not auth_attempt_allowed(request):
            form.add_error(None, _TOO_MANY)
            return _sign_in_page(request, form, status=429)
        try:
            user = services.user_authenticate(
                request=request,
                email=form.cleaned_data["email"],
                password=form.cleaned_data["password"],
            )
        except services.LockedOutError:
            form.add_error(None, "Too many failed sign-ins. Please try again later.")
            return _sign_in_page(request, form, status=429)
        except ValidationError:
            form.add_error(None, "The email or password is not correct.")
        else:
            return session_sign_in(request, user, next_url=next_url(request))
    status = 400 if request.method == "POST" else 200
    return _sign_in_page(request, form, status=status)


def _sign_in_page(request: HttpRequest, form: SignInForm, *, status: int) -> HttpResponse:
    context = {
        "form": form,
        "next": next_url(request),
        "needs_first_run": not instance_is_initialised(),
        "password_sign_in": password_sign_in_allowed(),
        "sso_enabled": sso_is_configured(),
    }
    return render_page(request, "dashboard/auth/sign_in.html", None, context, status=status)


@require_http_methods(["GET", "POST"])
def sign_up(request: HttpRequest) -> HttpResponse:
    if not registration_open():
        context = {"sso_only": settings.PREVENT_EMAIL_PASSWORD and sso_is_configured()}
        return render_page(request, "dashboard/auth/sign_up_closed.html", None, context, status=403)
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if not auth_attempt_allowed(request):
            form.add_error(None, _TOO_MANY)
        else:
            try:
                user = services.user_sign_up_start(**form.cleaned_data, request=request)
            except ValidationError as error:
                add_service_errors(form, error, default="password")
            except services.RegistrationClosedError:
                form.add_error(None, "Registration is closed.")
            else:
                if user is not None:  # not without an e-mail invite; kept for completeness
                    login(request, user, backend=SESSION_BACKEND)
                    return redirect("dashboard:home")
                return sign_up_check_email_page(request)
    status = 400 if request.method == "POST" else 200
    return render_page(request, "dashboard/auth/sign_up.html", None, {"form": form}, status=status)


def sign_up_check_email_page(request: HttpRequest) -> HttpResponse:
    """What every sign-up that needs its address confirmed answers, account or not."""
    context = {"message": services.SIGN_UP_CHECK_EMAIL}
    return render_page(request, "dashboard/auth/sign_up_check_email.html", None, context)


@require_http_methods(["GET", "POST"])
def sign_up_confirm(request: HttpRequest, token: str) -> HttpResponse:
    """The e-mailed link. GET asks for a click (mail scanners follow links, and the token is
    single-use); POST makes the account, signs it in, and joins the invite link's organisation
    when the sign-up came from one."""
    context: dict[str, object] = {"pending": pending_sign_up_for_token(token)}
    if request.method == "GET":
        return _confirm_page(request, context, status=200 if context["pending"] else 400)
    if not auth_attempt_allowed(request):
        context["error"] = _TOO_MANY
        return _confirm_page(request, context, status=429)
    try:
        user, organisation_id = services.user_sign_up_confirm(token=token)
    except ValidationError as error:
        context["error"] = " ".join(error.messages)
        return _confirm_page(request, context, status=400)
    except services.SignUpPreventedError as refused:
        context["error"] = refused.message
        return _confirm_page(request, context, status=403)
    login(request, user, backend=SESSION_BACKEND)
    if organisation_id is not None:
        return redirect("dashboard:organisation", organisation_id)
    return redirect("dashboard:home")


def _confirm_page(request: HttpRequest, context: dict[str, object], *, status: int) -> HttpResponse:
    return render_page(request, "dashboard/auth/sign_up_confirm.html", None, context, status=status)


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("dashboard:sign-in")


@login_required
@require_http_methods(["GET", "POST"])
def account(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    profile = AccountForm(initial={"first_name": user.first_name, "last_name": user.last_name})
    password = PasswordChangeForm()
    saved = ""
    status = 200
    if request.method == "POST" and request.POST.get("form") == "profile":
        profile = AccountForm(request.POST)
        if profile.is_valid():
            services.user_update(user=user, **profile.cleaned_data)
            saved = "Your name is saved."
    elif request.method == "POST" and request.POST.get("form") == "password":
        password = PasswordChangeForm(request.POST)
        if password.is_valid() and auth_attempt_allowed(request):
            try:
                services.user_password_set(user=user, **password.cleaned_data)
            except ValidationError as error:
                add_service_errors(password, error, default="new_password")
            else:
                update_session_auth_hash(request, user)
                password = PasswordChangeForm()
                saved = "Your password is changed. Your API tokens were signed out."
        elif password.is_valid():
            password.add_error(None, _TOO_MANY)
    if request.method == "POST" and not saved:
        status = 400
    context = {"profile": profile, "password": password, "saved": saved}
    return render_page(
        request, "dashboard/auth/account.html", user_scope(request), context, status=status
    )
