"""Rows of the permission matrix for integrations: project admins for the project's Datadog and
Grafana, environment admins for the environment's Slack and JSON webhook, organisation admins for
the organisation's own Grafana; each kind's ``test/`` send; another organisation's integrations
refused through every route."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.permission_matrix.conftest import Case, World, expect, run_case
from vexil.webhooks.models import DestinationKind, Webhook

# A literal link-local address: refused before any connection, so no request leaves the test.
REFUSED_URL = "http://169.254.169.254/"
# Where the world's integrations point: refused the same way, so a test send that the
# permission checks let through answers 400 "refused" without connecting anywhere.
REFUSED_HOST = "http://169.254.169.254"


@pytest.fixture
def integrations_world(world: World) -> World:
    for organisation, project, environment in (
        (world.organisation, world.project, world.environment),
        (world.other_organisation, world.other_project, world.other_environment),
    ):
        for kind in (DestinationKind.DATADOG, DestinationKind.GRAFANA):
            Webhook.objects.create(
                kind=kind,
                organisation=organisation,
                project=project,
                url=f"{REFUSED_HOST}/{kind}",
                secret=f"{kind}-key",
            )
        for kind in (DestinationKind.SLACK, DestinationKind.JSON):
            Webhook.objects.create(
                kind=kind,
                organisation=organisation,
                environment=environment,
                url=f"{REFUSED_HOST}/{kind}/hook",
            )
        Webhook.objects.create(
            kind=DestinationKind.GRAFANA,
            organisation=organisation,
            url=f"{REFUSED_HOST}/org-grafana",
            secret="org-grafana-key",
        )
    return world


def admin(status: int) -> dict[str, int]:
    return expect(other_org_user=404, member=404, env_viewer=403, env_editor=403,
                  project_admin=status, org_admin=status, master_key=status)  # fmt: skip


def org_admin(status: int) -> dict[str, int]:
    return expect(other_org_user=404, member=403, env_viewer=403, env_editor=403,
                  project_admin=403, org_admin=status, master_key=status)  # fmt: skip


def theirs(status: int) -> dict[str, int]:
    """Another organisation's integration through its own route: only its administrator."""
    return expect(other_org_user=status, member=404, env_viewer=404, env_editor=404,
                  project_admin=404, org_admin=404, master_key=404)  # fmt: skip


Url = Callable[[World], str]


def project_route(kind: str) -> Url:
    return lambda w: f"/api/v1/projects/{w.project.pk}/integrations/{kind}/"


def env_route(kind: str) -> Url:
    return lambda w: f"/api/v1/environments/{w.environment.api_key}/integrations/{kind}/"


def org_route(kind: str) -> Url:
    return lambda w: f"/api/v1/organisations/{w.organisation.pk}/integrations/{kind}/"


def _row(w: World, route: Url, kind: str, *, other: bool = False) -> Webhook:
    """The world's integration of ``kind`` at the scope ``route`` names (Acme's, or Globex's)."""
    organisation = w.other_organisation if other else w.organisation
    rows = Webhook.objects.filter(kind=kind, organisation=organisation)
    if "/projects/" in route(w):
        return rows.get(project__isnull=False)
    if "/environments/" in route(w):
        return rows.get(environment__isnull=False)
    return rows.get(project__isnull=True, environment__isnull=True)


def one(kind: str, route: Url, suffix: str = "") -> Url:
    return lambda w: f"{route(w)}{_row(w, route, kind).pk}/{suffix}"


def other_one_via_ours(kind: str, route: Url, suffix: str = "") -> Url:
    """Globex's integration's id under Acme's route."""
    return lambda w: f"{route(w)}{_row(w, route, kind, other=True).pk}/{suffix}"


def body(value: dict[str, Any]) -> Callable[[World], dict[str, Any]]:
    return lambda w: value


def other_project_route(kind: str) -> Url:
    return lambda w: f"/api/v1/projects/{w.other_project.pk}/integrations/{kind}/"


def other_env_route(kind: str) -> Url:
    return lambda w: f"/api/v1/environments/{w.other_environment.api_key}/integrations/{kind}/"


def other_org_route(kind: str) -> Url:
    return lambda w: f"/api/v1/organisations/{w.other_organisation.pk}/integrations/{kind}/"


def theirs_one(kind: str, route: Url, suffix: str = "") -> Url:
    """Globex's integration under Globex's own route."""
    return lambda w: f"{route(w)}{_row(w, route, kind, other=True).pk}/{suffix}"


Expect = Callable[[int], dict[str, int]]

DATADOG = {"base_url": "https://api.datadoghq.com/", "api_key": "k"}
GRAFANA = {"base_url": "https://grafana.example.com/", "api_key": "k"}
ROUTES: list[tuple[str, str, Url, Url, Expect, dict[str, Any], dict[str, Any]]] = [
    ("datadog", DestinationKind.DATADOG, project_route("datadog"),
     other_project_route("datadog"), admin, DATADOG, {"base_url": REFUSED_URL}),
    ("grafana", DestinationKind.GRAFANA, project_route("grafana"),
     other_project_route("grafana"), admin, GRAFANA, {"base_url": REFUSED_URL}),
    ("slack", DestinationKind.SLACK, env_route("slack"), other_env_route("slack"), admin,
     {"webhook_url": "https://hooks.slack.com/services/x"}, {"webhook_url": REFUSED_URL}),
    ("json-webhook", DestinationKind.JSON, env_route("json-webhook"),
     other_env_route("json-webhook"), admin,
     {"url": "https://ci.example.com/"}, {"url": REFUSED_URL}),
    ("org grafana", DestinationKind.GRAFANA, org_route("grafana"), other_org_route("grafana"),
     org_admin, GRAFANA, {"base_url": REFUSED_URL}),
]  # fmt: skip

CASES = [
    case
    for name, kind, route, their_route, allowed, valid, refused in ROUTES
    for case in (
        Case(f"{name} list", "GET", route, expected=allowed(200)),
        # One per scope: the world already has one, so a valid create is refused with 400
        Case(f"{name} create (exists)", "POST", route, body=body(valid), expected=allowed(400)),
        Case(f"{name} retrieve", "GET", one(kind, route), expected=allowed(200)),
        Case(f"{name} patch", "PATCH", one(kind, route), body=body({"enabled": False}),
             expected=allowed(200)),
        Case(f"{name} patch refused url", "PATCH", one(kind, route), body=body(refused),
             expected=allowed(400)),
        Case(f"{name} deliveries", "GET", one(kind, route, "deliveries/"),
             expected=allowed(200)),
        # The send is let through to the address check, which refuses the world's address
        # before any connection: 400 "refused" for those allowed, nothing for the rest.
        Case(f"{name} test send", "POST", one(kind, route, "test/"), expected=allowed(400)),
        Case(f"{name} delete", "DELETE", one(kind, route), expected=allowed(204)),
        # Another organisation's: its id under our route is not found, even for our admins;
        # its own route is its administrator's only
        Case(f"{name} other tenant's id, our route, test send", "POST",
             other_one_via_ours(kind, route, "test/"), expected=allowed(404)),
        Case(f"{name} other tenant's route, list", "GET", their_route, expected=theirs(200)),
        Case(f"{name} other tenant's route, test send", "POST",
             theirs_one(kind, their_route, "test/"), expected=theirs(400)),
    )
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=str)
def test_integration_endpoints__each_principal__expected_status(
    integrations_world: World, case: Case
) -> None:
    run_case(integrations_world, case)
