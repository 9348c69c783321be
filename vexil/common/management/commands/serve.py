from __future__ import annotations

from argparse import ArgumentParser, ArgumentTypeError
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import connection
from granian.constants import Interfaces

from vexil.common.granian_server import ResilientServer
from vexil.common.logging import logging_dict_config
from vexil.users.services import setup_token_issue

BACKPRESSURE_PER_WORKER = 4096
WORKERS_KILL_TIMEOUT_SECONDS = 10


def _port(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        port = 0
    if not 1 <= port <= settings.PORT_MAX:
        raise ArgumentTypeError(f"must be an integer from 1 to {settings.PORT_MAX} (got {value!r})")
    return port


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise ArgumentTypeError(f"must be an integer >= 1 (got {value!r})")
    return number


class Command(BaseCommand):
    help = "Apply migrations and serve Vexil with the production server (granian, ASGI)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        # Defaults come from the settings, which read VEXIL_HOST/PORT/WORKERS strictly: a
        # malformed value stops every command with the variable's name, not a traceback.
        parser.add_argument(
            "--host",
            default=settings.SERVE_HOST,
            help="address (default: 127.0.0.1, or VEXIL_HOST)",
        )
        parser.add_argument(
            "--port",
            type=_port,
            default=settings.SERVE_PORT,
            help="port (default: 8000, or VEXIL_PORT)",
        )
        parser.add_argument(
            "--workers",
            type=_positive,
            default=settings.SERVE_WORKERS,
            help="worker processes (default: 2, or VEXIL_WORKERS)",
        )
        parser.add_argument(
            "--no-migrate", action="store_true", help="do not apply migrations before serving"
        )

    def handle(self, *args: Any, host: str, port: int, workers: int, **options: Any) -> None:
        if not options["no_migrate"]:
            call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        self._announce(host, port)
        ResilientServer(
            target="vexil.asgi:application",
            address=host,
            port=port,
            interface=Interfaces.ASGI,
            workers=workers,
            backlog=2048,
            # Requests (and, later, event streams) one worker holds at once. Granian's default,
            # backlog / workers, let 1,024 idle streams starve every other request on a worker
            # (docs/performance.md); Django requests are bounded by a2wsgi's threads anyway.
            backpressure=BACKPRESSURE_PER_WORKER,
            # A worker that was serving when SIGTERM came can hang in shutdown (a2wsgi threads
            # waiting on a closed event loop); stop it rather than never exiting.
            workers_kill_timeout=WORKERS_KILL_TIMEOUT_SECONDS,
            log_dictconfig=logging_dict_config(
                settings.LOG_LEVEL, settings.LOG_FORMAT, settings.ACCESS_LOG_LOCATION
            ),
            log_access=bool(settings.ACCESS_LOG_LOCATION),
            static_path_route=["/static"],
            static_path_mount=[settings.STATIC_ROOT],
            respawn_failed_workers=True,
        ).serve()

    def _announce(self, host: str, port: int) -> None:
        shown_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: S104
        url = f"http://{shown_host}:{port}"
        write = self.stdout.write
        write(f"Vexil {settings.VERSION} on {url}")
        write(f"  database: {connection.vendor}, data directory: {settings.DATA_DIR}")
        token = setup_token_issue()
        if token:
            write("This install has no administrator yet. Either:")
            write(f"  open {url}/api/v1/users/config/init/ with the one-time setup token {token}")
            write("  or run: vexil bootstrap --email you@example.com")
        else:
            write(f"Sign in at {url}/admin/ ; API docs at {url}/api/v1/docs/")
        # stdout is block-buffered when it is a pipe or a file (containers, systemd); flush so
        # the URL and setup token never wait on whatever the server does with its streams.
        self.stdout.flush()
