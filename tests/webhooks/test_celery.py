"""With a Celery broker, deliveries are tasks: a real ``vexil worker`` on the test Redis delivers
and retries (a countdown task) to a loopback receiver."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from django.test import override_settings
from django.utils import timezone

from tests.processes import running, shared_database_url, vexil_command, vexil_environment, wait_for
from tests.webhooks.conftest import Receiver, Reply
from vexil.audit.services import Actor
from vexil.celery import app
from vexil.features.models import FeatureState
from vexil.features.services import feature_state_update
from vexil.organisations.models import Organisation
from vexil.webhooks import services
from vexil.webhooks.models import DeliveryStatus, WebhookDelivery


@pytest.fixture
def broker(redis_url: str) -> Iterator[str]:
    previous = app.conf.broker_url
    app.conf.broker_url = redis_url
    try:
        with override_settings(CELERY_BROKER_URL=redis_url):
            yield redis_url
    finally:
        app.conf.broker_url = previous
        app.close()


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("allow_loopback")
def test_worker__503_then_200__retried_by_countdown_task_and_delivered(
    broker: str,
    tmp_path: Path,
    organisation: Organisation,
    feature_state: FeatureState,
    actor: Actor,
    receiver: Receiver,
) -> None:
    services.webhook_create(
        organisation=organisation, environment=feature_state.environment, url=receiver.url()
    )
    receiver.replies.append(Reply(503))
    env = vexil_environment(
        CELERY_BROKER_URL=broker,
        DATABASE_URL=shared_database_url(),
        VEXIL_WEBHOOK_ALLOWED_NETWORKS="127.0.0.0/8",
        VEXIL_WEBHOOK_RETRY_DELAYS="0.5,0.5",
    )
    log = tmp_path / "worker.log"
    with running(vexil_command("worker", "--pool", "solo"), env=env, output=log) as worker:
        feature_state_update(feature_state=feature_state, actor=actor, enabled=True)
        wait_for(
            lambda: WebhookDelivery.objects.filter(status=DeliveryStatus.DELIVERED).first(),
            timeout=60,
            what="the delivery",
            process=worker,
        )

    assert len(receiver.requests) == 2, log.read_text()
    first, second = receiver.requests
    assert first.headers["x-vexil-event-id"] == second.headers["x-vexil-event-id"]
    assert second.headers["x-vexil-delivery-attempt"] == "2"


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("allow_loopback")
def test_worker__pending_row_whose_task_was_lost__swept_and_delivered(
    broker: str, tmp_path: Path, organisation: Organisation, receiver: Receiver
) -> None:
    # Given a pending delivery that no task on the broker knows of (the broker lost it)
    webhook = services.webhook_create(organisation=organisation, url=receiver.url())
    lost = WebhookDelivery.objects.create(
        event_id=uuid.uuid4(),
        webhook=webhook,
        event_type="AUDIT_LOG_CREATED",
        body='{"data": {}, "event_type": "AUDIT_LOG_CREATED"}',
        next_attempt_at=timezone.now() - timedelta(seconds=30),
    )
    env = vexil_environment(
        CELERY_BROKER_URL=broker,
        DATABASE_URL=shared_database_url(),
        VEXIL_WEBHOOK_ALLOWED_NETWORKS="127.0.0.0/8",
        VEXIL_WEBHOOK_SWEEP_SECONDS="0.5",
    )

    # When a worker runs
    log = tmp_path / "worker.log"
    with running(vexil_command("worker", "--pool", "solo"), env=env, output=log) as worker:
        wait_for(
            lambda: WebhookDelivery.objects.filter(
                pk=lost.pk, status=DeliveryStatus.DELIVERED
            ).first(),
            timeout=60,
            what="the swept delivery",
            process=worker,
        )

    # Then its sweeper sent the task again, and the event arrived once
    assert len(receiver.requests) == 1, log.read_text()
    assert receiver.requests[0].headers["x-vexil-event-id"] == str(lost.event_id)
    assert "tasks were lost" in log.read_text()
