"""Redis stopped and started under SDK traffic: the SDK endpoints never need it (flags and
identities are served from process memory and the database), readiness names the cache while it
is down and is ready again once it is back."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.processes import free_port, http_get, running, vexil_command, vexil_environment, wait_for
from tests.resilience.conftest import ROOT, START_TIMEOUT, call, world


class ScratchRedis:
    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.directory = directory
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None
        self.start()

    def start(self) -> None:
        command = [
            "redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "no", "--dir", str(self.directory),
        ]  # fmt: skip
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        wait_for(lambda: True if _answers(self.port) else None, timeout=10, what="redis")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


def _answers(port: int) -> bool:
    import socket

    try:
        with socket.create_connection(("127.0.0.1", port), 0.2) as probe:
            probe.sendall(b"PING\r\n")
            return probe.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@pytest.fixture
def redis_and_server(tmp_path: Path) -> Iterator[tuple[ScratchRedis, str, dict[str, str]]]:
    if os.environ.get("DATABASE_URL", "").startswith("postgres"):
        pytest.skip("runs in the SQLite pass (a server on its own data directory)")
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (scripts/services.sh installs it)")
    redis = ScratchRedis(tmp_path)
    try:
        env = vexil_environment(
            VEXIL_DATA_DIR=str(tmp_path / "data"), REDIS_URL=redis.url, PYTHONPATH=str(ROOT)
        )
        subprocess.run(
            vexil_command("migrate", "--verbosity", "0"), env=env, check=True, timeout=300, cwd=ROOT
        )
        keys = json.loads(world(env, "seed"))
        port = free_port()
        command = vexil_command("serve", "--port", str(port), "--workers", "2", "--no-migrate")
        with running(command, env=env, output=tmp_path / "server.log") as process:
            url = f"http://127.0.0.1:{port}"
            wait_for(
                lambda: http_get(url + "/health/liveness/"),
                timeout=START_TIMEOUT,
                what="/health/liveness/ to answer",
                process=process,
            )
            yield redis, url, keys
    finally:
        redis.stop()


def test_redis_outage__sdk_keeps_serving_readiness_names_the_cache(
    redis_and_server: tuple[ScratchRedis, str, dict[str, str]],
) -> None:
    redis, url, keys = redis_and_server
    identity = {"identifier": "bob", "traits": [{"trait_key": "plan", "trait_value": "pro"}]}

    def sdk_statuses() -> set[int]:
        flags = [call(url + "/api/v1/flags/", key=keys["client_key"]) for _ in range(10)]
        identities = [
            call(url + "/api/v1/identities/", method="POST", key=keys["server_key"], body=identity)
            for _ in range(10)
        ]
        return {reply.status for reply in [*flags, *identities]}

    assert sdk_statuses() == {200}
    # When
    redis.stop()
    try:
        during = sdk_statuses()
        readiness = call(url + "/health/readiness/")
    finally:
        redis.start()
    # Then
    assert during == {200}
    assert readiness.status == 503
    assert readiness.body["checks"]["cache"]["status"] == "error"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and call(url + "/health/readiness/").status != 200:
        time.sleep(0.1)
    assert call(url + "/health/readiness/").status == 200
    assert sdk_statuses() == {200}
