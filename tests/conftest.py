from __future__ import annotations

import ipaddress
import os
import secrets
import socket
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from django.conf import settings
from django.core.cache import cache
from psycopg import sql
from rest_framework.test import APIClient

from vexil.audit.services import Actor
from vexil.common import outbound
from vexil.environments.models import Environment
from vexil.environments.services import environment_create
from vexil.features.models import Feature, FeatureState
from vexil.features.services import feature_create
from vexil.identities.models import Identity
from vexil.identities.services import identity_create
from vexil.organisations.models import Organisation
from vexil.organisations.services import organisation_create
from vexil.projects.models import Project
from vexil.projects.services import project_create
from vexil.segments.models import Segment
from vexil.segments.services import segment_create
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
def _outbound_only_to_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test sends traffic beyond loopback, whatever URL it (or a generated case) names.

    Outbound requests resolve only ``localhost`` names (no DNS query leaves the machine) and
    connect only to loopback addresses; anything else is a network error before any packet.
    """
    real_open = outbound.open_socket

    def resolve(host: str, port: int) -> list[outbound.IPAddress]:
        if host.rstrip(".").lower() == "localhost":
            return [ipaddress.ip_address("127.0.0.1")]
        raise outbound.OutboundNetworkError(f"Test guard: {host} is not resolved in tests.")

    def open_socket(address: outbound.IPAddress, port: int, timeout: float | None) -> socket.socket:
        if not address.is_loopback:
            raise outbound.OutboundNetworkError(f"Test guard: no connection to {address}.")
        return real_open(address, port, timeout)

    monkeypatch.setattr(outbound, "resolve", resolve)
    monkeypatch.setattr(outbound, "open_socket", open_socket)


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    """Throttle counters live in the cache; no test inherits another's."""
    cache.clear()


@pytest.fixture
def actor(organisation_admin: User) -> Actor:
    return Actor(user=organisation_admin)


@pytest.fixture
def environment(project: Project, actor: Actor) -> Environment:
    return environment_create(project=project, name="Development", actor=actor)


@pytest.fixture
def feature(project: Project, environment: Environment, actor: Actor) -> Feature:
    return feature_create(
        project=project, name="checkout_button", initial_value="blue", actor=actor
    )


@pytest.fixture
def feature_state(feature: Feature, environment: Environment) -> FeatureState:
    return FeatureState.objects.get(
        feature=feature, environment=environment, identity=None, feature_segment=None
    )


@pytest.fixture
def segment(project: Project, actor: Actor) -> Segment:
    return segment_create(
        project=project,
        name="power_users",
        rules=[
            {
                "type": "ALL",
                "rules": [
                    {
                        "type": "ANY",
                        "conditions": [
                            {
                                "operator": "GREATER_THAN_INCLUSIVE",
                                "property": "orders",
                                "value": "10",
                            }
                        ],
                    }
                ],
            }
        ],
        actor=actor,
    )


@pytest.fixture
def identity(environment: Environment, actor: Actor) -> Identity:
    return identity_create(environment=environment, identifier="alice@example.com", actor=actor)


# --- A second tenant, to prove isolation --------------------------------------------------------
@pytest.fixture
def other_admin(db: None) -> User:
    return User.objects.create_user(email="mallory@example.com", password="correct horse 2")


@pytest.fixture
def other_project(other_admin: User) -> Project:
    actor = Actor(user=other_admin)
    organisation = organisation_create(name="Evil corp", creator=other_admin, actor=actor)
    return project_create(organisation=organisation, name="Evil shop", actor=actor)


@pytest.fixture
def other_environment(other_project: Project, other_admin: User) -> Environment:
    return environment_create(project=other_project, name="Prod", actor=Actor(user=other_admin))


@pytest.fixture
def other_feature(
    other_project: Project, other_environment: Environment, other_admin: User
) -> Feature:
    return feature_create(project=other_project, name="evil_flag", actor=Actor(user=other_admin))
