"""Integrations in the dashboard: the organisation-level Grafana on the organisation's settings
page (added, edited, tested, deleted; its key never shown back; administrators only), and "Send
test event" on every integration kind's page, answered by a loopback receiver."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.test import Client

from tests.webhooks.conftest import LOOPBACK_NETWORKS, Receiver, Reply
from tests.webhooks.conftest import receiver as receiver  # the loopback receiver fixture
from vexil.environments.models import Environment
from vexil.organisations.models import Organisation
from vexil.projects.models import Project
from vexil.webhooks import services
from vexil.webhooks.models import DestinationKind, Webhook

pytestmark = pytest.mark.django_db

GRAFANA = DestinationKind.GRAFANA
KEY = "glsa_dashboard-secret-token"


def _settings(organisation: Organisation) -> str:
    return f"/organisations/{organisation.pk}/settings/"


def _org(organisation: Organisation, rest: str = "") -> str:
    return f"/organisations/{organisation.pk}/webhooks/{rest}"


def _add_grafana(client: Client, organisation: Organisation, url: str, key: str = KEY) -> Any:
    return client.post(
        _org(organisation, "add/grafana/"), {"grafana-url": url, "grafana-secret": key}
    )


def test_settings_page__admin__grafana_form_then_link_key_never_shown(
    admin_client: Client, organisation: Organisation
) -> None:
    # Given the settings page offers the organisation's Grafana
    before = admin_client.get(_settings(organisation)).content.decode()
    assert 'aria-label="Add Grafana"' in before
    assert f'action="{_org(organisation, "add/grafana/")}"' in before

    # When an administrator adds it
    added = _add_grafana(admin_client, organisation, "https://grafana.example.com")

    # Then it is the organisation's own, its page comes next, and no page shows its key
    grafana = Webhook.objects.get(kind=GRAFANA)
    assert (grafana.organisation, grafana.project_id, grafana.environment_id) == (
        organisation,
        None,
        None,
    )
    assert grafana.secret == KEY
    assert added.status_code == 302
    assert added["Location"] == _org(organisation, f"{grafana.pk}/")
    after = admin_client.get(_settings(organisation)).content.decode()
    detail = admin_client.get(_org(organisation, f"{grafana.pk}/")).content.decode()
    listing = admin_client.get(_org(organisation)).content.decode()
    assert 'aria-label="Add Grafana"' not in after
    assert f'href="{_org(organisation, f"{grafana.pk}/")}"' in after
    assert "https://grafana.example.com" in detail
    assert "Send test event" in detail
    for page in (added.content.decode(), after, detail, listing):
        assert KEY not in page


def test_organisation_grafana__edited_key_kept_then_deleted(
    admin_client: Client, organisation: Organisation
) -> None:
    grafana = services.integration_create(
        kind=GRAFANA, organisation=organisation, url="https://a.example.com", secret=KEY
    )

    # When the base URL is changed with the key field left empty, then the key is changed
    edited = admin_client.post(
        _org(organisation, f"{grafana.pk}/"),
        {"edit-url": "https://b.example.com", "edit-enabled": "on"},
    )
    grafana.refresh_from_db()
    assert edited.status_code == 302
    assert (grafana.url, grafana.secret, grafana.enabled) == ("https://b.example.com", KEY, True)
    rekeyed = admin_client.post(
        _org(organisation, f"{grafana.pk}/"),
        {"edit-url": "https://b.example.com", "edit-secret": "glsa_new"},
    )
    grafana.refresh_from_db()
    assert rekeyed.status_code == 302
    assert (grafana.secret, grafana.enabled) == ("glsa_new", False)

    # When it is deleted, then the settings page offers it again
    deleted = admin_client.post(_org(organisation, f"{grafana.pk}/delete/"))
    assert deleted.status_code == 302
    assert not Webhook.objects.exists()
    assert 'aria-label="Add Grafana"' in admin_client.get(_settings(organisation)).content.decode()


def test_organisation_grafana__second__400_said_one_row(
    admin_client: Client, organisation: Organisation
) -> None:
    services.integration_create(
        kind=GRAFANA, organisation=organisation, url="https://a.example.com", secret=KEY
    )

    response = _add_grafana(admin_client, organisation, "https://b.example.com", "other")

    assert response.status_code == 400
    assert "Grafana integration for this organisation already exists." in response.content.decode()
    assert list(Webhook.objects.values_list("url", "secret")) == [("https://a.example.com", KEY)]


def test_organisation_grafana__refused_address__400_nothing_added(
    admin_client: Client, organisation: Organisation
) -> None:
    response = _add_grafana(admin_client, organisation, "http://169.254.169.254/")

    assert response.status_code == 400
    assert "link-local" in response.content.decode()
    assert not Webhook.objects.exists()


def test_organisation_grafana__not_admin__403_nothing_changed(
    viewer_client: Client, organisation: Organisation
) -> None:
    grafana = services.integration_create(
        kind=GRAFANA, organisation=organisation, url="https://a.example.com", secret=KEY
    )

    responses = [
        viewer_client.get(_settings(organisation)),
        viewer_client.post(
            _org(organisation, "add/grafana/"),
            {"grafana-url": "https://x.example.com", "grafana-secret": "k"},
        ),
        viewer_client.get(_org(organisation, f"{grafana.pk}/")),
        viewer_client.post(_org(organisation, f"{grafana.pk}/"), {"edit-url": "https://x.io"}),
        viewer_client.post(_org(organisation, f"{grafana.pk}/test/")),
        viewer_client.post(_org(organisation, f"{grafana.pk}/delete/")),
    ]

    assert [r.status_code for r in responses] == [403] * 6
    assert list(Webhook.objects.values_list("url", "secret", "enabled")) == [
        ("https://a.example.com", KEY, True)
    ]


def test_organisation_grafana__other_organisations__404_untouched(
    admin_client: Client, organisation: Organisation, other_project: Project
) -> None:
    theirs = services.integration_create(
        kind=GRAFANA,
        organisation=other_project.organisation,
        url="https://theirs.example.com",
        secret="theirs",
    )

    responses = [
        admin_client.get(_org(organisation, f"{theirs.pk}/")),
        admin_client.post(_org(organisation, f"{theirs.pk}/test/")),
        admin_client.post(_org(organisation, f"{theirs.pk}/delete/")),
        admin_client.get(_org(other_project.organisation, f"{theirs.pk}/")),
    ]

    assert [r.status_code for r in responses] == [404] * 4
    assert Webhook.objects.get().url == "https://theirs.example.com"


# --- "Send test event" on every integration kind's page ----------------------------------------
def _page_of(integration: Webhook) -> str:
    if integration.environment is not None:
        environment = integration.environment
        return f"/projects/{environment.project_id}/environments/{environment.api_key}/webhooks/"
    if integration.project_id is not None:
        return f"/projects/{integration.project_id}/integrations/"
    return f"/organisations/{integration.organisation_id}/webhooks/"


@pytest.mark.parametrize(
    ("kind", "scope", "path"),
    [
        (DestinationKind.SLACK, "environment", "/services/T/B/x"),
        (DestinationKind.JSON, "environment", "/json"),
        (DestinationKind.DATADOG, "project", "/api/v1/events"),
        (DestinationKind.GRAFANA, "project", "/api/annotations"),
        (DestinationKind.GRAFANA, "organisation", "/api/annotations"),
    ],
)
def test_integration_page__send_test__own_format_result_shown(
    admin_client: Client,
    organisation: Organisation,
    project: Project,
    environment: Environment,
    receiver: Receiver,
    settings: Any,
    kind: str,
    scope: str,
    path: str,
) -> None:
    # Given an integration of that kind whose destination is a loopback receiver
    settings.VEXIL_WEBHOOK_ALLOWED_NETWORKS = LOOPBACK_NETWORKS
    where: dict[str, Any] = {"environment": environment, "project": project}
    where = {scope: where.get(scope, organisation)}
    base = receiver.url("/services/T/B/x" if kind == DestinationKind.SLACK else "/")
    if kind == DestinationKind.JSON:
        base = receiver.url("/json")
    integration = services.integration_create(kind=kind, url=base, secret="key-1", **where)
    test_url = f"{_page_of(integration)}{integration.pk}/test/"
    receiver.replies = [Reply(status=503)]

    # When "Send test event" is pressed twice (the receiver fails the first)
    failed = admin_client.post(test_url)
    passed = admin_client.post(test_url)

    # Then each result is shown, the sample went in the integration's format, nothing logged
    assert (failed.status_code, passed.status_code) == (200, 200)
    assert "Webhook returned error status (HTTP 503)" in failed.content.decode()
    assert "Webhook test successful (HTTP 200)" in passed.content.decode()
    assert [r.path for r in receiver.requests] == [path, path]
    sent = json.loads(receiver.requests[1].body)
    if kind == DestinationKind.GRAFANA:
        assert sent["tags"][0] == "flagsmith"
        assert receiver.requests[1].headers["authorization"] == "Bearer key-1"
    elif kind == DestinationKind.DATADOG:
        assert receiver.requests[1].headers["dd-api-key"] == "key-1"
    elif kind == DestinationKind.SLACK:
        assert "test_feature" in sent["text"]
    assert not integration.deliveries.exists()


def test_datadog_page__use_custom_source__edited_key_kept(
    admin_client: Client, project: Project
) -> None:
    datadog = services.integration_create(
        kind=DestinationKind.DATADOG,
        project=project,
        url="https://api.datadoghq.eu/",
        secret="dd-key",
        options={"use_custom_source": False},
    )
    url = f"/projects/{project.pk}/integrations/{datadog.pk}/"
    assert 'name="edit-use_custom_source"' in admin_client.get(url).content.decode()

    # When "Use Flagsmith as the source" is ticked and saved, with the key field left empty
    saved = admin_client.post(
        url,
        {
            "edit-url": "https://api.datadoghq.eu/",
            "edit-enabled": "on",
            "edit-use_custom_source": "on",
        },
    )

    # Then the option is stored as the API stores it, and the key is kept
    datadog.refresh_from_db()
    assert saved.status_code == 302
    assert (datadog.options, datadog.secret, datadog.enabled) == (
        {"use_custom_source": True},
        "dd-key",
        True,
    )
    page = admin_client.get(url).content.decode()
    [checkbox] = re.findall(r'<input[^>]*name="edit-use_custom_source"[^>]*>', page)
    assert "checked" in checkbox
