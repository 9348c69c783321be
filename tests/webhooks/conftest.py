"""A real HTTP receiver on loopback, and settings that let deliveries reach it quickly.

Every receiver listens on 127.0.0.1 or ::1 only; no test connects anywhere else.
"""

from __future__ import annotations

import socket
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from vexil.webhooks import delivery
from vexil.webhooks.models import DeliveryStatus, WebhookDelivery

LOOPBACK_NETWORKS = ["127.0.0.0/8", "::1/128"]


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b"ok"
    delay: float = 0.0


class Receiver:
    """Answers scripted replies (then 200) and records every request and connection."""

    def __init__(self, host: str = "127.0.0.1", tls: ssl.SSLContext | None = None) -> None:
        self.requests: list[Received] = []
        self.replies: list[Reply] = []
        self.connections = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                receiver.requests.append(
                    Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                )
                reply = receiver.replies.pop(0) if receiver.replies else Reply()
                time.sleep(reply.delay)
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)

            def log_message(self, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
            daemon_threads = True

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # a client that stopped reading (a timeout test) is not an error here

            def get_request(self) -> tuple[socket.socket, Any]:
                request = super().get_request()
                receiver.connections += 1
                return request

        self.server = Server((host, 0), Handler)
        if tls is not None:
            # The handshake runs on accept; a client that refuses the certificate never gets in.
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.scheme = "https" if tls is not None else "http"
        self.port = self.server.server_address[1]
        self.host = host
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def url(self, path: str = "/hook", host: str | None = None) -> str:
        name = host or self.host
        name = f"[{name}]" if ":" in name else name
        return f"{self.scheme}://{name}:{self.port}{path}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def receiver_v6() -> Iterator[Receiver]:
    server = Receiver("::1")
    yield server
    server.close()


@pytest.fixture
def allow_loopback(settings: Any) -> None:
    settings.VEXIL_WEBHOOK_ALLOWED_NETWORKS = LOOPBACK_NETWORKS


@pytest.fixture(autouse=True)
def _fast_deliveries(settings: Any) -> None:
    """Short retry delays, a short timeout, and no background thread: tests deliver in-line."""
    settings.VEXIL_WEBHOOK_RETRY_DELAYS = [0.0, 0.0, 0.0]
    settings.VEXIL_WEBHOOK_TIMEOUT_SECONDS = 2.0
    settings.VEXIL_WEBHOOK_IN_PROCESS_WORKER = False


def deliver_all(timeout: float = 10.0) -> None:
    """Run the deliverer until nothing is pending (bounded)."""
    deadline = time.monotonic() + timeout
    while WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING).exists():
        assert time.monotonic() < deadline, "deliveries still pending"
        if not delivery.run_due():
            time.sleep(0.01)
