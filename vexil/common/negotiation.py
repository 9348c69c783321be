from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer, BrowsableAPIRenderer
from rest_framework.request import Request


class BrowsableForTrustedNegotiation(DefaultContentNegotiation):
    """Offer DRF's browsable API only in development and to superusers; everyone else gets JSON.

    The browsable API renders forms with related-object choices; keeping it from ordinary users
    keeps it from becoming a second, less-reviewed way to list data.
    """

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        if not _browsable_allowed(request):
            renderers = [r for r in renderers if not isinstance(r, BrowsableAPIRenderer)]
        result: tuple[BaseRenderer, str] = super().select_renderer(
            request, list(renderers), format_suffix
        )
        return result


def _browsable_allowed(request: Request) -> bool:
    if settings.DEBUG:
        return True
    user = getattr(request._request, "user", None)
    return bool(user is not None and user.is_active and user.is_superuser)
