"""Real servers under real faults (issue 10): a scratch PostgreSQL cluster the test stops and
starts, ``vexil serve`` with two workers, worker processes killed. Outages here last seconds; the
long ones are in bench/outage.py (docs/reliability.md)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.processes import (
    free_port,
    http_get,
    read_text,
    running,
    vexil_command,
    vexil_environment,
    wait_for,
)
from tests.resilience.cluster import ScratchCluster, postgres_bin

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 90
REFRESH_SECONDS = 0.2
MAX_STALENESS_SECONDS = 2
HEARTBEAT_SECONDS = 0.5  # of the real-time streams: an idle stream says ": keep-alive" this often
ANALYTICS_FLUSH_SECONDS = 0.5  # each worker writes its buffered evaluation counts this often


def _in_postgres_pass() -> bool:
    return os.environ.get("DATABASE_URL", "").startswith("postgres")


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: Any
    seconds: float


def call(url: str, *, method: str = "GET", key: str = "", body: object = None) -> Reply:
    """One request on a new connection (so the kernel spreads them over the workers)."""
    data = None if body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json", "X-Environment-Key": key}
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            status, raw, got = response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as error:
        status, raw, got = error.code, error.read(), dict(error.headers)
    seconds = time.monotonic() - started
    decoded = json.loads(raw) if raw else None
    return Reply(status, {k.lower(): v for k, v in got.items()}, decoded, seconds)


@dataclass
class Served:
    url: str
    log: Path
    client_key: str
    server_key: str
    env: dict[str, str]

    def flags(self) -> Reply:
        return call(self.url + "/api/v1/flags/", key=self.client_key)

    def values(self, reply: Reply) -> dict[str, Any]:
        return {flag["feature"]["name"]: flag["feature_state_value"] for flag in reply.body}

    def identify(self, identifier: str) -> Reply:
        body = {"identifier": identifier, "traits": [{"trait_key": "plan", "trait_value": "pro"}]}
        return call(self.url + "/api/v1/identities/", method="POST", key=self.server_key, body=body)

    def set_value(self, feature: str, value: str) -> None:
        world(self.env, "set", feature, value)

    def count(self, feature: str) -> Reply:
        return call(
            self.url + "/api/v1/analytics/flags/",
            method="POST",
            key=self.client_key,
            body={feature: 1},
        )

    def stored_counts(self) -> dict[str, int]:
        counts: dict[str, int] = json.loads(world(self.env, "counts"))
        return counts


def world(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "tests.resilience.world", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def cluster() -> Iterator[ScratchCluster]:
    if not _in_postgres_pass():
        pytest.skip("runs in the PostgreSQL pass of scripts/test (its own scratch cluster)")
    if postgres_bin() is None:
        pytest.skip("PostgreSQL binaries are not installed (scripts/services.sh installs them)")
    scratch = ScratchCluster()
    try:
        yield scratch
    finally:
        scratch.remove()


@pytest.fixture(scope="module")
def served(cluster: ScratchCluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    directory = tmp_path_factory.mktemp("outage")
    env = vexil_environment(
        DATABASE_URL=cluster.url,
        VEXIL_DATA_DIR=str(directory / "data"),
        VEXIL_SDK_REFRESH_SECONDS=str(REFRESH_SECONDS),
        VEXIL_SDK_MAX_STALENESS_SECONDS=str(MAX_STALENESS_SECONDS),
        VEXIL_STREAMS_HEARTBEAT_SECONDS=str(HEARTBEAT_SECONDS),
        VEXIL_ANALYTICS_FLUSH_SECONDS=str(ANALYTICS_FLUSH_SECONDS),
        PYTHONPATH=str(ROOT),
    )
    subprocess.run(
        vexil_command("migrate", "--verbosity", "0"), env=env, check=True, timeout=300, cwd=ROOT
    )
    keys = json.loads(world(env, "seed"))
    port, log = free_port(), directory / "server.log"
    command = vexil_command("serve", "--port", str(port), "--workers", "2", "--no-migrate")
    with running(command, env=env, output=log) as process:
        url = f"http://127.0.0.1:{port}"
        try:
            wait_for(
                lambda: http_get(url + "/health/liveness/"),
                timeout=START_TIMEOUT,
                what="/health/liveness/ to answer",
                process=process,
            )
        except AssertionError as error:
            raise AssertionError(f"{error}\n{read_text(log)}") from None
        yield Served(url, log, keys["client_key"], keys["server_key"], env)
