"""The answer django-axes gives a locked-out client: the API's one error shape, status 429."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from axes.handlers.database import AxesDatabaseHandler
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone

from vexil.common.error_shape import render_error, wants_html
from vexil.users.limits import retry_after_header

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
        response["Retry-After"] = retry_after_header(_cool_off_remaining(request, credentials))
    return response


def _cool_off_remaining(request: HttpRequest, credentials: Any) -> float:
    """Seconds until the lock-out ends: the cool-off counts from the last recorded failure
    (django-axes does not record attempts refused while locked out)."""
    attempts = AxesDatabaseHandler().get_user_attempts(request, credentials)
    last = max(
        (attempt.attempt_time for queryset in attempts for attempt in queryset),
        default=None,
    )
    cool_off = (settings.AXES_COOLOFF_TIME or timedelta()).total_seconds()
    if last is None:
        return cool_off
    return max(0.0, (last - timezone.now()).total_seconds() + cool_off)
