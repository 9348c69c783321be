"""Journeys in a real browser (Chromium) against a live ``vexil serve``, with axe on each page.

The live server shares the test database, so these tests commit their data
(``transactional_db``) and the real Python ``flagsmith`` SDK reads the flags the browser set.
"""

from __future__ import annotations

import re

import pytest
from flagsmith import Flagsmith
from playwright.sync_api import Page, expect

from tests.dashboard.browser import DashboardServer, assert_accessible, sign_in
from tests.dashboard.conftest import PASSWORD
from tests.processes import wait_for
from vexil.audit.services import Actor
from vexil.environments.models import Environment
from vexil.features.models import Feature, FeatureState
from vexil.features.services import feature_state_update
from vexil.organisations.models import Organisation
from vexil.projects.models import Project
from vexil.users.models import User

pytestmark = pytest.mark.usefixtures("transactional_db")


@pytest.fixture(autouse=True)
def _fast_password_hashing() -> None:
    """The live server checks passwords with the real hashers, so users get real hashes here."""


def _flags(server: DashboardServer, environment: Environment) -> Flagsmith:
    return Flagsmith(environment_key=environment.api_key, api_url=server("/api/v1/"))


def _enabled_in_sdk(server: DashboardServer, environment: Environment, name: str) -> bool:
    return bool(_flags(server, environment).get_environment_flags().is_feature_enabled(name))


def test_sign_in__wrong_then_right_password(
    page: Page, dashboard_server: DashboardServer, organisation: Organisation
) -> None:
    page.goto(dashboard_server("/"))
    expect(page).to_have_url(re.compile(r"/sign-in/"))
    assert_accessible(page)
    page.get_by_label("Email", exact=True).fill("owner@example.com")
    page.get_by_label("Password", exact=True).fill("wrong")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("not correct")
    expect(page.get_by_label("Email", exact=True)).to_have_value("owner@example.com")
    assert_accessible(page)

    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("heading", name="Acme")).to_be_visible()
    assert_accessible(page)


def test_create_project_and_feature__switch_on_in_production__sdk_sees_it(
    page: Page, dashboard_server: DashboardServer, organisation: Organisation
) -> None:
    sign_in(page, dashboard_server, "owner@example.com", PASSWORD)
    page.get_by_role("link", name="Create project").first.click()
    assert_accessible(page)
    page.get_by_label("Name", exact=True).fill("Storefront")
    page.get_by_role("button", name="Create project").click()
    expect(page.get_by_role("heading", name="Storefront")).to_be_visible()
    assert_accessible(page)
    project = Project.objects.get(name="Storefront")
    development = project.environments.get(name="Development")
    production = project.environments.get(name="Production")

    page.get_by_role("link", name="Development").click()
    expect(page.get_by_role("heading", name="No features yet")).to_be_visible()
    expect(page.get_by_text(development.api_key).first).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name="Create feature").first.click()
    page.get_by_label("Name", exact=True).fill("new_checkout")
    assert_accessible(page)
    page.get_by_role("button", name="Create", exact=True).click()
    expect(page.get_by_role("heading", name="new_checkout")).to_be_visible()
    assert_accessible(page)

    # Switch to Production by name, and switch the flag on there.
    page.get_by_text("Environment", exact=True).click()
    page.get_by_role("link", name="Production", exact=True).click()
    switch = page.get_by_role("switch", name="new_checkout", exact=True)
    expect(switch).not_to_be_checked()
    assert_accessible(page)
    switch.focus()
    page.keyboard.press("Space")  # the keyboard, as a screen-reader user would
    expect(page.get_by_role("switch", name="new_checkout", exact=True)).to_be_checked()

    assert wait_for(
        lambda: _enabled_in_sdk(dashboard_server, production, "new_checkout") or None,
        timeout=5,
        what="the SDK to see new_checkout on in Production",
    )
    assert _enabled_in_sdk(dashboard_server, development, "new_checkout") is False


def test_edit_typed_value__sdk_gets_an_integer(
    page: Page,
    dashboard_server: DashboardServer,
    environment: Environment,
    feature: Feature,
    project: Project,
) -> None:
    sign_in(page, dashboard_server, "owner@example.com", PASSWORD)
    page.goto(
        dashboard_server(f"/projects/{project.pk}/environments/{environment.api_key}/features/")
    )
    page.get_by_role("link", name=feature.name, exact=True).click()
    assert_accessible(page)

    page.get_by_label("Value", exact=True).fill("forty")
    page.get_by_label("Type", exact=True).select_option("Integer")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("Enter a whole number")).to_be_visible()
    expect(page.get_by_label("Value", exact=True)).to_have_value("forty")
    assert_accessible(page)
    page.get_by_label("Value", exact=True).fill("42")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_label("Value", exact=True)).to_have_value("42")

    def served_value() -> object:
        value = (
            _flags(dashboard_server, environment)
            .get_environment_flags()
            .get_feature_value(feature.name)
        )
        return value if value == 42 else None

    assert wait_for(served_value, timeout=5, what="the SDK to serve 42") == 42


def test_viewer__cannot_switch_in_the_page_or_by_replaying_the_post(
    page: Page,
    dashboard_server: DashboardServer,
    viewer: User,
    environment: Environment,
    feature: Feature,
    project: Project,
) -> None:
    features = f"/projects/{project.pk}/environments/{environment.api_key}/features/"
    sign_in(page, dashboard_server, viewer.email, PASSWORD)
    page.goto(dashboard_server(features))

    switch = page.get_by_role("switch", name=feature.name, exact=True)
    expect(switch).to_be_disabled()
    expect(page.get_by_role("link", name="Create feature")).to_have_count(0)
    assert_accessible(page)
    # On a phone: nothing wider than the screen but the table, which scrolls in its frame.
    page.set_viewport_size({"width": 375, "height": 812})
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    assert_accessible(page)
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    response = page.request.post(
        dashboard_server(f"{features}{feature.pk}/toggle/"),
        form={"enabled": "on", "csrfmiddlewaretoken": token},
        headers={"Referer": dashboard_server(features)},
    )

    assert response.status == 403
    state = FeatureState.objects.get(
        feature=feature, environment=environment, identity=None, feature_segment=None
    )
    assert state.enabled is False


def test_features_page__change_made_elsewhere__shows_within_seconds(
    page: Page,
    dashboard_server: DashboardServer,
    environment: Environment,
    feature: Feature,
    project: Project,
    organisation_admin: User,
) -> None:
    sign_in(page, dashboard_server, "owner@example.com", PASSWORD)
    page.goto(
        dashboard_server(f"/projects/{project.pk}/environments/{environment.api_key}/features/")
    )
    switch = page.get_by_role("switch", name=feature.name, exact=True)
    expect(switch).not_to_be_checked()

    state = FeatureState.objects.get(
        feature=feature, environment=environment, identity=None, feature_segment=None
    )
    feature_state_update(feature_state=state, actor=Actor(user=organisation_admin), enabled=True)

    expect(page.get_by_role("switch", name=feature.name, exact=True)).to_be_checked(timeout=5_000)
