"""Events reach a real HTTP receiver on 127.0.0.1 (allowlisted), signed as Flagsmith signs them,
retried on 5xx/429/network errors with the same event id, every attempt logged."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from typing import Any

import pytest
from flagsmith.webhooks import verify_signature
from rest_framework.test import APIClient

from tests.webhooks.conftest import Receiver, Reply, deliver_all
from vexil.audit.services import Actor
from vexil.common.models import OutboundEmail
from vexil.environments.models import Environment
from vexil.features.models import Feature, FeatureState
from vexil.features.services import (
    feature_delete,
    feature_segment_delete,
    feature_state_update,
    identity_override_create,
    override_state_delete,
    segment_override_create,
)
from vexil.identities.models import Identity
from vexil.organisations.models import Organisation
from vexil.segments.models import Segment
from vexil.users.models import User
from vexil.users.services import auth_token_issue
from vexil.webhooks import delivery, services
from vexil.webhooks.models import (
    AttemptOutcome,
    DeliveryStatus,
    Webhook,
    WebhookAttempt,
    WebhookDelivery,
)

pytestmark = pytest.mark.usefixtures("allow_loopback")

SECRET = "shh-a-shared-secret"
Capture = Callable[..., Any]


@pytest.fixture
def env_webhook(
    organisation: Organisation, environment: Environment, receiver: Receiver
) -> Webhook:
    return services.webhook_create(
        organisation=organisation, environment=environment, url=receiver.url(), secret=SECRET
    )


def _toggle(
    state: FeatureState, actor: Actor, capture: Capture, *, enabled: bool = True, **kw: Any
) -> None:
    with capture(execute=True):
        feature_state_update(feature_state=state, actor=actor, enabled=enabled, **kw)


def test_toggle__env_webhook__flag_updated_signed_with_states(
    env_webhook: Webhook,
    receiver: Receiver,
    feature_state: FeatureState,
    actor: Actor,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    # When the feature is switched on
    _toggle(feature_state, actor, django_capture_on_commit_callbacks)
    deliver_all()

    # Then one FLAG_UPDATED arrives, which the official SDK's verifier accepts
    [request] = receiver.requests
    assert verify_signature(request.body, request.headers["x-flagsmith-signature"], SECRET)
    assert not verify_signature(request.body, request.headers["x-flagsmith-signature"], "wrong")
    event = json.loads(request.body)
    assert event["event_type"] == "FLAG_UPDATED"
    data = event["data"]
    assert data["changed_by"] == "owner@example.com"
    assert data["previous_state"]["enabled"] is False
    assert data["new_state"]["enabled"] is True
    assert data["new_state"]["feature_state_value"] == "blue"
    assert data["new_state"]["feature"]["name"] == "checkout_button"
    assert data["new_state"]["environment"] == {
        "id": feature_state.environment_id,
        "name": "Development",
    }
    assert data["new_state"]["identity"] is None
    assert data["new_state"]["feature_segment"] is None
    assert request.headers["content-type"] == "application/json"
    # ...with Flagsmith's serialisation: sorted keys at every level, default separators
    assert request.body == json.dumps(event, sort_keys=True).encode()


def test_toggle__vexil_signature__covers_timestamp_and_event_id(
    env_webhook: Webhook,
    receiver: Receiver,
    feature_state: FeatureState,
    actor: Actor,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    _toggle(feature_state, actor, django_capture_on_commit_callbacks)
    deliver_all()

    [request] = receiver.requests
    headers = request.headers
    stored = WebhookDelivery.objects.get()
    assert headers["x-vexil-event-id"] == str(stored.event_id)
    assert headers["x-vexil-event-type"] == "FLAG_UPDATED"
    assert headers["x-vexil-delivery-attempt"] == "1"
    signed = f"{headers['x-vexil-timestamp']}.{headers['x-vexil-event-id']}.".encode()
    expected = hmac.new(SECRET.encode(), signed + request.body, hashlib.sha256).hexdigest()
    assert headers["x-vexil-signature"] == f"v1={expected}"


def test_toggle__value_change__previous_and_new_values(
    env_webhook: Webhook,
    receiver: Receiver,
    feature_state: FeatureState,
    actor: Actor,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    _toggle(feature_state, actor, django_capture_on_commit_callbacks, value=42)
    deliver_all()

    data = json.loads(receiver.requests[0].body)["data"]
    assert data["previous_state"]["feature_state_value"] == "blue"
    assert data["new_state"]["feature_state_value"] == 42


def test_toggle__rolled_back__nothing_queued(
    env_webhook: Webhook,
    receiver: Receiver,
    feature_state: FeatureState,
    actor: Actor,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    # The transaction's on-commit callbacks are not run: as if it had rolled back
    with django_capture_on_commit_callbacks(execute=False):
        feature_state_update(feature_state=feature_state, actor=actor, enabled=True)

    assert not WebhookDelivery.objects.exists()


def test_feature_delete__flag_deleted_with_previous_state(
    env_webhook: Webhook,
    receiver: Receiver,
    feature: Feature,
    feature_state: FeatureState,
    actor: Actor,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        feature_delete(feature=feature, actor=actor)
    deliver_all()

    [request] = receiver.requests
    event = json.loads(request.body)
    assert event["event_type"] == "FLAG_DELETED"
    assert event["data"]["new_state"] is None
    assert event["data"]["previous_state"]["feature"]["name"] == "checkout_button"


def _events(receiver: Receiver) -> list[tuple[str, dict[str, Any]]]:
    bodies = [json.loads(request.body) for request in receiver.requests]
    return [(body["event_type"], body["data"]) for body in bodies]


def test_identity_override__set_then_removed__flag_updated_then_flag_deleted(
    env_webhook: Webhook,
    receiver: Receiver,
    feature: Feature,
    environment: Environment,
    identity: Identity,
    actor: Actor,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    # When an identity override is set, then removed
    with django_capture_on_commit_callbacks(execute=True):
        state = identity_override_create(
            feature=feature,
            identity_id=identity.pk,
            environment=environment,
            actor=actor,
            enabled=True,
            value="red",
        )
    with django_capture_on_commit_callbacks(execute=True):
        override_state_delete(feature_state=state, actor=actor)
    deliver_all()

    # Then FLAG_UPDATED names the identity (no previous state), FLAG_DELETED its last state
    [(created_type, created), (deleted_type, deleted)] = _events(receiver)
    assert (created_type, deleted_type) == ("FLAG_UPDATED", "FLAG_DELETED")
    assert "previous_state" not in created  # absent, as Flagsmith's, when there is none
    assert created["new_state"]["identity"] == identity.pk
    assert created["new_state"]["identity_identifier"] == "alice@example.com"
    assert (created["new_state"]["enabled"], created["new_state"]["feature_state_value"]) == (
        True,
        "red",
    )
    assert deleted["new_state"] is None
    assert deleted["previous_state"]["identity_identifier"] == "alice@example.com"
    assert deleted["previous_state"]["feature_state_value"] == "red"


def test_segment_override__created_then_removed__flag_updated_then_flag_deleted(
    env_webhook: Webhook,
    receiver: Receiver,
    feature: Feature,
    environment: Environment,
    segment: Segment,
    actor: Actor,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    # When a segment override is added, then removed
    with django_capture_on_commit_callbacks(execute=True):
        state = segment_override_create(
            feature=feature, segment=segment, environment=environment, actor=actor, enabled=True
        )
    assert state.feature_segment is not None
    with django_capture_on_commit_callbacks(execute=True):
        feature_segment_delete(feature_segment=state.feature_segment, actor=actor)
    deliver_all()

    # Then both events carry the override's segment and priority
    [(created_type, created), (deleted_type, deleted)] = _events(receiver)
    assert (created_type, deleted_type) == ("FLAG_UPDATED", "FLAG_DELETED")
    override = {
        "priority": 0,
        "segment": {"description": None, "id": segment.pk, "name": "power_users"},
    }
    assert "previous_state" not in created  # absent, as Flagsmith's, when there is none
    assert created["new_state"]["feature_segment"] == override
    assert created["new_state"]["identity"] is None
    assert deleted["new_state"] is None
    assert deleted["previous_state"]["feature_segment"] == override
    assert deleted["previous_state"]["enabled"] is True


def test_retry__503_twice_then_200__third_attempt_same_event_id_all_logged(
    env_webhook: Webhook,
    receiver: Receiver,
    feature_state: FeatureState,
    actor: Actor,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    # Given a receiver that answers 503 twice, then 200
    receiver.replies += [Reply(503, body=b"down"), Reply(503, body=b"still down")]

    # When a flag changes
    _toggle(feature_state, actor, django_capture_on_commit_callbacks)
    deliver_all()

    # Then the event arrives on the third attempt, with the same id and body each time
    assert len(receiver.requests) == 3
    assert len({r.headers["x-vexil-event-id"] for r in receiver.requests}) == 1
    assert len({r.body for r in receiver.requests}) == 1
    assert [r.headers["x-vexil-delivery-attempt"] for r in receiver.requests] == ["1", "2", "3"]
    stored = WebhookDelivery.objects.get()
    assert stored.status == DeliveryStatus.DELIVERED
    assert stored.attempts == 3
    attempts = list(WebhookAttempt.objects.filter(delivery=stored).order_by("number"))
    assert [(a.number, a.status_code, a.outcome) for a in attempts] == [
        (1, 503, AttemptOutcome.RETRY),
        (2, 503, AttemptOutcome.RETRY),
        (3, 200, AttemptOutcome.DELIVERED),
    ]
    assert [a.response_body for a in attempts] == ["down", "still down", "ok"]
    assert attempts[0].error == "HTTP 503."


def test_retry__404__not_retried(
    env_webhook: Webhook,
    receiver: Receiver,
    feature_state: FeatureState,
    actor: Actor,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    receiver.replies.append(Reply(404))

    _toggle(feature_state, actor, django_capture_on_commit_callbacks)
    deliver_all()

    assert len(receiver.requests) == 1
    stored = WebhookDelivery.objects.get()
    assert (stored.status, stored.attempts, stored.last_status_code) == ("FAILED", 1, 404)
    assert Webhook.objects.get().consecutive_failures == 1


def test_retry__redirect__not_followed_not_retried(
    env_webhook: Webhook,
    receiver: Receiver,
    feature_state: FeatureState,
    actor: Actor,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    receiver.replies.append(Reply(307, {"Location": receiver.url("/other")}))

    _toggle(feature_state, actor, django_capture_on_commit_callbacks)
    deliver_all()

    assert [r.path for r in receiver.requests] == ["/hook"]
    attempt = WebhookAttempt.objects.get()
    assert attempt.outcome == AttemptOutcome.FAILED
    assert attempt.error == f"HTTP 307: redirects are not followed ({receiver.url('/other')})."


def test_retry__429_with_retry_after__waits_that_long(
    env_webhook: Webhook,
    receiver: Receiver,
    feature_state: FeatureState,
    actor: Actor,
    django_capture_on_commit_callbacks: Capture,
    settings: Any,
) -> None:
    settings.VEXIL_WEBHOOK_RETRY_DELAYS = [1.0, 3600.0]
    receiver.replies.append(Reply(429, {"Retry-After": "120"}))

    _toggle(feature_state, actor, django_capture_on_commit_callbacks)
    delivery.run_due()

    stored = WebhookDelivery.objects.get()
    assert stored.status == DeliveryStatus.PENDING
    wait = (stored.next_attempt_at - WebhookAttempt.objects.get().started_at).total_seconds()
    assert 120 <= wait < 125
    assert delivery.run_due() == 0  # not due yet


def test_retry__schedule__first_within_10s_second_within_a_minute_about_a_day(
    settings: Any,
) -> None:
    settings.VEXIL_WEBHOOK_RETRY_DELAYS = [
        5.0, 30.0, 120.0, 600.0, 1800.0, 3600.0, 7200.0, 14400.0, 28800.0, 28800.0
    ]  # fmt: skip
    for _ in range(50):
        first = delivery.retry_delay(1, None)
        second = delivery.retry_delay(2, None)
        assert first is not None
        assert second is not None
        assert 2.5 <= first <= 5
        assert first + second <= 35
    assert delivery.retry_delay(11, None) is None
    total = sum(settings.VEXIL_WEBHOOK_RETRY_DELAYS)
    assert 20 * 3600 <= total <= 26 * 3600


def test_retry__network_error_until_schedule_spent__failed(
    organisation: Organisation,
    environment: Environment,
    feature_state: FeatureState,
    actor: Actor,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    # Given a loopback port nothing listens on
    receiver = Receiver()
    url = receiver.url()
    receiver.close()
    services.webhook_create(organisation=organisation, environment=environment, url=url)

    _toggle(feature_state, actor, django_capture_on_commit_callbacks)
    deliver_all()

    stored = WebhookDelivery.objects.get()
    assert stored.status == DeliveryStatus.FAILED
    assert stored.attempts == 4  # the first try and three retries
    outcomes = list(WebhookAttempt.objects.values_list("outcome", flat=True).order_by("number"))
    assert outcomes == ["RETRY", "RETRY", "RETRY", "FAILED"]
    assert "ConnectionRefusedError" in stored.last_error


def test_refused_destination__recorded_failure_no_connection(
    organisation: Organisation,
    environment: Environment,
    receiver: Receiver,
    feature_state: FeatureState,
    actor: Actor,
    django_capture_on_commit_callbacks: Capture,
    settings: Any,
) -> None:
    # Given a webhook saved while loopback was allowed, and the allowlist since emptied
    services.webhook_create(organisation=organisation, environment=environment, url=receiver.url())
    settings.VEXIL_WEBHOOK_ALLOWED_NETWORKS = []

    _toggle(feature_state, actor, django_capture_on_commit_callbacks)
    deliver_all()

    assert receiver.connections == 0
    attempt = WebhookAttempt.objects.get()
    assert attempt.outcome == AttemptOutcome.FAILED
    assert attempt.status_code is None
    assert attempt.error == "Refused: Refused to connect to 127.0.0.1: 127.0.0.1 (loopback)."


def test_failures__in_a_row__webhook_disabled_and_organisation_told(
    organisation: Organisation,
    env_webhook: Webhook,
    receiver: Receiver,
    feature_state: FeatureState,
    actor: Actor,
    django_capture_on_commit_callbacks: Capture,
    settings: Any,
) -> None:
    # Given a limit of two failed deliveries and a receiver that refuses everything
    settings.VEXIL_WEBHOOK_DISABLE_AFTER_FAILURES = 2
    organisation.webhook_notification_email = "alerts@example.com"
    organisation.save(update_fields=["webhook_notification_email"])
    receiver.replies += [Reply(410), Reply(410)]

    # When three events happen
    for enabled in (True, False, True):
        with django_capture_on_commit_callbacks(execute=True):
            _toggle(feature_state, actor, django_capture_on_commit_callbacks, enabled=enabled)
            deliver_all()

    # Then the webhook was disabled after the second and the third was not sent
    env_webhook.refresh_from_db()
    assert env_webhook.enabled is False
    assert env_webhook.disabled_reason.startswith("Disabled after 2 failed deliveries in a row")
    assert len(receiver.requests) == 2
    assert sorted(WebhookDelivery.objects.values_list("status", flat=True)) == [
        "CANCELLED",
        "FAILED",
        "FAILED",
    ]
    [message] = OutboundEmail.objects.filter(kind="webhook_disabled")
    assert message.recipient == "alerts@example.com"
    assert message.organisation_id == organisation.pk
    assert message.subject == "Vexil webhook disabled"
    assert f"The webhook {receiver.url()} of the environment Development" in message.body_text
    assert "Disabled after 2 failed deliveries in a row: HTTP 410." in message.body_text


def test_success__resets_failure_count(
    env_webhook: Webhook,
    receiver: Receiver,
    feature_state: FeatureState,
    actor: Actor,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    Webhook.objects.filter(pk=env_webhook.pk).update(consecutive_failures=3)

    _toggle(feature_state, actor, django_capture_on_commit_callbacks)
    deliver_all()

    assert Webhook.objects.get().consecutive_failures == 0


def test_organisation_webhook__audit_log_created_and_flag_updated(
    organisation: Organisation,
    receiver: Receiver,
    feature_state: FeatureState,
    actor: Actor,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    services.webhook_create(organisation=organisation, url=receiver.url(), secret=SECRET)

    _toggle(feature_state, actor, django_capture_on_commit_callbacks)
    deliver_all()

    events = {json.loads(r.body)["event_type"]: json.loads(r.body) for r in receiver.requests}
    assert set(events) == {"AUDIT_LOG_CREATED", "FLAG_UPDATED"}
    audit = events["AUDIT_LOG_CREATED"]["data"]
    assert audit["log"] == "Feature state of 'checkout_button' in 'Development' updated"
    assert audit["related_object_type"] == "FEATURE_STATE"
    assert audit["related_object_id"] == feature_state.pk
    assert audit["author"]["email"] == "owner@example.com"
    assert audit["environment"]["name"] == "Development"
    assert audit["project"]["name"] == "Web shop"
    assert audit["is_system_event"] is False
    for request in receiver.requests:
        assert verify_signature(request.body, request.headers["x-flagsmith-signature"], SECRET)


def test_other_environment__env_webhook__hears_nothing(
    env_webhook: Webhook,
    receiver: Receiver,
    project: Any,
    feature: Feature,
    actor: Actor,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    from vexil.environments.services import environment_create

    production = environment_create(project=project, name="Production", actor=actor)
    state = FeatureState.objects.get(
        feature=feature, environment=production, identity=None, feature_segment=None
    )

    _toggle(state, actor, django_capture_on_commit_callbacks)

    assert not WebhookDelivery.objects.exists()


def test_unsigned_webhook__no_signature_headers(
    organisation: Organisation,
    environment: Environment,
    receiver: Receiver,
    feature_state: FeatureState,
    actor: Actor,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    services.webhook_create(
        organisation=organisation, environment=environment, url=receiver.url(), secret=""
    )

    _toggle(feature_state, actor, django_capture_on_commit_callbacks)
    deliver_all()

    headers = receiver.requests[0].headers
    assert "x-flagsmith-signature" not in headers
    assert "x-vexil-signature" not in headers
    assert headers["x-vexil-event-id"]


def test_delivery_log__api__lists_every_attempt(
    env_webhook: Webhook,
    receiver: Receiver,
    feature_state: FeatureState,
    environment: Environment,
    organisation_admin: User,
    actor: Actor,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    receiver.replies += [Reply(500, body=b"x" * 5000)]
    _toggle(feature_state, actor, django_capture_on_commit_callbacks)
    deliver_all()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {auth_token_issue(user=organisation_admin)}")

    response = client.get(
        f"/api/v1/environments/{environment.api_key}/webhooks/{env_webhook.pk}/deliveries/"
    )

    assert response.status_code == 200, response.content
    [row] = response.json()["results"]
    assert row["event_type"] == "FLAG_UPDATED"
    assert row["status"] == "DELIVERED"
    assert row["attempt_count"] == 2
    first, second = row["attempts"]
    assert (first["number"], first["status_code"], first["outcome"]) == (1, 500, "RETRY")
    assert len(first["response_body"]) == 1024
    assert first["error"] == "HTTP 500."
    assert isinstance(first["latency_ms"], int)
    assert (second["number"], second["status_code"], second["outcome"]) == (2, 200, "DELIVERED")


def test_purge__finished_deliveries_older_than_retention__deleted(
    env_webhook: Webhook, settings: Any
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    settings.VEXIL_WEBHOOK_LOG_RETENTION_DAYS = 7
    old, recent, pending = WebhookDelivery.objects.bulk_create(
        WebhookDelivery(
            event_id=f"00000000-0000-0000-0000-00000000000{i}",
            webhook=env_webhook,
            event_type="FLAG_UPDATED",
            body="{}",
            status=status,
            next_attempt_at=timezone.now(),
        )
        for i, status in enumerate(["DELIVERED", "FAILED", "PENDING"])
    )
    WebhookDelivery.objects.filter(pk__in=[old.pk, pending.pk]).update(
        created_at=timezone.now() - timedelta(days=8)
    )

    assert delivery.purge_old() == 1

    assert set(WebhookDelivery.objects.values_list("pk", flat=True)) == {recent.pk, pending.pk}
