"""The webhook management API: Flagsmith's paths and shapes, secrets shown once, SSRF at save."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flagsmith.webhooks import verify_signature
from rest_framework.test import APIClient

from tests.webhooks.conftest import Receiver, Reply
from vexil.environments.models import Environment
from vexil.organisations.models import Organisation
from vexil.users.models import User
from vexil.users.services import auth_token_issue
from vexil.webhooks.models import Webhook
from vexil.webhooks.payloads import SAMPLE_ENVIRONMENT_EVENT, SAMPLE_ORGANISATION_EVENT


@pytest.fixture
def admin_client(organisation_admin: User) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {auth_token_issue(user=organisation_admin)}")
    return client


def _env_url(environment: Environment, suffix: str = "") -> str:
    return f"/api/v1/environments/{environment.api_key}/webhooks/{suffix}"


def _org_url(organisation: Organisation, suffix: str = "") -> str:
    return f"/api/v1/organisations/{organisation.pk}/webhooks/{suffix}"


def test_create__env_webhook__secret_shown_once(
    admin_client: APIClient, environment: Environment
) -> None:
    # When a webhook is created with a secret
    created = admin_client.post(
        _env_url(environment),
        {"url": "https://hooks.example.com/flags", "secret": "s3cret"},
        format="json",
    )

    # Then the response shows it, and no later read does
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["secret"] == "s3cret"
    assert body["url"] == "https://hooks.example.com/flags"
    assert body["enabled"] is True
    assert body["has_secret"] is True
    listed = admin_client.get(_env_url(environment)).json()
    assert isinstance(listed, list)  # bare array, as Flagsmith's
    assert "secret" not in listed[0]
    assert listed[0]["has_secret"] is True
    detail = admin_client.get(_env_url(environment, f"{body['id']}/")).json()
    assert "secret" not in detail
    assert Webhook.objects.get().secret == "s3cret"


def test_create__no_secret__one_generated_and_shown(
    admin_client: APIClient, environment: Environment
) -> None:
    created = admin_client.post(
        _env_url(environment), {"url": "https://hooks.example.com/"}, format="json"
    )

    assert created.status_code == 201
    secret = created.json()["secret"]
    assert len(secret) >= 40
    assert Webhook.objects.get().secret == secret


def test_update__secret_omitted__kept_and_blank_clears(
    admin_client: APIClient, environment: Environment
) -> None:
    webhook_id = admin_client.post(
        _env_url(environment), {"url": "https://a.example.com/", "secret": "one"}, format="json"
    ).json()["id"]

    put = admin_client.put(
        _env_url(environment, f"{webhook_id}/"),
        {"url": "https://b.example.com/", "enabled": False},
        format="json",
    )
    assert put.status_code == 200, put.content
    assert Webhook.objects.get().secret == "one"
    assert Webhook.objects.get().url == "https://b.example.com/"

    admin_client.patch(_env_url(environment, f"{webhook_id}/"), {"secret": ""}, format="json")
    assert Webhook.objects.get().secret == ""


def test_update__enabled_again__failures_cleared(
    admin_client: APIClient, environment: Environment, organisation: Organisation
) -> None:
    webhook = Webhook.objects.create(
        organisation=organisation,
        environment=environment,
        url="https://a.example.com/",
        enabled=False,
        consecutive_failures=5,
        disabled_reason="Disabled after 5 failed deliveries in a row",
    )

    response = admin_client.patch(
        _env_url(environment, f"{webhook.pk}/"), {"enabled": True}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["consecutive_failures"] == 0
    assert response.json()["disabled_reason"] == ""


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://127.0.0.1:8000/", "The address 127.0.0.1 is refused (loopback)."),
        ("http://10.1.2.3/", "The address 10.1.2.3 is refused (private)."),
        ("http://[fd00::1]/", "The address fd00::1 is refused (private)."),
        ("http://169.254.169.254/", "The address 169.254.169.254 is refused (link-local)."),
        ("http://localhost/", "The host localhost is refused (loopback)."),
        ("gopher://example.com/", "Only http and https URLs are allowed."),
        ("https://u:p@example.com/", "URLs must not contain credentials."),
    ],
)
def test_create__refused_url__400_nothing_saved(
    admin_client: APIClient, environment: Environment, url: str, message: str
) -> None:
    response = admin_client.post(_env_url(environment), {"url": url}, format="json")

    assert response.status_code == 400
    assert response.json()["url"] == [message]
    assert not Webhook.objects.exists()


def test_create__loopback_allowlisted__saved(
    admin_client: APIClient, environment: Environment, settings: Any
) -> None:
    settings.VEXIL_WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]

    response = admin_client.post(
        _env_url(environment), {"url": "http://localhost:9000/hook"}, format="json"
    )

    assert response.status_code == 201


def test_organisation_webhooks__crud__paginated(
    admin_client: APIClient, organisation: Organisation, environment: Environment
) -> None:
    created = admin_client.post(
        _org_url(organisation),
        {"url": "https://audit.example.com/", "name": "SIEM", "secret": "x"},
        format="json",
    )
    assert created.status_code == 201, created.content
    Webhook.objects.create(
        organisation=organisation, environment=environment, url="https://env.example.com/"
    )

    listed = admin_client.get(_org_url(organisation)).json()

    assert listed["count"] == 1  # environment webhooks are not the organisation's
    assert listed["results"][0]["name"] == "SIEM"
    deleted = admin_client.delete(_org_url(organisation, f"{created.json()['id']}/"))
    assert deleted.status_code == 204
    assert Webhook.objects.count() == 1


@pytest.mark.usefixtures("allow_loopback")
def test_test_endpoint__environment_scope__signed_sample_sent(
    admin_client: APIClient, environment: Environment, receiver: Receiver
) -> None:
    response = admin_client.post(
        "/api/v1/webhooks/test/",
        {
            "webhook_url": receiver.url(),
            "secret": "k",
            "scope": {"type": "environment", "id": environment.api_key},
        },
        format="json",
    )

    assert response.status_code == 200, response.content
    assert response.json() == {"detail": "Webhook test successful", "status": 200}
    [request] = receiver.requests
    assert verify_signature(request.body, request.headers["x-flagsmith-signature"], "k")
    assert json.loads(request.body) == SAMPLE_ENVIRONMENT_EVENT


@pytest.mark.usefixtures("allow_loopback")
def test_test_endpoint__organisation_scope__error_status_reported(
    admin_client: APIClient, organisation: Organisation, receiver: Receiver
) -> None:
    receiver.replies.append(Reply(500))

    response = admin_client.post(
        "/api/v1/webhooks/test/",
        {"webhook_url": receiver.url(), "scope": {"type": "organisation", "id": organisation.pk}},
        format="json",
    )

    assert response.status_code == 400
    body = response.json()
    assert body["detail"] == "Webhook returned error status"
    assert body["body"] == "Webhook returned HTTP 500."
    assert body["status"] == 500
    assert json.loads(receiver.requests[0].body) == SAMPLE_ORGANISATION_EVENT


def test_test_endpoint__loopback_not_allowlisted__400_no_connection(
    admin_client: APIClient, environment: Environment, receiver: Receiver
) -> None:
    response = admin_client.post(
        "/api/v1/webhooks/test/",
        {
            "webhook_url": receiver.url(),
            "scope": {"type": "environment", "id": environment.api_key},
        },
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["url"] == ["The address 127.0.0.1 is refused (loopback)."]
    assert receiver.connections == 0


def test_test_endpoint__unknown_environment__404(admin_client: APIClient) -> None:
    response = admin_client.post(
        "/api/v1/webhooks/test/",
        {"webhook_url": "https://x.example.com/", "scope": {"type": "environment", "id": "nope"}},
        format="json",
    )

    assert response.status_code == 404


def test_test_endpoint__bad_scope__400(admin_client: APIClient) -> None:
    response = admin_client.post(
        "/api/v1/webhooks/test/",
        {"webhook_url": "https://x.example.com/", "scope": {"type": "project", "id": "1"}},
        format="json",
    )

    assert response.status_code == 400
    assert "scope" in response.json()
