"""What a browser gets from the management API when the browsable API is not offered to it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils.http import urlencode
from rest_framework.renderers import BaseRenderer, JSONRenderer

from vexil.common.error_shape import error_body


class HTMLErrorPageRenderer(BaseRenderer):
    """Errors as the house HTML error page (with a login link when logging in would help);
    successful answers as the JSON they are, since there is no HTML form of them to show."""

    media_type = "text/html"
    format = "html"
    charset = "utf-8"

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        context = renderer_context or {}
        response = context["response"]
        if response.status_code < 400:
            response["Content-Type"] = "application/json"
            return JSONRenderer().render(data, "application/json", dict(context))
        request = context["request"]
        body = error_body(response.status_code)
        if isinstance(data, dict) and "detail" in data:
            body = {"detail": str(data["detail"]), "code": str(data.get("code", body["code"]))}
        page = {"status": response.status_code, **body, "login_url": _login_url(request, response)}
        return render_to_string("common/error.html", page, request=request._request).encode()


def _login_url(request: Any, response: Any) -> str | None:
    """The session login page, for a refusal that a logged-in superuser would not meet."""
    if response.status_code not in (401, 403) or request._request.user.is_authenticated:
        return None
    try:
        login = reverse("rest_framework:login")
    except NoReverseMatch:
        return None
    return f"{login}?{urlencode({'next': request._request.get_full_path()})}"
