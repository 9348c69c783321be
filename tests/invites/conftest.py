from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from vexil.users.models import User
from vexil.users.services import auth_token_issue

PASSWORD = "correct horse battery 1"


def client_of(user: User) -> APIClient:
    return APIClient(HTTP_AUTHORIZATION=f"Token {auth_token_issue(user=user)}")


@pytest.fixture
def admin_client(organisation_admin: User) -> APIClient:
    return client_of(organisation_admin)


@pytest.fixture
def bob(db: None) -> User:
    return User.objects.create_user(email="bob@example.com", password=PASSWORD)
