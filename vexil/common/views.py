"""``/api/v1/``: the API's entry points, so the API's root is not a bare 404."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_safe

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
def api_index(request: HttpRequest) -> JsonResponse:
    base = request.build_absolute_uri("/api/v1/")
    return JsonResponse(
        {
            "version": settings.VERSION,
            "endpoints": {name: base + path for name, path in API_ENTRY_POINTS.items()},
        }
    )
