"""Real SDK clients against a live ``vexil serve``, as an application would run them.

The server is a subprocess on the database this test run uses (on SQLite the pytest-django test
database file, on PostgreSQL the test database), so the data a test writes through the services
must be committed: the tests use ``transactional_db``, which flushes the database after each one.

The servers run with short freshness intervals (VEXIL_SDK_REFRESH_SECONDS and
VEXIL_ANALYTICS_FLUSH_SECONDS), so the waits below stay short and every one has a deadline.
"""

from __future__ import annotations

import json
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.processes import (
    free_port,
    http_get,
    read_text,
    running,
    shared_database_url,
    vexil_command,
    vexil_environment,
    wait_for,
)
from vexil.api_keys.services import master_api_key_create
from vexil.audit.services import Actor
from vexil.environments.models import Environment
from vexil.environments.services import environment_api_key_create, environment_create
from vexil.features.models import Feature, FeatureState
from vexil.features.services import OptionSpec, feature_create, segment_override_create
from vexil.organisations.models import Organisation
from vexil.organisations.services import organisation_create
from vexil.projects.models import Project
from vexil.projects.services import project_create
from vexil.segments.models import Segment
from vexil.segments.services import segment_create
from vexil.users.models import User

START_TIMEOUT = 60
REFRESH_SECONDS = 0.2
ANALYTICS_FLUSH_SECONDS = 0.2


@dataclass(frozen=True)
class LiveServer:
    url: str
    log: Path

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/v1/"

    def request(
        self,
        method: str,
        path: str,
        *,
        body: object = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, Any]:
        """Status and decoded JSON body (None when empty) of one request; never raises on 4xx."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.url + path,
            data=data,
            method=method,
            headers={"Content-Type": "application/json", **(headers or {})},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, raw = error.code, error.read()
        return status, json.loads(raw) if raw else None

    def sdk(self, method: str, path: str, key: str, body: object = None) -> tuple[int, Any]:
        return self.request(method, path, body=body, headers={"X-Environment-Key": key})


@contextmanager
def serving_all(directories: list[Path], **environment: str) -> Iterator[list[LiveServer]]:
    """``vexil serve`` (one worker each) on the test database and free loopback ports.

    The processes start, and stop, side by side. ``environment`` overrides the test defaults.
    """
    env = vexil_environment(
        **{
            "DATABASE_URL": shared_database_url(),
            "VEXIL_SDK_REFRESH_SECONDS": str(REFRESH_SECONDS),
            "VEXIL_ANALYTICS_FLUSH_SECONDS": str(ANALYTICS_FLUSH_SECONDS),
            **environment,
        }
    )
    with ExitStack() as stack:
        started: list[tuple[LiveServer, subprocess.Popen[bytes]]] = []
        for directory in directories:
            directory.mkdir(parents=True, exist_ok=True)
            port, log = free_port(), directory / "server.log"
            command = vexil_command("serve", "--port", str(port), "--workers", "1", "--no-migrate")
            data = {"VEXIL_DATA_DIR": str(directory / "data")}
            process = stack.enter_context(running(command, env={**env, **data}, output=log))
            started.append((LiveServer(f"http://127.0.0.1:{port}", log), process))
        # Signal every process before waiting for any, so they shut down side by side.
        stack.callback(_terminate_all, [process for _, process in started])
        for server, process in started:
            try:
                wait_for(
                    lambda server=server: http_get(server.url + "/health/liveness/"),  # type: ignore[misc]
                    timeout=START_TIMEOUT,
                    what="/health/liveness/ to answer",
                    process=process,
                )
            except AssertionError as error:
                raise AssertionError(f"{error}\n{read_text(server.log)}") from None
        yield [server for server, _ in started]


def _terminate_all(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        if process.poll() is None:
            process.terminate()


@contextmanager
def serving(directory: Path, **environment: str) -> Iterator[LiveServer]:
    with serving_all([directory], **environment) as (server,):
        yield server


@dataclass
class World:
    """One organisation with a project and environment the SDK tests share (never mutated)."""

    owner: User
    organisation: Organisation
    project: Project
    environment: Environment
    server_key: str
    master_key: str
    segment: Segment
    features: dict[str, Feature] = field(default_factory=dict)

    @property
    def client_key(self) -> str:
        return self.environment.api_key

    @property
    def actor(self) -> Actor:
        return Actor(user=self.owner)

    def state(self, feature: Feature) -> FeatureState:
        return FeatureState.objects.get(
            feature=feature, environment=self.environment, identity=None, feature_segment=None
        )

    def management(self, server: LiveServer, method: str, path: str, body: object = None) -> Any:
        """A management API call with the organisation's master API key; asserts a 2xx."""
        status, reply = server.request(
            method, path, body=body, headers={"Authorization": f"Api-Key {self.master_key}"}
        )
        assert 200 <= status < 300, (status, reply)
        return reply


