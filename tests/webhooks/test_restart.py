"""A pending delivery outlives the process that was delivering it: ``vexil serve`` is killed with
SIGKILL between two attempts, and a new ``vexil serve`` delivers the event from the outbox."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.processes import (
    free_port,
    http_get,
    read_text,
    running,
    shared_database_url,
    vexil_command,
    vexil_environment,
    wait_for,
)
from tests.webhooks.conftest import Receiver, Reply
from vexil.audit.services import Actor
from vexil.features.models import FeatureState
from vexil.features.services import feature_state_update
from vexil.organisations.models import Organisation
from vexil.webhooks import services
from vexil.webhooks.models import DeliveryStatus, WebhookAttempt, WebhookDelivery

pytestmark = pytest.mark.django_db(transaction=True)


@contextmanager
def serving(directory: Path) -> Iterator[Any]:
    port = free_port()
    env = vexil_environment(
        DATABASE_URL=shared_database_url(),
        VEXIL_DATA_DIR=str(directory / "data"),
        VEXIL_WEBHOOK_ALLOWED_NETWORKS="127.0.0.0/8",
        VEXIL_WEBHOOK_RETRY_DELAYS="6,6",
        VEXIL_WEBHOOK_POLL_SECONDS="0.1",
        VEXIL_WEBHOOK_TIMEOUT_SECONDS="2",
    )
    command = vexil_command("serve", "--port", str(port), "--workers", "1")
    directory.mkdir(parents=True, exist_ok=True)
    stderr = directory / "stderr.log"
    with running(command, env=env, output=directory / "stdout.log", errors=stderr) as process:
        try:
            wait_for(
                lambda: http_get(f"http://127.0.0.1:{port}/health/liveness/"),
                timeout=60,
                what="vexil serve to answer",
                process=process,
            )
        except AssertionError as error:
            raise AssertionError(f"{error}\n{read_text(stderr)}") from None
        yield process


def _attempts() -> int | None:
    count = WebhookAttempt.objects.count()
    return count or None


def test_pending_delivery__server_killed__delivered_after_restart(
    tmp_path: Path,
    organisation: Organisation,
    feature_state: FeatureState,
    actor: Actor,
    receiver: Receiver,
    allow_loopback: None,
) -> None:
    # Given a webhook whose receiver is down (503) on the first attempt
    services.webhook_create(
        organisation=organisation,
        environment=feature_state.environment,
        url=receiver.url(),
        secret="k",
    )
    receiver.replies.append(Reply(503))

    with serving(tmp_path / "first") as first:
        # When a flag changes (the outbox row is committed) and the server makes one attempt
        feature_state_update(feature_state=feature_state, actor=actor, enabled=True)
        wait_for(_attempts, timeout=30, what="the first attempt")
        # ... and is killed before its retry is due
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=10)

    pending = WebhookDelivery.objects.get()
    assert pending.status == DeliveryStatus.PENDING
    assert len(receiver.requests) == 1

    # Then a new server process delivers it when the retry is due
    with serving(tmp_path / "second"):
        wait_for(
            lambda: WebhookDelivery.objects.filter(status=DeliveryStatus.DELIVERED).first(),
            timeout=60,
            what="the delivery after the restart",
        )

    assert len(receiver.requests) == 2
    first_try, second_try = receiver.requests
    assert first_try.headers["x-vexil-event-id"] == second_try.headers["x-vexil-event-id"]
    assert second_try.headers["x-vexil-delivery-attempt"] == "2"
    assert json.loads(second_try.body)["data"]["new_state"]["enabled"] is True
