"""The ASGI application that ``vexil serve`` runs under granian.

Django's request cycle runs as WSGI inside a thread pool (a2wsgi): measured here, that serves a
Django view about three times faster than Django's own ASGI handler (docs/performance.md). The
ASGI interface stays on the outside so that long-lived streams can be served by async code
without holding a thread each.
"""

import os

from a2wsgi import WSGIMiddleware

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vexil.settings")

from vexil.wsgi import application as django_application

application = WSGIMiddleware(django_application, workers=16)  # type: ignore[arg-type]
