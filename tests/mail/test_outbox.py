"""E-mail as a subsystem: outbox records, multipart messages, retries against a real SMTP server."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from django.db import transaction

from tests.mail.conftest import SMTPServer
from vexil.common.mail import email_deliver, email_queue, public_base_url
from vexil.common.models import OutboundEmail
from vexil.common.tasks import wait_for_in_process_tasks
from vexil.users.models import User

pytestmark = pytest.mark.django_db(transaction=True)


def _queue_setup_email(user: User, base_url: str = "https://flags.acme.test") -> OutboundEmail:
    with transaction.atomic():
        return email_queue(
            kind="instance_initialised",
            recipient=user.email,
            subject="Your Vexil install is set up",
            template="users/emails/instance_initialised",
            context={"user": user},
            base_url=base_url,
        )


@pytest.fixture
def ada() -> User:
    return User.objects.create_user(email="ada@example.com", first_name="Ada")


def test_email_queue__smtp_accepts__sent_multipart_and_recorded(
    smtp_server: SMTPServer, ada: User
) -> None:
    # When
    queued = _queue_setup_email(ada)
    wait_for_in_process_tasks()
    # Then the outbox row says sent, after one attempt
    row = OutboundEmail.objects.get(pk=queued.pk)
    assert (row.status, row.attempts, row.last_error, row.kind) == (
        "sent",
        1,
        "",
        "instance_initialised",
    )
    assert row.sent_at is not None
    # and the server received one multipart message, text and HTML, with the links
    [message] = smtp_server.handler.received
    assert message["To"] == "ada@example.com"
    assert message["Subject"] == "Your Vexil install is set up"
    assert message["Message-ID"] == f"<{row.uuid}@vexil>"
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None
    assert html is not None
    assert "Sign in:            https://flags.acme.test/admin/" in text.get_content()
    assert 'href="https://flags.acme.test/admin/"' in html.get_content()
    assert "example.com/" not in text.get_content() + html.get_content()


def test_email_deliver__first_attempt_refused__retried_and_sent_once(
    smtp_server: SMTPServer, ada: User
) -> None:
    # Given a server that refuses the first DATA and accepts the next
    smtp_server.handler.refusals = 1
    # When
    queued = _queue_setup_email(ada)
    wait_for_in_process_tasks()
    # Then
    row = OutboundEmail.objects.get(pk=queued.pk)
    assert (row.status, row.attempts) == ("sent", 2)
    assert "451" in row.last_error
    assert len(smtp_server.handler.received) == 1
    assert smtp_server.handler.attempts == 2


def test_email_deliver__already_sent__not_sent_again(smtp_server: SMTPServer, ada: User) -> None:
    # Given a message the server accepted
    queued = _queue_setup_email(ada)
    wait_for_in_process_tasks()
    # When the delivery runs again (a duplicated task, a retry after a lost acknowledgement)
    email_deliver(email_id=queued.pk)
    # Then nothing more is sent
    assert len(smtp_server.handler.received) == 1
    assert OutboundEmail.objects.get(pk=queued.pk).attempts == 1


def test_email_deliver__server_always_refuses__failed_with_error_visible(
    smtp_server: SMTPServer, ada: User, settings: Any
) -> None:
    # Given
    settings.EMAIL_MAX_ATTEMPTS = 3
    smtp_server.handler.refusals = 100
    # When
    queued = _queue_setup_email(ada)
    wait_for_in_process_tasks()
    # Then
    row = OutboundEmail.objects.get(pk=queued.pk)
    assert (row.status, row.attempts) == ("failed", 3)
    assert "451" in row.last_error
    assert "Try again later" in row.last_error
    assert smtp_server.handler.received == []


def test_email_queue__rolled_back__no_row_and_nothing_sent(
    smtp_server: SMTPServer, ada: User
) -> None:
    class RollBackError(Exception):
        pass

    with contextlib.suppress(RollBackError), transaction.atomic():
        _queue_setup_email(ada)
        raise RollBackError
    wait_for_in_process_tasks()
    assert not OutboundEmail.objects.exists()
    assert smtp_server.handler.attempts == 0


@pytest.mark.parametrize(
    ("variables", "expected"),
    [
        ({"PUBLIC_URL": "https://flags.acme.test/base"}, "https://flags.acme.test/base"),
        ({"PUBLIC_URL": ""}, "http://localhost:8000"),
    ],
)
def test_public_base_url__setting_or_cli_default(
    settings: Any, variables: dict[str, str], expected: str
) -> None:
    for name, value in variables.items():
        setattr(settings, name, value)
    settings.SERVE_PORT = 8000
    assert public_base_url() == expected
