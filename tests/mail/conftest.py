"""A real SMTP server on loopback (aiosmtpd), started by the tests, and Django pointed at it."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from tests.processes import free_port


@dataclass
class RecordingHandler:
    """Accepts every message, after refusing the first ``refusals`` DATA commands (451)."""

    refusals: int = 0
    received: list[EmailMessage] = field(default_factory=list)
    attempts: int = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.attempts += 1
        if self.attempts <= self.refusals:
            return "451 4.3.0 Try again later"
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.received.append(message)
        return "250 OK"


@dataclass
class SMTPServer:
    port: int
    handler: RecordingHandler


@pytest.fixture
def smtp_server(settings: Any) -> Iterator[SMTPServer]:
    handler = RecordingHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_RETRY_BACKOFF_SECONDS = 0.05
    try:
        yield SMTPServer(port, handler)
    finally:
        controller.stop()
