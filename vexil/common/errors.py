"""One error shape for the whole API.

Every error body is a JSON object with a human-readable ``detail`` and a machine-readable
``code``. Validation errors keep DRF's (and Flagsmith's) per-field lists beside them, so existing
Flagsmith tooling that reads ``{"<field>": ["..."]}`` keeps working::

    {"detail": "Not found.", "code": "not_found"}
    {"detail": "Invalid input.", "code": "invalid", "name": ["This field is required."]}

Django's own 400/403/404/500 pages go through :func:`~vexil.common.error_shape.render_error`,
which answers JSON to clients that accept it and an HTML page to browsers.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import (
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest, HttpResponse
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from vexil.common.error_shape import error_body, render_error

logger = logging.getLogger(__name__)


class PayloadTooLarge(exceptions.APIException):
    status_code = 413
    default_detail = "Request body too large."
    default_code = "payload_too_large"


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    exc = _as_api_exception(exc)
    response = drf_exception_handler(exc, context)
    if response is None:
        # Unexpected: DRF would let Django render a 500; give it our shape and log it.
        logger.exception("Unhandled API error", exc_info=exc)
        return Response(error_body(500), status=500)
    response.data = _shape(exc, response)
    return response


def _as_api_exception(exc: Exception) -> Exception:
    """Django's own refusals of a request, raised while DRF reads it, as the 4xx they are."""
    if isinstance(exc, DjangoValidationError):
        # Services validate with Django's exception; the API answers it as any other bad input.
        return exceptions.ValidationError(_validation_detail(exc))
    if isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return PayloadTooLarge(f"Request body too large: the limit is {limit} bytes.")
    if isinstance(exc, SuspiciousOperation):  # too many form fields or files, and the like
        return exceptions.ParseError(str(exc))
    return exc


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


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Django's 400, for a request refused before any view (a middleware read the body)."""
    if isinstance(exception, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return render_error(request, 413, f"Request body too large: the limit is {limit} bytes.")
    if isinstance(exception, (TooManyFieldsSent, TooManyFilesSent)):
        return render_error(request, 400, str(exception))
    return render_error(request, 400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render_error(request, 403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render_error(request, 404)


def server_error(request: HttpRequest) -> HttpResponse:
    return render_error(request, 500)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return render_error(request, 403, f"CSRF verification failed: {reason}".rstrip(": "))
