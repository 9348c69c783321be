from __future__ import annotations

import contextlib
import errno
import socket
from argparse import ArgumentParser, ArgumentTypeError
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from granian.constants import Interfaces

from vexil.common.granian_server import ResilientServer
from vexil.common.invocation import vexil_command
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


@contextlib.contextmanager
def port_claimed(host: str, port: int) -> Iterator[None]:
    """Refuse a port another server listens on, and hold it for this server's workers.

    Granian's workers each bind the port with SO_REUSEPORT, which also lets a second, unrelated
    server bind it silently and take half the connections. A plain bind (no SO_REUSEPORT) fails
    on a port anything is bound to, so it detects that server; this process then keeps a socket
    bound *with* SO_REUSEPORT (never listening, so it gets no connections) until it exits: its
    own workers can join it, while another server's plain bind still fails.
    """
    try:
        family, kind, protocol, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM
        )[0]
    except socket.gaierror as error:
        raise CommandError(f"cannot listen on {host!r} (--host or VEXIL_HOST): {error}") from None
    with socket.socket(family, kind, protocol) as probe:
        try:
            probe.bind(address)
        except OSError as error:
            reason = (
                "address already in use (is another server running there?)"
                if error.errno == errno.EADDRINUSE
                else error.strerror
            )
            raise CommandError(f"cannot listen on {host} port {port}: {reason}") from None
    with socket.socket(family, kind, protocol) as guard:
        guard.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        guard.bind(address)
        yield


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
        with port_claimed(host, port):
            if not options["no_migrate"]:
                call_command("migrate", interactive=False, verbosity=0)
            call_command("collectstatic", interactive=False, verbosity=0)
            self._announce(host, port)
            self._serve(host, port, workers)

    def _serve(self, host: str, port: int, workers: int) -> None:
        ResilientServer(
            target="vexil.asgi:application",
            address=host,
            port=port,
            interface=Interfaces.ASGI,
            workers=workers,
            backlog=2048,
            # Requests and event streams one worker holds at once. Granian's default, backlog /
            # workers, let 1,024 idle streams starve every other request on a worker
            # (docs/performance.md): room for the streams the SDK app admits (VEXIL_STREAMS_MAX)
            # plus as many requests. Django requests are bounded by a2wsgi's threads anyway.
            backpressure=BACKPRESSURE_PER_WORKER + settings.VEXIL_STREAMS_MAX,
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
            write(f"  or run: {vexil_command()} bootstrap --email you@example.com")
        else:
            write(f"Sign in at {url}/ ; API docs at {url}/api/v1/docs/")
        # stdout is block-buffered when it is a pipe or a file (containers, systemd); flush so
        # the URL and setup token never wait on whatever the server does with its streams.
        self.stdout.flush()
