"""Content negotiation for the management API: which renderer answers, which parser reads.

Renderers: DRF's browsable API only in development and to superusers. Anyone else whose client
asks for HTML (a browser) gets the house HTML error page for errors, with a login link, and the
JSON itself for successful answers, never a 406.

Parsers: a body DRF cannot read is a 415 that says the body was not read and how to send it,
instead of DRF's bare "Unsupported media type" (or, for a form body, of "field required" errors
about fields the caller did send).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from rest_framework import exceptions
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.parsers import BaseParser
from rest_framework.renderers import BaseRenderer, BrowsableAPIRenderer
from rest_framework.request import Request

from vexil.common.error_shape import wants_html
from vexil.common.parsers import SEND_JSON
from vexil.common.renderers import HTMLErrorPageRenderer


class BrowsableForTrustedNegotiation(DefaultContentNegotiation):
    """Offer DRF's browsable API only in development and to superusers; everyone else gets JSON.

    The browsable API renders forms with related-object choices; keeping it from ordinary users
    keeps it from becoming a second, less-reviewed way to list data.
    """

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        renderers = list(renderers)
        browsable = any(isinstance(r, BrowsableAPIRenderer) for r in renderers)
        if browsable and not _browsable_allowed(request):
            renderers = [r for r in renderers if not isinstance(r, BrowsableAPIRenderer)]
            explicit_format = format_suffix or request.query_params.get(
                self.settings.URL_FORMAT_OVERRIDE
            )
            if not explicit_format and wants_html(request._request):
                return HTMLErrorPageRenderer(), HTMLErrorPageRenderer.media_type
        result: tuple[BaseRenderer, str] = super().select_renderer(
            request, renderers, format_suffix
        )
        return result

    def select_parser(self, request: Request, parsers: Iterable[BaseParser]) -> BaseParser:
        parser: BaseParser | None = super().select_parser(request, parsers)
        if parser is None:
            raise exceptions.UnsupportedMediaType(
                request.content_type, detail=_unread_body_detail(request.content_type)
            )
        return parser


def _browsable_allowed(request: Request) -> bool:
    if settings.DEBUG:
        return True
    user = getattr(request._request, "user", None)
    return bool(user is not None and user.is_active and user.is_superuser)


def _unread_body_detail(content_type: str) -> str:
    if not content_type:
        return f"The body was not read: the request has no Content-Type. {SEND_JSON}"
    shown = content_type if len(content_type) <= 100 else content_type[:100] + "…"
    return f"The body was not read: Content-Type '{shown}' is not supported. {SEND_JSON}"
