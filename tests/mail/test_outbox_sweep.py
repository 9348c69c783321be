"""After a crash, the outbox sweep delivers what was left ``queued`` or ``sending``."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.mail.conftest import SMTPServer
from vexil.common.mail import INTERRUPTED, email_outbox_sweep, email_stale_after
from vexil.common.models import OutboundEmail
from vexil.common.tasks import wait_for_in_process_tasks

pytestmark = pytest.mark.django_db(transaction=True)


def _row(status: str, age: timedelta, recipient: str) -> OutboundEmail:
    # Rows as a killed process leaves them: written, but no task will ever deliver them.
    at = timezone.now() - age
    return OutboundEmail.objects.create(
        kind="invite",
        recipient=recipient,
        from_email="noreply@vexil.local",
        subject="Hello",
        body_text="Hi\n",
        body_html="<p>Hi</p>",
        status=status,
        created_at=at,
        updated_at=at,
    )


def test_sweep__after_crash__stale_queued_and_sending_delivered_once(
    smtp_server: SMTPServer,
) -> None:
    # Given rows a crash left behind, and fresh ones a live process is still working on
    old = email_stale_after() + timedelta(seconds=5)
    queued = _row("queued", old, "queued@example.com")
    sending = _row("sending", old, "sending@example.com")
    _row("sending", timedelta(0), "busy@example.com")
    _row("queued", timedelta(0), "waiting@example.com")
    _row("sent", old, "done@example.com")
    # When
    resumed = email_outbox_sweep()
    wait_for_in_process_tasks()
    # Then the stale ones were sent, each once; the half-sent attempt is on record
    assert sorted(resumed) == sorted([queued.pk, sending.pk])
    assert sorted(m["To"] for m in smtp_server.handler.received) == [
        "queued@example.com",
        "sending@example.com",
    ]
    sending.refresh_from_db()
    assert (sending.status, sending.attempts, sending.last_error) == ("sent", 2, INTERRUPTED)
    statuses = dict(OutboundEmail.objects.values_list("recipient", "status"))
    assert statuses == {
        "queued@example.com": "sent",
        "sending@example.com": "sent",
        "busy@example.com": "sending",
        "waiting@example.com": "queued",
        "done@example.com": "sent",
    }
    # and a second sweep finds nothing left
    assert email_outbox_sweep() == []
    assert len(smtp_server.handler.received) == 2
