"""The two pages a newcomer lands on first: ``/`` and ``/api/v1/``.

``/`` is a small placeholder until the dashboard takes it over: it says what to do next (set the
install up, or where the API, its documentation and the admin are).
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from vexil.common.invocation import vexil_command
from vexil.users.selectors import instance_is_initialised

# What a client or a person exploring the API can start from (paths under /api/v1/).
API_ENTRY_POINTS = {
    "docs": "docs/",
    "schema": "schema/",
    "first_run": "users/config/init/",
    "login": "auth/login/",
    "register": "auth/users/",
    "me": "auth/users/me/",
    "organisations": "organisations/",
    "projects": "projects/",
    "environments": "environments/",
    "audit": "audit/",
    "sdk_flags": "flags/",
    "sdk_identities": "identities/",
    "sdk_environment_document": "environment-document/",
}


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    context = {
        "version": settings.VERSION,
        "initialised": instance_is_initialised(),
        "vexil": vexil_command(),
    }
    return render(request, "common/home.html", context)


@require_safe
def api_index(request: HttpRequest) -> JsonResponse:
    base = request.build_absolute_uri("/api/v1/")
    return JsonResponse(
        {
            "version": settings.VERSION,
            "endpoints": {name: base + path for name, path in API_ENTRY_POINTS.items()},
        }
    )
