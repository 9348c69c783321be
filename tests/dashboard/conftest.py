"""Dashboard fixtures: signed-in clients for an organisation administrator and a viewer.

Tests below the browser use Django's test client; the browser journeys (test_journeys.py) use
the live server and Playwright fixtures in ``browser.py``.
"""

from __future__ import annotations

import pytest
from django.test import Client

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
