"""The integrations API: Flagsmith's routes and field names, one per scope, keys write-only."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from vexil.environments.models import Environment
from vexil.organisations.models import Organisation
from vexil.projects.models import Project
from vexil.users.models import User
from vexil.users.services import auth_token_issue
from vexil.webhooks import services
from vexil.webhooks.models import DestinationKind, Webhook


@pytest.fixture
def admin_client(organisation_admin: User) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {auth_token_issue(user=organisation_admin)}")
    return client


def _datadog(project: Project, suffix: str = "") -> str:
    return f"/api/v1/projects/{project.pk}/integrations/datadog/{suffix}"


def _slack(environment: Environment, suffix: str = "") -> str:
    return f"/api/v1/environments/{environment.api_key}/integrations/slack/{suffix}"


def test_datadog_create__api_key_never_shown(admin_client: APIClient, project: Project) -> None:
    # When a Datadog integration is created with Flagsmith's fields
    created = admin_client.post(
        _datadog(project),
        {"base_url": "https://api.datadoghq.eu/", "api_key": "dd-1", "use_custom_source": True},
        format="json",
    )

    # Then it is stored, and no response shows the key
    assert created.status_code == 201, created.content
    body = created.json()
    assert "api_key" not in body
    assert body["base_url"] == "https://api.datadoghq.eu/"
    assert body["has_api_key"] is True
    assert body["use_custom_source"] is True
    listed = admin_client.get(_datadog(project)).json()
    assert [row["id"] for row in listed] == [body["id"]]
    assert "api_key" not in listed[0]
    stored = Webhook.objects.get(pk=body["id"])
    assert (stored.kind, stored.project_id, stored.secret) == ("datadog", project.pk, "dd-1")
    assert stored.organisation_id == project.organisation_id


def test_datadog_create__second_for_project__400_nothing_added(
    admin_client: APIClient, project: Project
) -> None:
    first = {"base_url": "https://api.datadoghq.com/", "api_key": "k"}
    assert admin_client.post(_datadog(project), first, format="json").status_code == 201

    second = admin_client.post(_datadog(project), first, format="json")

    assert second.status_code == 400
    assert "already exists" in second.content.decode()
    assert Webhook.objects.filter(kind=DestinationKind.DATADOG).count() == 1


def test_datadog_update__key_omitted__kept(admin_client: APIClient, project: Project) -> None:
    created = admin_client.post(
        _datadog(project), {"base_url": "https://api.datadoghq.com/", "api_key": "k"}
    ).json()

    updated = admin_client.put(
        _datadog(project, f"{created['id']}/"),
        {"base_url": "https://api.us5.datadoghq.com/", "enabled": False},
        format="json",
    )

    assert updated.status_code == 200, updated.content
    stored = Webhook.objects.get()
    assert (stored.url, stored.secret, stored.enabled) == (
        "https://api.us5.datadoghq.com/",
        "k",
        False,
    )


def test_datadog_create__refused_address__400_nothing_added(
    admin_client: APIClient, project: Project
) -> None:
    response = admin_client.post(
        _datadog(project), {"base_url": "http://169.254.169.254/", "api_key": "k"}, format="json"
    )

    assert response.status_code == 400
    assert "link-local" in response.content.decode()
    assert not Webhook.objects.exists()


def test_grafana_create__missing_key__400(admin_client: APIClient, project: Project) -> None:
    response = admin_client.post(
        f"/api/v1/projects/{project.pk}/integrations/grafana/",
        {"base_url": "https://grafana.example.com"},
        format="json",
    )

    assert response.status_code == 400
    assert "api_key" in response.json()
    assert not Webhook.objects.exists()


def test_slack_create__url_write_only__host_shown(
    admin_client: APIClient, environment: Environment
) -> None:
    created = admin_client.post(
        _slack(environment),
        {"webhook_url": "https://hooks.slack.com/services/T0/B0/secret-token"},
        format="json",
    )

    assert created.status_code == 201, created.content
    body = created.json()
    assert "webhook_url" not in body
    assert body["webhook_host"] == "hooks.slack.com"
    assert "secret-token" not in admin_client.get(_slack(environment)).content.decode()


def test_json_webhook_create__secret_write_only(
    admin_client: APIClient, environment: Environment
) -> None:
    created = admin_client.post(
        f"/api/v1/environments/{environment.api_key}/integrations/json-webhook/",
        {"url": "https://ci.example.com/vexil", "secret": "s"},
        format="json",
    )

    assert created.status_code == 201, created.content
    assert "secret" not in created.json()
    assert created.json()["has_secret"] is True


def test_integration_delete__gone(admin_client: APIClient, environment: Environment) -> None:
    created = admin_client.post(
        _slack(environment), {"webhook_url": "https://hooks.slack.com/services/x"}
    ).json()

    response = admin_client.delete(_slack(environment, f"{created['id']}/"))

    assert response.status_code == 204
    assert not Webhook.objects.exists()


def test_integration_deliveries__log_readable(
    admin_client: APIClient, environment: Environment
) -> None:
    created = admin_client.post(
        _slack(environment), {"webhook_url": "https://hooks.slack.com/services/x"}
    ).json()

    response = admin_client.get(_slack(environment, f"{created['id']}/deliveries/"))

    assert response.status_code == 200
    assert response.json()["results"] == []


def test_integration__other_tenant__404_nothing_changed(
    admin_client: APIClient, other_environment: Environment, other_project: Project
) -> None:
    assert admin_client.get(_slack(other_environment)).status_code == 404
    assert admin_client.get(_datadog(other_project)).status_code == 404
    response = admin_client.post(
        _datadog(other_project), {"base_url": "https://api.datadoghq.com/", "api_key": "k"}
    )
    assert response.status_code == 404
    assert not Webhook.objects.exists()


# --- Organisation-level Grafana (Flagsmith's organisations/{id}/integrations/grafana/) ---------
def _org_grafana(organisation: Organisation, suffix: str = "") -> str:
    return f"/api/v1/organisations/{organisation.pk}/integrations/grafana/{suffix}"


def test_organisation_grafana_create__one_per_organisation__key_never_shown(
    admin_client: APIClient, organisation: Organisation, project: Project
) -> None:
    # Given the project has its own Grafana (a different scope)
    services.integration_create(
        kind=DestinationKind.GRAFANA, project=project, url="https://p.example.com", secret="p"
    )
    body = {"base_url": "https://grafana.example.com", "api_key": "glsa_x"}

    # When the organisation's is created, then a second one
    created = admin_client.post(_org_grafana(organisation), body, format="json")
    second = admin_client.post(_org_grafana(organisation), body, format="json")

    # Then one exists, at the organisation's level, its key never shown; the second is refused
    assert created.status_code == 201, created.content
    assert "api_key" not in created.json()
    assert created.json()["has_api_key"] is True
    assert second.status_code == 400
    row = Webhook.objects.get(pk=created.json()["id"])
    assert (row.organisation_id, row.project_id, row.environment_id) == (
        organisation.pk,
        None,
        None,
    )
    listed = admin_client.get(_org_grafana(organisation)).json()
    assert [item["id"] for item in listed] == [row.pk]
    assert Webhook.objects.filter(kind=DestinationKind.GRAFANA).count() == 2


def test_organisation_grafana__other_tenant__404_nothing_added(
    admin_client: APIClient, other_project: Project
) -> None:
    other = other_project.organisation
    body = {"base_url": "https://grafana.example.com", "api_key": "k"}

    assert admin_client.get(_org_grafana(other)).status_code == 404
    assert admin_client.post(_org_grafana(other), body, format="json").status_code == 404
    assert not Webhook.objects.exists()
