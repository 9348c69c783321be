"""Background work: the set-up e-mail, sent in process without a broker, by a worker with one."""

from __future__ import annotations

import contextlib
import email
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from django.db import transaction
from django.test import Client, override_settings

from tests.processes import (
    run_vexil,
    running,
    shared_database_url,
    vexil_command,
    vexil_environment,
    wait_for,
)
from vexil.celery import app
from vexil.common.mail import site_base_url
from vexil.common.tasks import wait_for_in_process_tasks
from vexil.users.models import User
from vexil.users.services import instance_initialise, setup_token_issue

INIT = "/api/v1/users/config/init/"
SUBJECT = "Your Vexil install is set up"
EXPECTED_BODY = """\
Hello Ada,

Your Vexil install "Acme flags" is set up, and ada@example.com is its first administrator.

Sign in:            https://flags.acme.test/admin/
API documentation:  https://flags.acme.test/api/v1/docs/

You receive this e-mail because this address was used to set up the install.
"""


class RollBackError(Exception):
    pass


def _initialise_over_http() -> None:
    token = setup_token_issue()
    assert token
    response = Client().post(
        INIT,
        {
            "setup_token": token,
            "username": "Ada",
            "email": "ada@example.com",
            "password": "a long enough passphrase",
            "site_name": "Acme flags",
            "site_domain": "flags.acme.test",
        },
    )
    assert response.status_code == 201


@pytest.mark.django_db(transaction=True)
def test_setup_email__no_broker__sent_in_process_after_commit(
    mailoutbox: list[mail.EmailMessage],
) -> None:
    # When
    _initialise_over_http()
    wait_for_in_process_tasks()
    # Then
    assert [(m.to, m.subject, m.from_email) for m in mailoutbox] == [
        (["ada@example.com"], SUBJECT, "noreply@vexil.local")
    ]
    assert mailoutbox[0].body == EXPECTED_BODY


@pytest.mark.django_db(transaction=True)
def test_setup_email__transaction_rolled_back__nothing_enqueued(
    mailoutbox: list[mail.EmailMessage],
) -> None:
    # When
    with contextlib.suppress(RollBackError), transaction.atomic():
        instance_initialise(email="ada@example.com", password="a long enough passphrase")
        raise RollBackError
    wait_for_in_process_tasks()
    # Then
    assert mailoutbox == []
    assert not User.objects.exists()


@pytest.mark.parametrize(
    ("domain", "expected"),
    [
        ("localhost:8000", "http://localhost:8000"),
        ("127.0.0.1", "http://127.0.0.1"),
        ("[::1]:8000", "http://[::1]:8000"),
        ("flags.acme.test", "https://flags.acme.test"),
    ],
)
def test_site_base_url__domain__scheme_by_loopback(domain: str, expected: str) -> None:
    assert site_base_url(domain) == expected


@pytest.fixture
def broker(redis_url: str) -> Iterator[str]:
    """Send background work to the test Redis from this process, as a server with a broker does."""
    previous = app.conf.broker_url
    app.conf.broker_url = redis_url
    try:
        with override_settings(CELERY_BROKER_URL=redis_url):
            yield redis_url
    finally:
        app.conf.broker_url = previous
        app.close()  # drop the pooled connections to the test broker


def _sent_messages(outbox: Path) -> list[email.message.Message] | None:
    files = sorted(outbox.glob("*.log"))
    if not files:
        return None
    # The file backend writes each message followed by a line of 79 dashes; until that line is
    # there, the worker is still writing (the file exists, empty or partial, from its open()).
    separator = "\n" + "-" * 79 + "\n"
    text = files[0].read_text()
    if separator not in text:
        return None
    return [email.message_from_string(text.split(separator)[0])]


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_setup_email__broker_and_worker__worker_sends_it(broker: str, tmp_path: Path) -> None:
    # Given a worker on the same broker and database, writing e-mail to files
    outbox = tmp_path / "outbox"
    env = vexil_environment(
        CELERY_BROKER_URL=broker,
        DATABASE_URL=shared_database_url(),
        EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
        EMAIL_FILE_PATH=str(outbox),
    )
    log = tmp_path / "worker.log"
    with running(vexil_command("worker", "--pool", "solo"), env=env, output=log) as worker:
        # When
        _initialise_over_http()
        # Then
        messages = wait_for(
            lambda: _sent_messages(outbox), timeout=30, what="the e-mail file", process=worker
        )
    assert [(m["To"], m["Subject"], m["From"]) for m in messages] == [
        ("ada@example.com", SUBJECT, "noreply@vexil.local")
    ], log.read_text()
    parts: list[Any] = list(messages[0].walk())
    assert [part.get_content_type() for part in parts] == [
        "multipart/alternative",
        "text/plain",
        "text/html",
    ]
    assert parts[1].get_payload(decode=True).decode() == EXPECTED_BODY


def test_worker__no_broker__exits_non_zero_with_reason(tmp_path: Path) -> None:
    result = run_vexil("worker", env=vexil_environment(VEXIL_DATA_DIR=str(tmp_path)))
    assert result.returncode == 1
    assert "CELERY_BROKER_URL is not set" in result.stderr
