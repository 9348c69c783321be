"""The official Node SDK (``flagsmith-nodejs``, run with the machine's node) against a live Vexil.

Its dependencies are installed by ``npm ci`` from the committed lock file in ``node/`` when
``node_modules`` is missing or was installed from another lock file. The Node SDK parses the
environment document strictly (it calls ``.map`` on every list), which is why no list in
Vexil's document is ever null: its local evaluation succeeding here is the proof.

Without node or npm this is a failure in CI (``CI=true``) and a visible skip elsewhere.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.sdk_clients.conftest import LiveServer, World

NODE_PROJECT = Path(__file__).parent / "node"
INSTALL_TIMEOUT = 300
RUN_TIMEOUT = 60
INSTALLED_MARK = NODE_PROJECT / "node_modules" / ".vexil-lock-sha256"


def _require(program: str) -> str:
    path = shutil.which(program)
    if path is None:
        message = f"{program} is not installed (apt-get install -y nodejs npm)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="module")
def node() -> str:
    """The node binary, with the project's npm dependencies installed from the lock file."""
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


def _run_check(node: str, server: LiveServer, world: World, identifier: str, traits: dict) -> Any:
    env = {
        **os.environ,
        "VEXIL_API_URL": server.api_url,
        "VEXIL_CLIENT_KEY": world.client_key,
        "VEXIL_SERVER_KEY": world.server_key,
        "VEXIL_IDENTIFIER": identifier,
        "VEXIL_TRAITS": json.dumps(traits),
    }
    finished = subprocess.run(
        [node, "check.mjs"],
        cwd=NODE_PROJECT,
        env=env,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        check=False,
    )
    assert finished.returncode == 0, finished.stdout + finished.stderr
    return json.loads(finished.stdout.strip().splitlines()[-1])


def _summary(flags: list[dict[str, Any]]) -> dict[str, list[Any]]:
    return {f["feature"]["name"]: [f["enabled"], f["feature_state_value"]] for f in flags}


def test_node_sdk__remote_and_local_evaluation__same_flags_as_vexil(
    node: str, server: LiveServer, world: World
) -> None:
    # When
    result = _run_check(node, server, world, "node-user", {"orders": 15, "plan": "team"})
    # Then: remote, as Vexil serves them (the identity's traits were stored by the SDK's POST)
    status, flags = server.sdk("GET", "/api/v1/flags/", world.client_key)
    assert status == 200
    assert result["remote_environment"] == _summary(flags)
    status, identity = server.sdk(
        "GET", "/api/v1/identities/?identifier=node-user", world.client_key
    )
    assert status == 200
    assert result["remote_identity"] == _summary(identity["flags"])
    assert result["remote_identity"]["banner_text"] == [True, "Welcome back, power user!"]
    # Local evaluation of the document with the server key: the server-key view of the same
    status, flags = server.sdk("GET", "/api/v1/flags/", world.server_key)
    assert result["local_environment"] == _summary(flags)
    status, identity = server.sdk(
        "GET", "/api/v1/identities/?identifier=node-user", world.server_key
    )
    assert result["local_identity"] == _summary(identity["flags"])
    assert result["local_identity"]["internal_limits"] == [True, 5]
