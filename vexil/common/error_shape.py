"""The house error body, and the JSON or HTML page it becomes outside DRF's views.

Kept apart from :mod:`vexil.common.errors` (DRF's exception handler), which imports DRF's views:
the content negotiation and renderers that DRF's views load at import time use these too.
"""

from __future__ import annotations

from http import HTTPStatus

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

_HTML = "text/html"
_JSON = "application/json"


def error_body(status: int, detail: str | None = None) -> dict[str, str]:
    phrase = HTTPStatus(status).phrase
    code = phrase.lower().replace(" ", "_").replace("-", "_")
    return {"detail": detail or f"{phrase}.", "code": code}


def wants_html(request: HttpRequest) -> bool:
    """A browser (which prefers HTML) gets a page; API clients and ``*/*`` get JSON."""
    return request.get_preferred_type([_JSON, _HTML]) == _HTML


def render_error(request: HttpRequest, status: int, detail: str | None = None) -> HttpResponse:
    body = error_body(status, detail)
    if wants_html(request):
        return render(request, "common/error.html", {"status": status, **body}, status=status)
    return JsonResponse(body, status=status)
