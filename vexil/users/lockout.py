"""The answer django-axes gives a locked-out client: the API's one error shape, status 429."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

from vexil.common.error_shape import render_error, wants_html

LOCKED_OUT_CODE = "locked_out"


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: Any = None
) -> HttpResponse:
    # axes puts its defaults for these on django.conf.settings when it loads.
    name = "AXES_COOLOFF_MESSAGE" if settings.AXES_COOLOFF_TIME else "AXES_PERMALOCK_MESSAGE"
    message = str(getattr(settings, name, "Too many failed login attempts."))
    status = settings.AXES_HTTP_RESPONSE_CODE
    if wants_html(request):  # the Django admin's login form
        response = render_error(request, status, message)
    else:
        response = JsonResponse({"detail": message, "code": LOCKED_OUT_CODE}, status=status)
    if settings.AXES_COOLOFF_TIME:
        response["Retry-After"] = str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
    return response
