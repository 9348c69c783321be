from __future__ import annotations

import os
import secrets
from collections.abc import Iterator

import psycopg
import pytest
from django.conf import settings
from psycopg import sql
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


@pytest.fixture(scope="session")
def django_db_modify_db_settings(
    django_db_modify_db_settings_parallel_suffix: None,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """Keep the SQLite test database in a file, so that subprocesses (a worker) can share it.

    Django's default for SQLite is an in-memory database that only this process can see.
    """
    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3":
        test_settings = database.setdefault("TEST", {})
        assert isinstance(test_settings, dict)
        test_settings["NAME"] = str(tmp_path_factory.mktemp("database") / "test.sqlite3")


@pytest.fixture
def redis_url() -> str:
    return require_service("VEXIL_TEST_REDIS_URL")


@pytest.fixture
def postgres_url() -> str:
    return require_service("VEXIL_TEST_POSTGRES_URL")


@pytest.fixture
def scratch_postgres_url(postgres_url: str) -> Iterator[str]:
    """The URL of a new, empty PostgreSQL database on the test server, dropped afterwards."""
    name = f"vexil_scratch_{secrets.token_hex(4)}"
    server = postgres_url.rsplit("/", 1)[0]
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield f"{server}/{name}"
    finally:
        with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def superuser(db: None) -> User:
    return User.objects.create_superuser(email="admin@example.com", password="correct horse 1")
