"""A worker SIGKILLed again and again (what the OOM killer does) while SDK writes go on: the
server keeps answering with the other worker, respawns the dead one every time, and every write
it acknowledged is stored (issue 10, item 5). granian alone exited after two deaths in 5.5 s."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

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
from tests.resilience.conftest import ROOT, START_TIMEOUT, call, world

KILLS = 3


def _workers(leader: int) -> list[int]:
    """The server's worker processes: its children, without multiprocessing's helpers."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if parent == leader and b"resource_tracker" not in command:
            found.append(int(entry.name))
    return sorted(found)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, str, subprocess.Popen[bytes], Path]]:
    if os.environ.get("DATABASE_URL", "").startswith("postgres"):
        pytest.skip("runs in the SQLite pass (a server on its own data directory)")
    env = vexil_environment(VEXIL_DATA_DIR=str(tmp_path / "data"), PYTHONPATH=str(ROOT))
    subprocess.run(
        vexil_command("migrate", "--verbosity", "0"), env=env, check=True, timeout=300, cwd=ROOT
    )
    keys = json.loads(world(env, "seed"))
    port, log = free_port(), tmp_path / "server.log"
    command = vexil_command("serve", "--port", str(port), "--workers", "2", "--no-migrate")
    with running(command, env=env, output=log) as process:
        url = f"http://127.0.0.1:{port}"
        wait_for(
            lambda: http_get(url + "/health/liveness/"),
            timeout=START_TIMEOUT,
            what="/health/liveness/ to answer",
            process=process,
        )
        wait_for(
            lambda: True if len(_workers(process.pid)) == 2 else None,
            timeout=START_TIMEOUT,
            what="two workers",
            process=process,
        )
        yield url, keys["server_key"], process, log


def _write(url: str, key: str, index: int) -> bool:
    body = {"identifier": f"user-{index}", "traits": [{"trait_key": "n", "trait_value": index}]}
    try:
        reply = call(url + "/api/v1/identities/", method="POST", key=key, body=body)
    except OSError:
        return False  # not acknowledged: the worker died with the request
    return reply.status == 200


def test_worker_sigkill__repeatedly__server_stays_up_and_keeps_acknowledged_writes(
    server: tuple[str, str, subprocess.Popen[bytes], Path],
) -> None:
    url, key, process, log = server
    acknowledged: list[int] = []
    index = 0
    for _ in range(KILLS):
        # Given: writes acknowledged by the server
        for _ in range(5):
            if _write(url, key, index):
                acknowledged.append(index)
            index += 1
        # When: the newest worker (the one respawned last) is killed, seconds after it started
        before = _workers(process.pid)
        os.kill(max(before), signal.SIGKILL)
        # Then: the server still answers, at once (the other worker; a connection the dead one
        # had taken is reset) and after the respawn
        wait_for(lambda: http_get(url + "/health/liveness/"), timeout=2, what="an answer")
        wait_for(
            lambda before=before: (
                True  # type: ignore[misc]
                if len(_workers(process.pid)) == 2 and _workers(process.pid) != before
                else None
            ),
            timeout=30,
            what="the killed worker to be respawned",
            process=process,
        )
    time.sleep(0.5)
    assert process.poll() is None, read_text(log)[-3000:]
    assert call(url + "/health/liveness/").status == 200
    assert "exited unexpectedly" in read_text(log)
    assert "crash loop detected" not in read_text(log)
    # every acknowledged write is stored
    assert len(acknowledged) >= KILLS * 5 - KILLS
    for number in acknowledged:
        reply = call(url + f"/api/v1/identities/?identifier=user-{number}", key=key)
        assert reply.status == 200
        assert reply.body["traits"][0]["trait_value"] == number
