from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from vexil.health import checks


class Command(BaseCommand):
    help = (
        "Check Vexil's configuration (settings load, Django system checks, deployment checks "
        "when ENV=production), and that the database and cache answer. Exits non-zero with "
        "the reason."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("check", deploy=settings.IS_PRODUCTION, fail_level="ERROR")
        failures = {name: reason for name, reason in checks.run_all().items() if reason}
        for name, reason in failures.items():
            self.stderr.write(f"{name}: {reason}")
        if failures:
            raise CommandError("not ready: " + ", ".join(failures))
        cache = "redis" if settings.REDIS_URL else "in-process"
        tasks = "celery via broker" if settings.CELERY_BROKER_URL else "in process"
        summary = f"database {connection.vendor}, cache {cache}, background work {tasks}"
        self.stdout.write(f"Configuration OK: {summary}.")
