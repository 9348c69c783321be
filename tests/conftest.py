from __future__ import annotations

import os

import pytest
from rest_framework.test import APIClient

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
