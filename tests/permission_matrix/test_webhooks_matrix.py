"""Rows of the permission matrix for webhooks: environment admins for environment webhooks,
organisation admins (user or admin master key) for organisation webhooks and their test sends."""

from __future__ import annotations

import pytest

from tests.permission_matrix.conftest import Case, World, expect, run_case
from vexil.webhooks.models import Webhook

# A literal loopback address: refused before any connection, so no request leaves the test.
REFUSED_URL = "http://127.0.0.1:9/hook"


@pytest.fixture
def webhooks_world(world: World) -> World:
    Webhook.objects.create(
        organisation=world.organisation,
        environment=world.environment,
        url="https://env.example.com/hook",
        secret="env-secret",
    )
    Webhook.objects.create(
        organisation=world.organisation, url="https://org.example.com/hook", secret="org-secret"
    )
    return world


def env_admin(status: int) -> dict[str, int]:
    return expect(other_org_user=404, member=404, env_viewer=403, env_editor=403,
                  project_admin=status, org_admin=status, master_key=status)  # fmt: skip


def org_admin(status: int) -> dict[str, int]:
    return expect(other_org_user=404, member=403, env_viewer=403, env_editor=403,
                  project_admin=403, org_admin=status, master_key=status)  # fmt: skip


def env_hooks(w: World) -> str:
    return f"/api/v1/environments/{w.environment.api_key}/webhooks/"


def env_hook(w: World) -> str:
    return f"{env_hooks(w)}{Webhook.objects.get(environment=w.environment).pk}/"


def org_hooks(w: World) -> str:
    return f"/api/v1/organisations/{w.organisation.pk}/webhooks/"


def org_hook(w: World) -> str:
    hook = Webhook.objects.get(organisation=w.organisation, environment__isnull=True)
    return f"{org_hooks(w)}{hook.pk}/"


CASES = [
    Case("env webhooks list", "GET", env_hooks, expected=env_admin(200)),
    Case("env webhook create", "POST", env_hooks,
         body=lambda w: {"url": "https://new.example.com/"}, expected=env_admin(201)),
    Case("env webhook create refused url", "POST", env_hooks,
         body=lambda w: {"url": REFUSED_URL}, expected=env_admin(400)),
    Case("env webhook retrieve", "GET", env_hook, expected=env_admin(200)),
    Case("env webhook update", "PUT", env_hook,
         body=lambda w: {"url": "https://other.example.com/", "enabled": False},
         expected=env_admin(200)),
    Case("env webhook patch", "PATCH", env_hook, body=lambda w: {"enabled": False},
         expected=env_admin(200)),
    Case("env webhook delete", "DELETE", env_hook, expected=env_admin(204)),
    Case("env webhook deliveries", "GET", lambda w: f"{env_hook(w)}deliveries/",
         expected=env_admin(200)),
    Case("org webhooks list", "GET", org_hooks, expected=org_admin(200)),
    Case("org webhook create", "POST", org_hooks,
         body=lambda w: {"url": "https://new.example.com/"}, expected=org_admin(201)),
    Case("org webhook retrieve", "GET", org_hook, expected=org_admin(200)),
    Case("org webhook patch", "PATCH", org_hook, body=lambda w: {"enabled": False},
         expected=org_admin(200)),
    Case("org webhook delete", "DELETE", org_hook, expected=org_admin(204)),
    Case("org webhook deliveries", "GET", lambda w: f"{org_hook(w)}deliveries/",
         expected=org_admin(200)),
    Case("webhook test, environment scope", "POST", lambda w: "/api/v1/webhooks/test/",
         body=lambda w: {"webhook_url": REFUSED_URL,
                         "scope": {"type": "environment", "id": w.environment.api_key}},
         expected=env_admin(400)),
    Case("webhook test, organisation scope", "POST", lambda w: "/api/v1/webhooks/test/",
         body=lambda w: {"webhook_url": REFUSED_URL,
                         "scope": {"type": "organisation", "id": str(w.organisation.pk)}},
         expected=org_admin(400)),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=str)
def test_webhook_endpoints__each_principal__expected_status(
    webhooks_world: World, case: Case
) -> None:
    run_case(webhooks_world, case)
