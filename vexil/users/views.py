from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_http_methods

from vexil.common.invocation import vexil_command
from vexil.users.forms import InitialiseForm
from vexil.users.selectors import instance_is_initialised
from vexil.users.services import InstanceAlreadyInitialisedError
from vexil.users.workspace import instance_set_up

_TEMPLATE = "users/initialise.html"


@csrf_protect
@require_http_methods(["GET", "POST"])
def initialise(request: HttpRequest) -> HttpResponse:
    """First-run page: create the first superuser, guarded by the one-time setup token."""
    if instance_is_initialised():
        return _closed(request)
    form = InitialiseForm(request.POST or None)
    if request.method == "POST":
        if not form.is_valid():
            status = 403 if "setup_token" in form.errors else 400
            return render(request, _TEMPLATE, {"form": form}, status=status)
        data = form.cleaned_data
        try:
            user, workspace = instance_set_up(
                email=data["email"],
                password=data["password"],
                first_name=data["username"],
                site_name=data["site_name"],
                site_domain=data["site_domain"],
                request=request,
            )
        except InstanceAlreadyInitialisedError:
            return _closed(request)
        context = {
            "done": True,
            "email": user.email,
            "workspace": workspace,
            "api_url": request.build_absolute_uri("/api/v1/"),
            "vexil": vexil_command(),
        }
        return render(request, _TEMPLATE, context, status=201)
    return render(request, _TEMPLATE, {"form": form})


def _closed(request: HttpRequest) -> HttpResponse:
    return render(request, _TEMPLATE, {"closed": True}, status=403)


def sign_in_elsewhere(request: HttpRequest, extra_context: object = None) -> HttpResponse:
    """The admin's and the browsable API's login pages send the browser to the dashboard's.

    Their own forms would open a session with a password alone, past the two-factor step and
    ``PREVENT_EMAIL_PASSWORD``; the dashboard's sign-in is the one place sessions begin.
    """
    wanted = request.GET.get("next", "")
    safe = url_has_allowed_host_and_scheme(wanted, allowed_hosts={request.get_host()})
    target = wanted if safe and wanted.startswith("/") else "/"
    return redirect(f"/sign-in/?{urlencode({'next': target})}")
