"""Each request reads its permission rows once: see ``vexil.permissions.selectors``."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from vexil.permissions.selectors import remembered_per_request


class PermissionMemoMiddleware:
    """Remember the permission rows a request reads while its view runs, and only then (a
    streamed body is produced after this returns, so it reads afresh)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with remembered_per_request():
            return self.get_response(request)
