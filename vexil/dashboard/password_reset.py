"""Forgot-password and reset pages, at the link shape the e-mail uses
(``/password-reset/confirm/<uid>/<token>``), over the API's password services."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_http_methods

from vexil.dashboard.forms import add_service_errors
from vexil.dashboard.forms.password_reset import ForgotPasswordForm, ResetPasswordForm
from vexil.dashboard.rendering import render_page
from vexil.users import passwords
from vexil.users.throttles import auth_attempt_allowed

_TOO_MANY = "Too many attempts from this address. Please wait and try again."


@require_http_methods(["GET", "POST"])
def forgot_password(request: HttpRequest) -> HttpResponse:
    form = ForgotPasswordForm(request.POST or None)
    context: dict[str, object] = {"form": form}
    status = 200 if request.method == "GET" else 400
    if request.method == "POST" and form.is_valid():
        if not auth_attempt_allowed(request, scope="password_reset"):
            form.add_error(None, _TOO_MANY)
            status = 429
        else:
            passwords.password_reset_request(email=form.cleaned_data["email"], request=request)
            # The same answer whether or not the address has an account (no enumeration).
            context["sent"] = True
            status = 200
    return render_page(request, "dashboard/auth/forgot_password.html", None, context, status=status)


@require_http_methods(["GET", "POST"])
def reset_password(request: HttpRequest, uid: str, token: str) -> HttpResponse:
    form = ResetPasswordForm(request.POST or None)
    context: dict[str, object] = {"form": form}
    status = 200
    if not passwords.password_reset_link_is_valid(uid=uid, token=token):
        context["invalid"] = True
        status = 400 if request.method == "POST" else 200
    elif request.method == "POST":
        status = 400
        if not form.is_valid():
            pass
        elif not auth_attempt_allowed(request):
            form.add_error(None, _TOO_MANY)
            status = 429
        else:
            try:
                passwords.password_reset_confirm(uid=uid, token=token, **form.cleaned_data)
            except ValidationError as error:
                add_service_errors(form, error, default="new_password")
            else:
                context["done"] = True
                status = 200
    return render_page(request, "dashboard/auth/reset_password.html", None, context, status=status)
