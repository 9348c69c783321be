from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from vexil.celery import app


class Command(BaseCommand):
    help = "Run the Celery worker that executes Vexil's background tasks."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--concurrency",
            type=int,
            default=2,
            help="tasks run at the same time (processes or threads; default: 2)",
        )
        parser.add_argument(
            "--pool",
            default="prefork",
            choices=["prefork", "threads", "solo"],
            help="how tasks run: prefork (processes, the default), threads, or solo "
            "(one at a time, in this process)",
        )

    def handle(self, *args: Any, concurrency: int, pool: str, **options: Any) -> None:
        if not settings.CELERY_BROKER_URL:
            raise CommandError(
                "CELERY_BROKER_URL is not set: without a broker, background tasks already run "
                "inside the server process and no worker is needed."
            )
        app.worker_main(
            [
                "worker",
                f"--concurrency={concurrency}",
                f"--pool={pool}",
                f"--loglevel={settings.LOG_LEVEL}",
                # Mingle and gossip synchronise state between workers that Vexil does not use
                # (remote control, revokes); without them a worker is ready a second sooner
                # and does not poll the broker for peers.
                "--without-mingle",
                "--without-gossip",
            ]
        )
