"""Dashboard fixtures: signed-in clients for an organisation administrator and a viewer.

Tests below the browser use Django's test client; the browser journeys (test_journeys.py) use
the live server and Playwright fixtures in ``browser.py``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from django.test import Client
from playwright.sync_api import Browser, Page, sync_playwright

from tests.dashboard import browser
from vexil.audit.services import Actor
from vexil.environments.models import Environment
from vexil.organisations.models import Organisation, OrganisationRole
from vexil.organisations.services import organisation_member_add
from vexil.permissions.keys import EnvironmentPermission
from vexil.permissions.services import environment_grant_create
from vexil.users.models import User

PASSWORD = "correct horse 1"


@pytest.fixture
def admin_client(organisation_admin: User) -> Client:
    client = Client()
    client.force_login(organisation_admin)
    return client


@pytest.fixture
def viewer(organisation: Organisation, environment: Environment, actor: Actor) -> User:
    """A member who may see the Development environment and change nothing."""
    user = User.objects.create_user(email="viewer@example.com", password=PASSWORD)
    organisation_member_add(
        organisation=organisation, user=user, role=OrganisationRole.USER, actor=actor
    )
    environment_grant_create(
        environment=environment,
        user=user,
        permissions=[EnvironmentPermission.VIEW_ENVIRONMENT],
        actor=actor,
    )
    return user


@pytest.fixture
def viewer_client(viewer: User) -> Client:
    client = Client()
    client.force_login(viewer)
    return client


# --- Browser journeys -----------------------------------------------------------------------------


@pytest.fixture(scope="package")
def dashboard_server(
    django_db_setup: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[browser.DashboardServer]:
    """One live server for the browser journeys; each test brings its own committed data
    (``transactional_db``) and signs in again."""
    with browser.dashboard_server(tmp_path_factory.mktemp("dashboard")) as server:
        yield server


@pytest.fixture(scope="package")
def chromium() -> Iterator[Browser]:
    browser.chromium_or_skip()
    # Playwright's sync API keeps an event loop running in this thread, and Django refuses ORM
    # calls from a thread with a running loop; the tests' own ORM calls are synchronous.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            launched = browser.launch_chromium(playwright)
            yield launched
            launched.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(chromium: Browser) -> Iterator[Page]:
    """A fresh browser context (no cookies) at a laptop size; fails on console or CSP errors."""
    context = chromium.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(10_000)
    page = context.new_page()
    problems = browser.PageProblems(page)
    yield page
    context.close()
    assert problems.messages == []
