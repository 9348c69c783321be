"""Rows of the permission matrix for integrations: project admins for the project's Datadog and
Grafana, environment admins for the environment's Slack and JSON webhook."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.permission_matrix.conftest import Case, World, expect, run_case
from vexil.webhooks.models import DestinationKind, Webhook

# A literal link-local address: refused before any connection, so no request leaves the test.
REFUSED_URL = "http://169.254.169.254/"


@pytest.fixture
def integrations_world(world: World) -> World:
    for kind in (DestinationKind.DATADOG, DestinationKind.GRAFANA):
        Webhook.objects.create(
            kind=kind,
            organisation=world.organisation,
            project=world.project,
            url=f"https://{kind}.example.com/",
            secret=f"{kind}-key",
        )
    for kind in (DestinationKind.SLACK, DestinationKind.JSON):
        Webhook.objects.create(
            kind=kind,
            organisation=world.organisation,
            environment=world.environment,
            url=f"https://{kind}.example.com/hook",
        )
    return world


def admin(status: int) -> dict[str, int]:
    return expect(other_org_user=404, member=404, env_viewer=403, env_editor=403,
                  project_admin=status, org_admin=status, master_key=status)  # fmt: skip


Url = Callable[[World], str]


def project_route(kind: str) -> Url:
    return lambda w: f"/api/v1/projects/{w.project.pk}/integrations/{kind}/"


def env_route(kind: str) -> Url:
    return lambda w: f"/api/v1/environments/{w.environment.api_key}/integrations/{kind}/"


def one(kind: str, route: Url, suffix: str = "") -> Url:
    def url(w: World) -> str:
        row = Webhook.objects.get(kind=kind, organisation=w.organisation)
        return f"{route(w)}{row.pk}/{suffix}"

    return url


def body(value: dict[str, Any]) -> Callable[[World], dict[str, Any]]:
    return lambda w: value


ROUTES: list[tuple[str, str, Url, dict[str, Any], dict[str, Any]]] = [
    ("datadog", DestinationKind.DATADOG, project_route("datadog"),
     {"base_url": "https://api.datadoghq.com/", "api_key": "k"}, {"base_url": REFUSED_URL}),
    ("grafana", DestinationKind.GRAFANA, project_route("grafana"),
     {"base_url": "https://grafana.example.com/", "api_key": "k"}, {"base_url": REFUSED_URL}),
    ("slack", DestinationKind.SLACK, env_route("slack"),
     {"webhook_url": "https://hooks.slack.com/services/x"}, {"webhook_url": REFUSED_URL}),
    ("json-webhook", DestinationKind.JSON, env_route("json-webhook"),
     {"url": "https://ci.example.com/"}, {"url": REFUSED_URL}),
]  # fmt: skip

CASES = [
    case
    for name, kind, route, valid, refused in ROUTES
    for case in (
        Case(f"{name} list", "GET", route, expected=admin(200)),
        # One per scope: the world already has one, so a valid create is refused with 400
        Case(f"{name} create (exists)", "POST", route, body=body(valid), expected=admin(400)),
        Case(f"{name} retrieve", "GET", one(kind, route), expected=admin(200)),
        Case(f"{name} patch", "PATCH", one(kind, route), body=body({"enabled": False}),
             expected=admin(200)),
        Case(f"{name} patch refused url", "PATCH", one(kind, route), body=body(refused),
             expected=admin(400)),
        Case(f"{name} deliveries", "GET", one(kind, route, "deliveries/"), expected=admin(200)),
        Case(f"{name} delete", "DELETE", one(kind, route), expected=admin(204)),
    )
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=str)
def test_integration_endpoints__each_principal__expected_status(
    integrations_world: World, case: Case
) -> None:
    run_case(integrations_world, case)
