from __future__ import annotations

import ipaddress
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from vexil.common.error_shape import render_error

Handler = Callable[[HttpRequest], HttpResponse]


class AdminIPRestrictionMiddleware:
    """Serve ``/admin/`` only to ``ALLOWED_ADMIN_IP_ADDRESSES`` (addresses or networks) when set.

    The address is the connection's ``REMOTE_ADDR``; behind a proxy, the proxy must pass the
    client address through as the server's remote address (not a header, which clients can forge).
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response
        self.networks = [
            ipaddress.ip_network(entry, strict=False)
            for entry in settings.ALLOWED_ADMIN_IP_ADDRESSES
        ]

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self.networks and request.path.startswith("/admin/") and not self._allowed(request):
            return render_error(request, 404)
        return self.get_response(request)

    def _allowed(self, request: HttpRequest) -> bool:
        try:
            address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
        except ValueError:
            return False
        return any(address in network for network in self.networks)


class ErrorBodyMiddleware:
    """Give bodiless error responses (Django's 405 from a class-based view, a bare 404) the
    standard error body, so no client ever receives an empty or HTML error it did not ask for."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code >= 400 and not response.streaming and not response.content:
            replacement = render_error(request, response.status_code)
            for header in ("Allow", "Retry-After", "WWW-Authenticate"):
                if header in response:
                    replacement[header] = response[header]
            return replacement
        return response


class SecureCookiesOverHTTPSMiddleware:
    """Mark the session and CSRF cookies ``Secure`` on responses to HTTPS requests.

    ``DJANGO_SESSION_COOKIE_SECURE`` forces it everywhere; this covers a server reached over HTTPS
    without that setting (behind a proxy, ``SECURE_PROXY_SSL_HEADER`` must say so).
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.is_secure():
            for name in (settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME):
                if name in response.cookies:
                    response.cookies[name]["secure"] = True
        return response


class NulCharacterMiddleware:
    """Refuse (400) a NUL character in the path or the query string, before any view runs.

    PostgreSQL cannot hold one in text and refuses the whole statement, SQLite stores it: without
    this, an identifier or filter with ``%00`` in it would answer differently (a 500 on one, a 404
    on the other) depending on the database.
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            "\x00" in request.path
            or "%00" in request.META.get("QUERY_STRING", "")
            or ("\x00" in request.META.get("QUERY_STRING", ""))
        ):
            return render_error(request, 400, "Null characters are not allowed in the URL.")
        return self.get_response(request)
