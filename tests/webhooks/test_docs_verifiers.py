"""The signature verifiers docs/webhooks.md gives receivers, in Python and in Node, run as written
against a real delivery caught on 127.0.0.1: they accept it, and refuse it once tampered with."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.webhooks.conftest import Received, Receiver, deliver_all
from vexil.audit.services import Actor
from vexil.environments.models import Environment
from vexil.features.models import FeatureState
from vexil.features.services import feature_state_update
from vexil.organisations.models import Organisation
from vexil.webhooks import services

pytestmark = pytest.mark.usefixtures("allow_loopback")

DOC = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"
# The doc's placeholder secret, used as the webhook's real one so its code runs unchanged.
DOC_SECRET = "the secret shown when the webhook was created"
# The header names as a receiver's framework hands them over (the doc's Python uses these).
HEADER_NAMES = (
    "X-Flagsmith-Signature",
    "X-Vexil-Event-Id",
    "X-Vexil-Timestamp",
    "X-Vexil-Signature",
)


def _block(language: str) -> str:
    """The one fenced ``language`` block of the "Headers and signatures" section."""
    section = DOC.read_text().split("## Headers and signatures", 1)[1].split("\n## ", 1)[0]
    [code] = re.findall(rf"```{language}\n(.*?)```", section, flags=re.DOTALL)
    return str(code)


@pytest.fixture
def delivered(
    organisation: Organisation,
    environment: Environment,
    receiver: Receiver,
    feature_state: FeatureState,
    actor: Actor,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> Received:
    services.webhook_create(
        organisation=organisation, environment=environment, url=receiver.url(), secret=DOC_SECRET
    )
    with django_capture_on_commit_callbacks(execute=True):
        feature_state_update(feature_state=feature_state, actor=actor, enabled=True)
    deliver_all()
    [request] = receiver.requests
    return request


def _headers(request: Received) -> dict[str, str]:
    return {name: request.headers[name.lower()] for name in HEADER_NAMES}


def test_python_verifiers__real_delivery__accepted_tampered_refused(delivered: Received) -> None:
    namespace: dict[str, Any] = {}
    exec(compile(_block("python"), str(DOC), "exec"), namespace)  # noqa: S102 (the doc's code)
    headers = _headers(delivered)
    tampered = delivered.body.replace(b'"enabled": true', b'"enabled": false')
    assert tampered != delivered.body

    assert namespace["flagsmith_compatible"](delivered.body, headers) is True
    assert namespace["vexil_verified"](delivered.body, headers) is True
    assert namespace["flagsmith_compatible"](tampered, headers) is False
    assert namespace["vexil_verified"](tampered, headers) is False
    replayed_later = {**headers, "X-Vexil-Timestamp": str(int(headers["X-Vexil-Timestamp"]) - 600)}
    assert namespace["vexil_verified"](delivered.body, replayed_later) is False


NODE_CHECK = """
const { flagsmithCompatible, vexilVerified } = require(process.argv[2]);
const fs = require("node:fs");
const body = fs.readFileSync(process.argv[3]);
const headers = JSON.parse(fs.readFileSync(process.argv[4], "utf8"));
const tampered = Buffer.from(body.toString().replace('"enabled": true', '"enabled": false'));
console.log(JSON.stringify([
  flagsmithCompatible(body, headers), vexilVerified(body, headers),
  flagsmithCompatible(tampered, headers), vexilVerified(tampered, headers),
]));
"""


def test_node_verifiers__real_delivery__accepted_tampered_refused(
    delivered: Received, tmp_path: Path
) -> None:
    node = shutil.which("node")
    if node is None:
        message = "node is not installed (apt-get install -y nodejs)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    (tmp_path / "verify.js").write_text(_block("javascript"))
    (tmp_path / "check.js").write_text(NODE_CHECK)
    (tmp_path / "body").write_bytes(delivered.body)
    # Node's http module hands headers over lower-cased, as the doc's code reads them.
    lowered = {name.lower(): value for name, value in _headers(delivered).items()}
    (tmp_path / "headers.json").write_text(json.dumps(lowered))

    finished = subprocess.run(
        [node, "check.js", "./verify.js", "body", "headers.json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert finished.returncode == 0, finished.stderr
    assert json.loads(finished.stdout) == [True, True, False, False]
