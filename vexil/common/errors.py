"""One error shape for the whole API.

Every error body is a JSON object with a human-readable ``detail`` and a machine-readable
``code``. Validation errors keep DRF's (and Flagsmith's) per-field lists beside them, so existing
Flagsmith tooling that reads ``{"<field>": ["..."]}`` keeps working::

    {"detail": "Not found.", "code": "not_found"}
    {"detail": "Invalid input.", "code": "invalid", "name": ["This field is required."]}

Django's own 400/403/404/500 pages go through :func:`render_error`, which answers JSON to clients
that accept it and an HTML page to browsers.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

logger = logging.getLogger(__name__)

_HTML = "text/html"
_JSON = "application/json"


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DjangoValidationError):
        # Services validate with Django's exception; the API answers it as any other bad input.
        exc = exceptions.ValidationError(_validation_detail(exc))
    response = drf_exception_handler(exc, context)
    if response is None:
        # Unexpected: DRF would let Django render a 500; give it our shape and log it.
        logger.exception("Unhandled API error", exc_info=exc)
        return Response(error_body(500), status=500)
    response.data = _shape(exc, response)
    return response


def _validation_detail(exc: DjangoValidationError) -> Any:
    if hasattr(exc, "error_dict"):
        return {field: [str(m) for m in errors] for field, errors in exc.message_dict.items()}
    return {"non_field_errors": [str(message) for message in exc.messages]}


def _shape(exc: Exception, response: Response) -> dict[str, Any]:
    data = response.data
    if isinstance(exc, exceptions.ValidationError):
        fields = data if isinstance(data, dict) else {"non_field_errors": data}
        return {"detail": "Invalid input.", "code": "invalid", **fields}
    if isinstance(data, dict) and "detail" in data:
        code = getattr(exc, "default_code", None) or getattr(data["detail"], "code", "error")
        detail_code = getattr(data["detail"], "code", None)
        return {**data, "detail": str(data["detail"]), "code": str(detail_code or code)}
    return {"detail": str(data), "code": "error"}


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


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render_error(request, 400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render_error(request, 403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render_error(request, 404)


def server_error(request: HttpRequest) -> HttpResponse:
    return render_error(request, 500)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return render_error(request, 403, f"CSRF verification failed: {reason}".rstrip(": "))
