"""The ASGI application that ``vexil serve`` runs under granian.

SDK paths are answered by the lean handler in ``vexil.sdk`` from in-memory snapshots; everything
else reaches Django, whose request cycle runs as WSGI inside a thread pool (a2wsgi): measured here,
that serves a Django view about three times faster than Django's own ASGI handler
(docs/performance.md). The ASGI interface stays on the outside so that long-lived streams can be
served by async code without holding a thread each.
"""

import os

from a2wsgi import WSGIMiddleware

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vexil.settings")

from django.conf import settings

from vexil.sdk import analytics
from vexil.sdk.app import create_application
from vexil.wsgi import application as django_application

analytics.configure(settings.VEXIL_ANALYTICS_FLUSH_SECONDS)
application = create_application(
    WSGIMiddleware(django_application, workers=16),  # type: ignore[arg-type]
    interval=settings.VEXIL_SDK_REFRESH_SECONDS,
    threads=settings.VEXIL_SDK_THREADS,
)
