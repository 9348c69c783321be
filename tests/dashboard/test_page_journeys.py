"""Journeys through the Segments, Evaluate, Identities, Audit log and Settings pages in a real
browser (Chromium) against a live ``vexil serve``, with axe on each page. Driven by roles and
labels only, as a screen reader user would find their way."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.dashboard.browser import DashboardServer, assert_accessible, sign_in
from tests.dashboard.conftest import PASSWORD
from vexil.audit.services import Actor
from vexil.environments.models import Environment, EnvironmentAPIKey
from vexil.environments.services import environment_create
from vexil.features.models import Feature, FeatureSegment, FeatureState
from vexil.features.services import OptionSpec, mv_option_create
from vexil.identities.models import Identity
from vexil.organisations.models import Organisation
from vexil.projects.models import Project
from vexil.segments.models import Segment
from vexil.users.models import User
from vexil.webhooks.models import Webhook

pytestmark = pytest.mark.usefixtures("transactional_db")


@pytest.fixture(autouse=True)
def _fast_password_hashing() -> None:
    """The live server checks passwords with the real hashers, so users get real hashes here."""


def _environment_page(server: DashboardServer, project: Project, environment: Environment) -> str:
    return server(f"/projects/{project.pk}/environments/{environment.api_key}/")


def test_segment_with_nested_rules__overrides_a_feature__evaluate_shows_the_reason(
    page: Page,
    dashboard_server: DashboardServer,
    project: Project,
    environment: Environment,
    feature: Feature,
    organisation_admin: User,
) -> None:
    sign_in(page, dashboard_server, "owner@example.com", PASSWORD)
    page.goto(dashboard_server(f"/projects/{project.pk}/"))
    page.get_by_role("link", name="Segments", exact=True).click()
    assert_accessible(page)
    page.get_by_role("link", name="Create segment").click()
    page.get_by_label("Name", exact=True).fill("pro customers")
    page.get_by_label("Trait of condition 1.1").fill("plan")
    page.get_by_label("Value of condition 1.1").fill("pro")
    page.get_by_role("button", name="Add a group inside group 1").click()
    page.get_by_label("Group 1.1 matches when").select_option(label="Any of these matches")
    page.get_by_label("Trait of condition 1.1.1").fill("email")
    page.get_by_label("Operator of condition 1.1.1").select_option(
        label="matches the regular expression"
    )
    page.get_by_role("button", name="Update the form").click()
    page.get_by_label("Value of condition 1.1.1").fill("(broken")
    assert_accessible(page)
    page.get_by_role("button", name="Create segment").click()
    expect(page.get_by_role("alert").filter(has_text="Invalid regular expression")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Value of condition 1.1.1").fill(r".*@example\.com$")
    page.get_by_role("button", name="Create segment").click()
    expect(page.get_by_role("heading", name="Segment pro customers")).to_be_visible()
    assert_accessible(page)
    assert Segment.objects.filter(name="pro customers").exists()

    # Override the feature for the segment, on the feature's page.
    page.goto(_environment_page(dashboard_server, project, environment) + "features/")
    page.get_by_role("link", name=feature.name, exact=True).click()
    override = page.get_by_role("form", name="Add a segment override")
    override.get_by_label("Segment", exact=True).select_option(label="pro customers")
    override.get_by_label("On for this segment").check()
    override.get_by_label("Value", exact=True).fill("gold")
    override.get_by_role("button", name="Add override").click()
    remove = page.get_by_role("button", name="Remove the override for pro customers")
    expect(remove).to_be_visible()
    assert_accessible(page)
    stored = FeatureSegment.objects.get(feature=feature, environment=environment)
    assert stored.segment.name == "pro customers"
    assert stored.feature_states.get().value == "gold"

    # Evaluate an identity that is in the segment, and one that is not.
    page.get_by_role("link", name="Evaluate", exact=True).click()
    assert_accessible(page)
    page.get_by_label("Identifier", exact=True).fill("erin@example.com")
    page.get_by_label("Traits", exact=True).fill("plan = pro\nemail = erin@example.com")
    page.get_by_role("button", name="Evaluate", exact=True).click()
    row = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=feature.name))
    expect(row).to_contain_text("gold")
    expect(row).to_contain_text("segment pro customers")
    assert_accessible(page)
    page.get_by_label("Traits", exact=True).fill("plan = free\nemail = erin@example.com")
    page.get_by_role("button", name="Evaluate", exact=True).click()
    expect(row).to_contain_text("default")
    assert not Identity.objects.filter(identifier="erin@example.com").exists()


def test_identity_override__set_then_removed__audit_shows_the_diff(
    page: Page,
    dashboard_server: DashboardServer,
    project: Project,
    environment: Environment,
    feature: Feature,
    identity: Identity,
) -> None:
    sign_in(page, dashboard_server, "owner@example.com", PASSWORD)
    page.goto(_environment_page(dashboard_server, project, environment) + "identities/")
    assert_accessible(page)
    page.get_by_label("Search identifiers").fill("alice")
    page.get_by_role("button", name="Search", exact=True).click()
    page.get_by_role("link", name=identity.identifier).click()
    assert_accessible(page)

    form = page.get_by_role("form", name="Set an override")
    form.get_by_label("Feature", exact=True).select_option(label=feature.name)
    form.get_by_label("On for this identity").check()
    form.get_by_label("Value", exact=True).fill("purple")
    form.get_by_role("button", name="Set override").click()
    flag = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=feature.name))
    expect(flag).to_contain_text("purple")
    expect(flag).to_contain_text("identity override")
    assert_accessible(page)

    page.get_by_role("button", name=f"Remove override of {feature.name}").click()
    expect(flag).to_contain_text("blue")
    expect(flag).to_contain_text("default")

    page.get_by_role("link", name="Audit log", exact=True).click()
    entries = page.get_by_role("list", name="Changes, newest first")
    expect(entries.get_by_role("listitem").first).to_contain_text("Deleted by owner@example.com")
    created = entries.get_by_role("listitem").filter(has_text="Created by owner@example.com")
    expect(created.first.get_by_role("cell").filter(has_text='"purple"')).to_be_visible()
    assert_accessible(page)


def test_server_side_key__shown_once(
    page: Page, dashboard_server: DashboardServer, project: Project, environment: Environment
) -> None:
    sign_in(page, dashboard_server, "owner@example.com", PASSWORD)
    page.goto(_environment_page(dashboard_server, project, environment) + "settings/")
    expect(page.get_by_label("Client-side environment key")).to_have_value(environment.api_key)
    expect(page.get_by_role("button", name="Copy client-side key")).to_be_visible()
    assert_accessible(page)

    page.get_by_label("Key name").fill("backend")
    page.get_by_role("button", name="Create server-side key").click()
    shown = page.get_by_label("New server-side key")
    expect(shown).to_have_value(re.compile(r"^ser\."))
    plaintext = shown.input_value()
    assert EnvironmentAPIKey.objects.get().digest == EnvironmentAPIKey.digest_of(plaintext)
    assert_accessible(page)

    page.goto(_environment_page(dashboard_server, project, environment) + "settings/")
    expect(page.get_by_label("New server-side key")).to_have_count(0)
    expect(page.get_by_text(plaintext)).to_have_count(0)
    page.get_by_role("button", name="Revoke key backend").click()
    expect(page.get_by_text("No server-side keys.")).to_be_visible()


def test_compare_and_organisation_settings__accessible(
    page: Page,
    dashboard_server: DashboardServer,
    organisation: Organisation,
    project: Project,
    environment: Environment,
    feature: Feature,
    actor: Actor,
) -> None:
    production = environment_create(project=project, name="Production", actor=actor)
    sign_in(page, dashboard_server, "owner@example.com", PASSWORD)
    page.goto(_environment_page(dashboard_server, project, environment) + "compare/")
    page.get_by_label("Compare with", exact=True).select_option(label=production.name)
    page.get_by_role("button", name="Compare", exact=True).click()
    expect(page.get_by_role("table")).to_contain_text(feature.name)
    assert_accessible(page)

    page.goto(dashboard_server(f"/organisations/{organisation.pk}/"))
    page.get_by_role("link", name="Settings", exact=True).click()
    expect(page.get_by_label("Role of owner@example.com")).to_have_value("ADMIN")
    assert_accessible(page)
    page.get_by_label("Master API key name").fill("ci")
    page.get_by_role("button", name="Create master API key").click()
    expect(page.get_by_label("New master API key")).not_to_have_value("")
    assert_accessible(page)


def test_group_permissions_and_project_settings__by_keyboard_names__accessible(
    page: Page,
    dashboard_server: DashboardServer,
    organisation: Organisation,
    project: Project,
    environment: Environment,
    viewer: User,
) -> None:
    sign_in(page, dashboard_server, "owner@example.com", PASSWORD)
    page.goto(dashboard_server(f"/organisations/{organisation.pk}/"))
    page.get_by_role("link", name="Groups", exact=True).click()
    assert_accessible(page)
    page.get_by_label("Group name").fill("Support")
    page.get_by_role("button", name="Create group").click()
    expect(page.get_by_role("heading", name="Group Support")).to_be_visible()
    page.get_by_label("Member to add").select_option(label=viewer.email)
    page.get_by_role("button", name="Add to the group").click()
    remove = page.get_by_role("button", name=f"Remove {viewer.email} from the group")
    expect(remove).to_be_visible()
    assert_accessible(page)

    # The group may change flags in Development: its member's switches come alive.
    page.goto(_environment_page(dashboard_server, project, environment) + "settings/")
    page.get_by_role("link", name=f"Permissions on {environment.name}").click()
    give = page.get_by_role("form", name="Give permissions")
    give.get_by_label("User or group").select_option(label="Support")
    give.get_by_label("View environment").check()
    give.get_by_label("Update feature states").check()
    give.get_by_role("button", name="Give permissions").click()
    granted = page.get_by_role("group", name="Permissions of group Support")
    expect(granted.get_by_label("Update feature states")).to_be_checked()
    assert_accessible(page)
    assert viewer.user_groups.get().name == "Support"

    page.goto(dashboard_server(f"/projects/{project.pk}/"))
    page.get_by_role("link", name="Settings", exact=True).click()
    page.get_by_label("Days before a flag is stale").fill("14")
    page.get_by_label("Hide disabled flags").check()
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_label("Days before a flag is stale")).to_have_value("14")
    assert_accessible(page)
    project.refresh_from_db()
    assert (project.stale_flags_limit_days, project.hide_disabled_flags) == (14, True)
    page.get_by_role("link", name="Delete project").click()
    expect(page.get_by_label(f"Type {project.name} to confirm")).to_be_visible()
    assert_accessible(page)


def test_variation_weights__checked_while_typing__saved_when_within_100(
    page: Page,
    dashboard_server: DashboardServer,
    project: Project,
    environment: Environment,
    feature: Feature,
    actor: Actor,
) -> None:
    for value in ("red", "green"):
        mv_option_create(
            feature=feature,
            spec=OptionSpec(value=value, default_percentage_allocation=0),
            actor=actor,
        )
    sign_in(page, dashboard_server, "owner@example.com", PASSWORD)
    page.goto(_environment_page(dashboard_server, project, environment) + f"features/{feature.pk}/")
    weights = page.get_by_role("form", name=f"Weights in {environment.name}")

    weights.get_by_label("Weight of red (%)").fill("60")
    weights.get_by_label("Weight of green (%)").fill("50")
    total = weights.get_by_role("status")
    expect(total).to_have_text("Weights must total 100% or less (they total 110%).")
    expect(weights.get_by_label("Weight of green (%)")).to_have_attribute("aria-invalid", "true")
    assert_accessible(page)
    weights.get_by_role("button", name="Save weights").click()  # refused in the page: no request
    expect(total).to_have_text("Weights must total 100% or less (they total 110%).")
    weights.get_by_label("Weight of green (%)").fill("40")
    expect(total).to_have_text("The weights total 100%.")
    weights.get_by_role("button", name="Save weights").click()

    page.wait_for_url(lambda url: url.endswith(f"features/{feature.pk}/"))
    expect(
        page.get_by_role("form", name=f"Weights in {environment.name}").get_by_label(
            "Weight of red (%)"
        )
    ).to_have_value("60.0")
    state = FeatureState.objects.get(
        feature=feature, environment=environment, identity=None, feature_segment=None
    )
    saved = {
        value.multivariate_feature_option.value: value.percentage_allocation
        for value in state.multivariate_feature_state_values.all()
    }
    assert saved == {"red": 60, "green": 40}


def test_webhooks_page__create_with_secret_once_edit_slack_delete__accessible(
    page: Page,
    dashboard_server: DashboardServer,
    organisation: Organisation,
    project: Project,
    environment: Environment,
) -> None:
    sign_in(page, dashboard_server, "owner@example.com", PASSWORD)
    page.goto(_environment_page(dashboard_server, project, environment))
    page.get_by_role("link", name="Webhooks", exact=True).click()
    assert_accessible(page)

    # A webhook, its secret shown once
    page.get_by_label("Webhook URL", exact=True).fill("https://hooks.example.com/flags")
    page.get_by_label("Name", exact=True).fill("CI")
    page.get_by_role("button", name="Create webhook").click()
    secret = page.get_by_label("Secret of the new webhook").input_value()
    assert secret == Webhook.objects.get().secret
    assert_accessible(page)

    # Its page: disabled, then deleted
    page.get_by_role("link", name="CI").click()
    expect(page.get_by_text("No deliveries yet.")).to_be_visible()
    expect(page.get_by_text(secret)).to_have_count(0)
    page.get_by_label("Enabled").uncheck()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_label("Enabled")).not_to_be_checked()
    assert_accessible(page)
    page.get_by_role("button", name="Delete webhook").click()
    expect(page.get_by_text("No webhooks.")).to_be_visible()

    # Slack, whose URL is never shown back
    page.get_by_label("Slack incoming-webhook URL").fill("https://hooks.slack.com/services/T/B/tok")
    page.get_by_role("button", name="Add Slack").click()
    expect(page.get_by_role("button", name="Send test event")).to_be_visible()
    expect(page.get_by_text("services/T/B/tok")).to_have_count(0)
    page.get_by_role("link", name="All webhooks and integrations").click()
    expect(page.get_by_role("link", name="Slack settings and delivery log")).to_be_visible()
    expect(page.get_by_text("services/T/B/tok")).to_have_count(0)
    assert_accessible(page)

    # The organisation's own Grafana, from its settings page; its token never shown back
    page.goto(dashboard_server(f"/organisations/{organisation.pk}/settings/"))
    page.get_by_label("Grafana base URL").fill("https://grafana.example.com")
    page.get_by_label("Grafana service account token").fill("glsa_browser-token")
    page.get_by_role("button", name="Add Grafana").click()
    expect(page.get_by_role("button", name="Send test event")).to_be_visible()
    expect(page.get_by_label("Base URL")).to_have_value("https://grafana.example.com")
    assert Webhook.objects.get(kind="grafana", project=None).secret == "glsa_browser-token"
    assert "glsa_browser-token" not in page.content()
    assert_accessible(page)
    page.goto(dashboard_server(f"/organisations/{organisation.pk}/settings/"))
    expect(page.get_by_role("link", name="Grafana settings, test and delivery log")).to_be_visible()
    assert_accessible(page)
