"""OFREP (vexil.sdk.ofrep): one environment with a flag of every kind the value mapping treats
differently, served in-process by the real ASGI application (``sdk``, tests/sdk/conftest.py)."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.sdk.conftest import SDKClient, sdk  # the fixture, for this package
from tests.sdk_clients.conftest import LiveServer, serving, wait_until_served
from vexil.audit.services import Actor
from vexil.environments.models import Environment
from vexil.environments.services import environment_api_key_create, environment_create
from vexil.features.models import Feature
from vexil.features.services import OptionSpec, feature_create, segment_override_create
from vexil.projects.models import Project
from vexil.segments.models import Segment

FLAG = "/ofrep/v1/evaluate/flags/"
BULK = "/ofrep/v1/evaluate/flags"
NODE_PROJECT = Path(__file__).parent / "node"
INSTALL_TIMEOUT = 300
INSTALLED_MARK = NODE_PROJECT / "node_modules" / ".vexil-lock-sha256"
JSON_CONFIG = '{"currency": "EUR", "steps": 3}'


@dataclass
class Flags:
    environment: Environment
    server_key: str
    segment: Segment
    features: dict[str, Feature]

    @property
    def client_key(self) -> str:
        return self.environment.api_key


def build_flags(project: Project, segment: Segment, actor: Actor, name: str) -> Flags:
    environment = environment_create(project=project, name=name, actor=actor)
    _, server_key = environment_api_key_create(environment=environment, name="backend", actor=actor)

    def create(
        feature: str, value: str | None = None, enabled: bool = True, **extra: Any
    ) -> Feature:
        return feature_create(
            project=project, name=feature, initial_value=value, default_enabled=enabled,
            actor=actor, **extra,
        )  # fmt: skip

    features = {
        "banner_text": create("banner_text", "Hello"),
        "max_items": create("max_items", "10"),
        "ratio": create("ratio", "2.5"),
        "checkout_config": create("checkout_config", JSON_CONFIG),
        "dark_mode": create("dark_mode"),
        "beta_search": create("beta_search", enabled=False),
        "old_banner": create("old_banner", "Bye", enabled=False),
        "checkout_button": create(
            "checkout_button", "blue",
            multivariate_options=[
                OptionSpec("green", 50, "green_button"), OptionSpec("red", 50, "red_button")
            ],
        ),
        "internal_limits": create("internal_limits", "5", is_server_key_only=True),
    }  # fmt: skip
    segment_override_create(
        feature=features["banner_text"], segment=segment, environment=environment, enabled=True,
        value="Welcome back, power user!", actor=actor,
    )  # fmt: skip
    segment_override_create(
        feature=features["beta_search"], segment=segment, environment=environment, enabled=True,
        value=None, actor=actor,
    )  # fmt: skip
    environment.refresh_from_db()
    return Flags(environment, server_key, segment, features)


@pytest.fixture
def flags(transactional_db: None, project: Project, segment: Segment, actor: Actor) -> Flags:
    return build_flags(project, segment, actor, "Production")


@pytest.fixture(scope="package")
def server(django_db_setup: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One live ``vexil serve`` for the package's real-client tests."""
    with serving(tmp_path_factory.mktemp("ofrep-live")) as live:
        yield live


@pytest.fixture
def served_flags(flags: Flags, server: LiveServer) -> Flags:
    """``flags``, once the live server accepts its keys."""
    wait_until_served(server, flags.client_key, flags.server_key)
    return flags


def _require(program: str) -> str:
    path = shutil.which(program)
    if path is None:
        message = f"{program} is not installed (apt-get install -y nodejs npm)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="package")
def node() -> str:
    """The node binary, with ``node/``'s npm packages installed from its lock file (also what
    the browser test serves to the page)."""
    node = _require("node")
    npm = _require("npm")
    lock = hashlib.sha256((NODE_PROJECT / "package-lock.json").read_bytes()).hexdigest()
    if not INSTALLED_MARK.exists() or INSTALLED_MARK.read_text() != lock:
        installed = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=NODE_PROJECT,
            capture_output=True,
            text=True,
            timeout=INSTALL_TIMEOUT,
            check=False,
        )
        assert installed.returncode == 0, installed.stdout + installed.stderr
        INSTALLED_MARK.write_text(lock)
    return node


__all__ = [
    "BULK", "FLAG", "NODE_PROJECT", "Flags", "LiveServer", "SDKClient", "build_flags", "sdk"
]  # fmt: skip
