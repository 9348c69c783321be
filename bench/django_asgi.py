"""Vexil's Django project behind Django's own ASGI handler (for comparison only; not served)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vexil.settings")

application = get_asgi_application()
