"""``POST .../integrations/<kind>/{id}/test/``: a sample event in each integration's own format,
sent at once to a local receiver on 127.0.0.1, with Flagsmith's ``webhooks/test/`` answers."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.webhooks.conftest import Receiver, Reply
from vexil.environments.models import Environment
from vexil.projects.models import Project
from vexil.users.models import User
from vexil.users.services import auth_token_issue
from vexil.webhooks import services
from vexil.webhooks.models import DestinationKind, Webhook, WebhookDelivery

pytestmark = pytest.mark.usefixtures("allow_loopback")


@pytest.fixture
def admin_client(organisation_admin: User) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {auth_token_issue(user=organisation_admin)}")
    return client


def _test_url(integration: Webhook, route: str) -> str:
    if integration.environment is not None:
        scope = f"environments/{integration.environment.api_key}"
    elif integration.project_id is not None:
        scope = f"projects/{integration.project_id}"
    else:
        scope = f"organisations/{integration.organisation_id}"
    return f"/api/v1/{scope}/integrations/{route}/{integration.pk}/test/"


def _send(client: APIClient, integration: Webhook, route: str) -> Any:
    return client.post(_test_url(integration, route), format="json")


def test_slack_test__sample_flag_change__slack_message(
    admin_client: APIClient, environment: Environment, receiver: Receiver
) -> None:
    # Given a Slack integration whose incoming-webhook URL is our receiver
    slack = services.integration_create(
        kind=DestinationKind.SLACK, environment=environment, url=receiver.url("/services/T/B/x")
    )

    # When it is tested
    response = _send(admin_client, slack, "slack")

    # Then Slack's message of Flagsmith's sample flag change arrives, and nothing is logged
    assert response.status_code == 200
    assert response.json() == {"detail": "Webhook test successful", "status": 200}
    [request] = receiver.requests
    assert request.path == "/services/T/B/x"
    # (Flagsmith's sample is an identity override)
    headline = (
        "user@domain.com turned on test_feature for identity test_identity in Development "
        "(Test Project)"
    )
    assert json.loads(request.body) == {
        "text": headline,
        "blocks": [
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": "*user@domain.com* turned on *test_feature* for identity "
                    "*test_identity* in *Development* (Test Project)",
                },
            },
            {
                "type": "context",
                "elements": [
                    {
                        "type": "mrkdwn",
                        "text": "Value: `feature_state_value` (was `old_feature_state_value`)",
                    }
                ],
            },
        ],
    }
    assert not WebhookDelivery.objects.exists()


def test_json_webhook_test__sample_flag_change__flat_summary_signed(
    admin_client: APIClient, environment: Environment, receiver: Receiver
) -> None:
    hook = services.integration_create(
        kind=DestinationKind.JSON, environment=environment, url=receiver.url("/ci"), secret="s3"
    )

    response = _send(admin_client, hook, "json-webhook")

    assert response.status_code == 200
    [request] = receiver.requests
    body = json.loads(request.body)
    assert body["event_type"] == "FLAG_UPDATED"
    assert body["feature"] == {"id": 1, "name": "test_feature"}
    assert (body["enabled"], body["previous_enabled"]) == (True, False)
    assert body["environment"]["api_key"] == environment.api_key
    expected = hmac.new(b"s3", request.body, hashlib.sha256).hexdigest()
    assert request.headers["x-flagsmith-signature"] == expected


def test_datadog_test__sample_audit_row__event_with_key_header(
    admin_client: APIClient, project: Project, receiver: Receiver
) -> None:
    datadog = services.integration_create(
        kind=DestinationKind.DATADOG, project=project, url=receiver.url("/"), secret="dd-key"
    )

    response = _send(admin_client, datadog, "datadog")

    assert response.status_code == 200
    [request] = receiver.requests
    assert request.path == "/api/v1/events"
    assert request.headers["dd-api-key"] == "dd-key"
    assert json.loads(request.body) == {
        "text": "New Flag / Remote Config created: my_feature by user user@domain.com",
        "title": "Flagsmith Feature Flag Event",
        "tags": ["env:unknown"],
    }


def test_grafana_test__sample_audit_row__tagged_annotation(
    admin_client: APIClient, project: Project, receiver: Receiver
) -> None:
    grafana = services.integration_create(
        kind=DestinationKind.GRAFANA, project=project, url=receiver.url("/g"), secret="tok"
    )

    response = _send(admin_client, grafana, "grafana")

    assert response.status_code == 200
    [request] = receiver.requests
    assert request.path == "/g/api/annotations"
    assert request.headers["authorization"] == "Bearer tok"
    body = json.loads(request.body)
    assert body["tags"] == [
        "flagsmith",
        "project:Test Project",
        "environment:unknown",
        "by:user@domain.com",
        "feature:my_feature",
    ]
    assert body["text"] == "New Flag / Remote Config created: my_feature"
    assert body["time"] == body["timeEnd"]


def test_organisation_grafana_test__sample_annotation_sent(
    admin_client: APIClient, project: Project, receiver: Receiver
) -> None:
    grafana = services.integration_create(
        kind=DestinationKind.GRAFANA,
        organisation=project.organisation,
        url=receiver.url("/og"),
        secret="tok",
    )

    response = _send(admin_client, grafana, "grafana")

    assert response.status_code == 200
    [request] = receiver.requests
    assert request.path == "/og/api/annotations"
    assert json.loads(request.body)["tags"][-1] == "feature:my_feature"


def test_integration_test__receiver_answers_503__400_with_status_not_retried(
    admin_client: APIClient, environment: Environment, receiver: Receiver
) -> None:
    slack = services.integration_create(
        kind=DestinationKind.SLACK, environment=environment, url=receiver.url("/hook")
    )
    receiver.replies = [Reply(status=503)]

    response = _send(admin_client, slack, "slack")

    assert response.status_code == 400
    assert response.json() == {
        "detail": "Webhook returned error status",
        "code": "error_status",
        "body": "Webhook returned HTTP 503.",
        "status": 503,
    }
    assert len(receiver.requests) == 1
    assert not WebhookDelivery.objects.exists()


def test_integration_test__loopback_not_allowlisted__refused_no_connection(
    admin_client: APIClient, project: Project, receiver: Receiver, settings: Any
) -> None:
    # Given an integration saved while loopback was allowed, then the allowlist emptied
    grafana = services.integration_create(
        kind=DestinationKind.GRAFANA, project=project, url=receiver.url("/g"), secret="tok"
    )
    settings.VEXIL_WEBHOOK_ALLOWED_NETWORKS = []

    response = _send(admin_client, grafana, "grafana")

    assert response.status_code == 400
    assert response.json()["code"] == "refused"
    assert receiver.connections == 0


def test_integration_test__other_tenant__404_nothing_sent(
    admin_client: APIClient,
    other_environment: Environment,
    other_project: Project,
    receiver: Receiver,
) -> None:
    slack = services.integration_create(
        kind=DestinationKind.SLACK, environment=other_environment, url=receiver.url("/x")
    )
    datadog = services.integration_create(
        kind=DestinationKind.DATADOG, project=other_project, url=receiver.url("/"), secret="k"
    )

    assert _send(admin_client, slack, "slack").status_code == 404
    assert _send(admin_client, datadog, "datadog").status_code == 404
    assert receiver.requests == []
