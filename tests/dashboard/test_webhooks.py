"""Webhooks and integrations pages: created with the secret shown once, edited, tested against a
loopback receiver, deleted, the delivery log, and refusals for non-administrators."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.webhooks.conftest import LOOPBACK_NETWORKS, Receiver, Reply
from tests.webhooks.conftest import receiver as receiver  # the loopback receiver fixture
from vexil.environments.models import Environment
from vexil.organisations.models import Organisation
from vexil.projects.models import Project
from vexil.webhooks import services
from vexil.webhooks.models import (
    AttemptOutcome,
    DeliveryStatus,
    DestinationKind,
    Webhook,
    WebhookAttempt,
    WebhookDelivery,
)

pytestmark = pytest.mark.django_db


def _env(project: Project, environment: Environment, rest: str = "") -> str:
    return f"/projects/{project.pk}/environments/{environment.api_key}/webhooks/{rest}"


def test_environment_webhook__created__secret_shown_once(
    admin_client: Client, project: Project, environment: Environment
) -> None:
    created = admin_client.post(
        _env(project, environment, "new/"),
        {"webhook-url": "https://hooks.example.com/flags", "webhook-name": "CI"},
    )
    webhook = Webhook.objects.get()
    later = admin_client.get(_env(project, environment)).content.decode()

    assert created.status_code == 201
    assert "no-store" in created["Cache-Control"]
    assert f'id="new-webhook-secret" value="{webhook.secret}"' in created.content.decode()
    assert len(webhook.secret) >= 32
    assert (webhook.environment, webhook.name) == (environment, "CI")
    assert webhook.secret not in later
    assert "hooks.example.com/flags" in later


def test_environment_webhook__refused_address__400_nothing_created(
    admin_client: Client, project: Project, environment: Environment
) -> None:
    response = admin_client.post(
        _env(project, environment, "new/"), {"webhook-url": "http://169.254.169.254/latest"}
    )

    assert response.status_code == 400
    assert "link-local" in response.content.decode()
    assert not Webhook.objects.exists()


def test_webhook_detail__edit_disable_and_log_shown(
    admin_client: Client, project: Project, environment: Environment, organisation: Organisation
) -> None:
    webhook = services.webhook_create(
        organisation=organisation, environment=environment, url="https://a.example.com/"
    )
    WebhookDelivery.objects.create(
        event_id="00000000-0000-0000-0000-000000000001",
        webhook=webhook,
        event_type="FLAG_UPDATED",
        body="{}",
        next_attempt_at="2026-12-02T00:00:00Z",
        last_error="HTTP 503.",
    )
    secret = webhook.secret

    saved = admin_client.post(
        _env(project, environment, f"{webhook.pk}/"), {"edit-url": "https://b.example.com/"}
    )
    page = admin_client.get(_env(project, environment, f"{webhook.pk}/")).content.decode()

    assert saved.status_code == 302
    webhook.refresh_from_db()
    assert (webhook.url, webhook.enabled, webhook.secret) == (
        "https://b.example.com/",
        False,
        secret,
    )
    assert "00000000-0000-0000-0000-000000000001" in page
    assert "HTTP 503." in page
    assert secret not in page


def test_webhook_test__loopback_receiver__signed_sample_sent(
    admin_client: Client,
    project: Project,
    environment: Environment,
    organisation: Organisation,
    receiver: Receiver,
    settings: Any,
) -> None:
    settings.VEXIL_WEBHOOK_ALLOWED_NETWORKS = LOOPBACK_NETWORKS
    webhook = services.webhook_create(
        organisation=organisation, environment=environment, url=receiver.url()
    )
    receiver.replies = [Reply(status=500)]

    failed = admin_client.post(_env(project, environment, f"{webhook.pk}/test/"))
    passed = admin_client.post(_env(project, environment, f"{webhook.pk}/test/"))

    assert "Webhook returned error status (HTTP 500)" in failed.content.decode()
    assert "Webhook test successful (HTTP 200)" in passed.content.decode()
    assert len(receiver.requests) == 2
    assert "x-flagsmith-signature" in receiver.requests[1].headers


def test_webhook_delete__gone(
    admin_client: Client, project: Project, environment: Environment, organisation: Organisation
) -> None:
    webhook = services.webhook_create(
        organisation=organisation, environment=environment, url="https://a.example.com/"
    )

    response = admin_client.post(_env(project, environment, f"{webhook.pk}/delete/"))

    assert response.status_code == 302
    assert not Webhook.objects.exists()


def test_environment_integrations__slack_added_url_never_shown(
    admin_client: Client, project: Project, environment: Environment
) -> None:
    url = "https://hooks.slack.com/services/T0/B0/secret-token"

    response = admin_client.post(_env(project, environment, "add/slack/"), {"slack-url": url})
    listing = admin_client.get(_env(project, environment)).content.decode()
    slack = Webhook.objects.get(kind=DestinationKind.SLACK)
    detail = admin_client.get(_env(project, environment, f"{slack.pk}/")).content.decode()

    assert response.status_code == 302
    assert (slack.environment, slack.url) == (environment, url)
    assert "secret-token" not in listing
    assert "secret-token" not in detail
    assert "Slack settings and delivery log" in listing


def test_project_integrations__datadog_added__key_never_shown(
    admin_client: Client, project: Project
) -> None:
    response = admin_client.post(
        f"/projects/{project.pk}/integrations/add/datadog/",
        {"datadog-url": "https://api.datadoghq.eu/", "datadog-secret": "dd-secret-key"},
    )
    page = admin_client.get(f"/projects/{project.pk}/integrations/").content.decode()
    datadog = Webhook.objects.get(kind=DestinationKind.DATADOG)

    assert response.status_code == 302
    assert (datadog.project, datadog.secret) == (project, "dd-secret-key")
    assert "dd-secret-key" not in page
    assert "Grafana" in page


def test_organisation_webhooks__admin_creates(
    admin_client: Client, organisation: Organisation
) -> None:
    response = admin_client.post(
        f"/organisations/{organisation.pk}/webhooks/new/",
        {"webhook-url": "https://audit.example.com/"},
    )

    assert response.status_code == 201
    webhook = Webhook.objects.get()
    assert (webhook.organisation, webhook.environment) == (organisation, None)


def test_webhook_pages__viewer__403_nothing_changed(
    viewer_client: Client,
    project: Project,
    environment: Environment,
    organisation: Organisation,
) -> None:
    webhook = services.webhook_create(
        organisation=organisation, environment=environment, url="https://a.example.com/"
    )

    responses = [
        viewer_client.get(_env(project, environment)),
        viewer_client.post(_env(project, environment, "new/"), {"webhook-url": "https://x.io/"}),
        viewer_client.get(_env(project, environment, f"{webhook.pk}/")),
        viewer_client.post(_env(project, environment, f"{webhook.pk}/delete/")),
        viewer_client.get(f"/projects/{project.pk}/integrations/"),
        viewer_client.get(f"/organisations/{organisation.pk}/webhooks/"),
    ]

    assert [r.status_code for r in responses] == [403] * 6
    assert list(Webhook.objects.values_list("url", flat=True)) == ["https://a.example.com/"]


def test_webhook_detail__other_environments_webhook__404(
    admin_client: Client, project: Project, environment: Environment, other_environment: Environment
) -> None:
    other = services.webhook_create(
        organisation=other_environment.project.organisation,
        environment=other_environment,
        url="https://other.example.com/",
    )

    response = admin_client.get(_env(project, environment, f"{other.pk}/"))

    assert response.status_code == 404


def test_webhook_detail__delivery_log__every_attempt_shown(
    admin_client: Client, project: Project, environment: Environment, organisation: Organisation
) -> None:
    # Given a delivery tried twice: a 503 that will be retried, then a 200
    webhook = services.webhook_create(
        organisation=organisation, environment=environment, url="https://a.example.com/"
    )
    delivery = WebhookDelivery.objects.create(
        event_id="00000000-0000-0000-0000-000000000002",
        webhook=webhook,
        event_type="FLAG_UPDATED",
        body="{}",
        next_attempt_at="2026-12-02T00:00:00Z",
        status=DeliveryStatus.DELIVERED,
        attempts=2,
    )
    for number, status, latency, error, outcome, answer in (
        (1, 503, 41, "HTTP 503.", AttemptOutcome.RETRY, "<b>down</b>"),
        (2, 200, 17, "", AttemptOutcome.DELIVERED, ""),
    ):
        WebhookAttempt.objects.create(
            delivery=delivery,
            number=number,
            started_at=f"2026-12-02T00:00:0{number}Z",
            status_code=status,
            latency_ms=latency,
            error=error,
            outcome=outcome,
            response_body=answer,
        )

    page = admin_client.get(_env(project, environment, f"{webhook.pk}/")).content.decode()

    # Then each attempt is listed with its time, status code, latency, outcome, error and the
    # receiver's answer (escaped)
    assert (
        "2026-12-02 00:00:01: HTTP 503, 41 ms, Will retry (HTTP 503.); answered "
        "<code>&lt;b&gt;down&lt;/b&gt;</code>"
    ) in page
    assert "2026-12-02 00:00:02: HTTP 200, 17 ms, Delivered" in page
    assert "00000000-0000-0000-0000-000000000002" in page
