"""The one Celery application. ``vexil worker`` runs it when ``CELERY_BROKER_URL`` is set."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vexil.settings")

app = Celery("vexil")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.autodiscover_tasks(lambda: ["vexil.common"], related_name="mail")