JSON_CONFIG = '{"currency": "EUR", "steps": 3}'


def _build_world() -> World:
    owner = User.objects.create_user(email="owner@clients.example", password="correct horse 1")
    actor = Actor(user=owner)
    organisation = organisation_create(name="Clients", creator=owner, actor=actor)
    project = project_create(organisation=organisation, name="Shop", actor=actor)
    environment = environment_create(project=project, name="Production", actor=actor)
    _, server_key = environment_api_key_create(environment=environment, name="backend", actor=actor)
    _, master_key = master_api_key_create(organisation=organisation, name="tests", actor=actor)
    features = {
        "banner_text": feature_create(
            project=project, name="banner_text", initial_value="Hello", default_enabled=True,
            actor=actor,
        ),
        "max_items": feature_create(
            project=project, name="max_items", initial_value="10", default_enabled=True,
            actor=actor,
        ),
        "dark_mode": feature_create(
            project=project, name="dark_mode", default_enabled=True, actor=actor
        ),
        "checkout_config": feature_create(
            project=project, name="checkout_config", initial_value=JSON_CONFIG,
            default_enabled=True, actor=actor,
        ),
        "beta_search": feature_create(project=project, name="beta_search", actor=actor),
        "checkout_button": feature_create(
            project=project, name="checkout_button", initial_value="blue", default_enabled=True,
            multivariate_options=[
                OptionSpec("green", 50, "green_button"), OptionSpec("red", 50, "red_button")
            ],
            actor=actor,
        ),
        "internal_limits": feature_create(
            project=project, name="internal_limits", initial_value="5", default_enabled=True,
            is_server_key_only=True, actor=actor,
        ),
    }  # fmt: skip
    segment = segment_create(
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
    segment_override_create(
        feature=features["banner_text"], segment=segment, environment=environment, enabled=True,
        value="Welcome back, power user!", actor=actor,
    )  # fmt: skip
    segment_override_create(
        feature=features["beta_search"], segment=segment, environment=environment, enabled=True,
        value=None, actor=actor,
    )  # fmt: skip
    environment.refresh_from_db()
    return World(
        owner, organisation, project, environment, server_key, master_key, segment, features
    )


@pytest.fixture(scope="package")
def server(django_db_setup: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One live server for the package; each test brings its own committed data."""
    with serving(tmp_path_factory.mktemp("live")) as live:
        yield live


@pytest.fixture
def world(transactional_db: None, server: LiveServer) -> World:
    """A fresh organisation per test, committed (``transactional_db`` flushes it afterwards;
    primary keys are not reused, so the live server never mistakes it for an earlier one)."""
    world = _build_world()
    wait_until_served(server, world.client_key, world.server_key)
    return world


def wait_until_served(server: LiveServer, *keys: str) -> None:
    """Wait until the server accepts these new keys.

    A key the server has not seen yet is looked up in the database at most twice a second per
    process (so a scanner cannot turn into database load); beyond that it is refused until the
    next index refresh, VEXIL_SDK_REFRESH_SECONDS later. These tests create environments faster
    than that budget.
    """
    for key in keys:
        wait_for(
            lambda key=key: server.sdk("GET", "/api/v1/flags/", key)[0] == 200 or None,  # type: ignore[misc]
            timeout=5,
            what=f"the server to accept the key {key[:8]}…",
        )
