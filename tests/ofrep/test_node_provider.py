"""``@openfeature/ofrep-provider`` (Node, with ``@openfeature/server-sdk``) against a live Vexil.

Its npm packages are installed by ``npm ci`` from the committed lock file in ``node/`` (see
tests/sdk_clients/test_node_sdk.py for the rule: a failure under CI, a skip elsewhere).
"""

from __future__ import annotations

import json
import os
import subprocess
from typing import Any

from tests.ofrep.conftest import NODE_PROJECT, Flags, LiveServer

RUN_TIMEOUT = 60


def _resolve(node: str, server: LiveServer, key: str) -> Any:
    finished = subprocess.run(
        [node, "resolve.mjs"],
        cwd=NODE_PROJECT,
        env={**os.environ, "VEXIL_URL": server.url, "VEXIL_KEY": key},
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        check=False,
    )
    assert finished.returncode == 0, finished.stdout + finished.stderr
    return json.loads(finished.stdout.strip().splitlines()[-1])


def test_node_provider__each_type_and_missing_flag(
    node: str, server: LiveServer, served_flags: Flags
) -> None:
    # When
    results = _resolve(node, server, served_flags.client_key)
    # Then
    assert results["boolean"] == {
        "value": True, "reason": "STATIC", "variant": "enabled", "errorCode": None,
    }  # fmt: skip
    assert results["string"]["value"] == "Hello"
    assert results["integer"]["value"] == 10
    assert results["float"]["value"] == 2.5
    assert results["object"]["value"] == {"currency": "EUR", "steps": 3}
    assert (results["disabled"]["value"], results["disabled"]["reason"]) == (False, "DISABLED")
    assert results["missing"] == {
        "value": "fallback", "reason": "ERROR", "variant": None, "errorCode": "FLAG_NOT_FOUND",
    }  # fmt: skip
    assert results["targeted"]["value"] == "Welcome back, power user!"
    assert results["targeted"]["reason"] == "TARGETING_MATCH"
    assert results["split"]["value"] in ("green", "red")
    assert results["split"]["reason"] == "SPLIT"
