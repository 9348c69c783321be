from __future__ import annotations

import os
from typing import Any

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from vexil.audit.services import Actor
from vexil.organisations.models import Organisation
from vexil.organisations.services import organisation_create
from vexil.projects.models import Project
from vexil.projects.services import project_create
from vexil.users.models import User


def require_service(variable: str) -> str:
    """The URL of a real server the harness started; missing is a failure in CI, a skip locally."""
    value = os.environ.get(variable, "")
    if not value:
        message = f"{variable} is not set (scripts/test starts the server and sets it)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return value


@pytest.fixture
def redis_url() -> str:
    return require_service("VEXIL_TEST_REDIS_URL")


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def superuser(db: None) -> User:
    return User.objects.create_superuser(email="admin@example.com", password="correct horse 1")


# --- The fixture graph: organisation -> project -> environment (features and segments build on it)
@pytest.fixture
def organisation_admin(db: None) -> User:
    return User.objects.create_user(email="owner@example.com", password="correct horse 1")


@pytest.fixture
def organisation(organisation_admin: User) -> Organisation:
    return organisation_create(
        name="Acme", creator=organisation_admin, actor=Actor(user=organisation_admin)
    )


@pytest.fixture
def project(organisation: Organisation, organisation_admin: User) -> Project:
    return project_create(
        organisation=organisation, name="Web shop", actor=Actor(user=organisation_admin)
    )


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    """PBKDF2's deliberate slowness buys nothing in tests and costs seconds per hash."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    """Throttle counters live in the cache; no test inherits another's."""
    cache.clear()
