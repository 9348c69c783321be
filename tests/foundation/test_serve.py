"""`vexil serve` end to end: the production server in a subprocess, as an operator starts it."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import django.contrib.admin
import pytest

from tests.processes import (
    free_port,
    http_get,
    read_text,
    run_vexil,
    running,
    stop,
    vexil_command,
    vexil_environment,
    wait_for,
)

START_TIMEOUT = 60


@dataclass(frozen=True)
class Server:
    url: str
    stdout: Path
    stderr: Path
    process: subprocess.Popen[bytes]

    def get(self, path: str) -> tuple[int, bytes]:
        result = http_get(self.url + path)
        assert result is not None, f"nothing answered {path}"
        return result

    def post_json(self, path: str, body: object) -> tuple[int, dict[str, object]]:
        request = urllib.request.Request(
            self.url + path,
            data=json.dumps(body).encode(),
            method="POST",
            headers={"Content-Type": "application/json", "Accept": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())


@contextmanager
def serving(directory: Path, **environment: str) -> Iterator[Server]:
    """``vexil serve`` on a free loopback port and a new data directory, until the block ends."""
    port = free_port()
    stdout, stderr = directory / "stdout.log", directory / "stderr.log"
    env = vexil_environment(VEXIL_DATA_DIR=str(directory / "data"), **environment)
    command = vexil_command("serve", "--port", str(port), "--workers", "1")
    with running(command, env=env, output=stdout, errors=stderr) as process:
        server = Server(f"http://127.0.0.1:{port}", stdout, stderr, process)
        try:
            wait_for(
                lambda: http_get(server.url + "/health/liveness/"),
                timeout=START_TIMEOUT,
                what="/health/liveness/ to answer",
                process=process,
            )
        except AssertionError as error:
            raise AssertionError(f"{error}\n{read_text(stderr)}") from None
        yield server


@pytest.fixture(scope="module")
def embedded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The embedded default (SQLite, in-process cache), with an access log file."""
    directory = tmp_path_factory.mktemp("serve")
    with serving(directory, ACCESS_LOG_LOCATION=str(directory / "access.log")) as server:
        yield server


def test_serve__started__liveness_ok(embedded: Server) -> None:
    assert embedded.get("/health/liveness/") == (200, b'{"status": "ok"}')


def test_serve__request_with_body__reaches_django(embedded: Server) -> None:
    # Regression: granian's receive() is not a coroutine and a2wsgi required one, so every
    # request with a body answered 500 ("A coroutine object is required").
    status, body = embedded.post_json(
        "/api/v1/auth/login/", {"email": "nobody@example.com", "password": "wrong password"}
    )
    assert status == 400
    assert body["non_field_errors"] == ["Unable to log in with the provided credentials."]


def test_serve__embedded_default__ready_on_sqlite_and_local_cache(embedded: Server) -> None:
    status, body = embedded.get("/health/readiness/")
    assert status == 200
    assert json.loads(body) == {
        "status": "ok",
        "checks": {
            "database": {"status": "ok"},
            "cache": {"status": "ok"},
            "sdk_view": {"status": "ok"},
        },
        "database": "sqlite",
        "cache": "in-process",
    }


def test_serve__fresh_install__prints_url_and_setup_token(embedded: Server) -> None:
    stdout = embedded.stdout.read_text()
    assert f"Vexil {_version()} on {embedded.url}\n" in stdout
    token = re.search(r"with the one-time setup token (\S+)\n", stdout)
    assert token, stdout
    assert len(token[1]) == 32


def test_serve__static_files__served_from_collected_static(embedded: Server) -> None:
    shipped = Path(django.contrib.admin.__file__).parent / "static/admin/css/base.css"
    assert embedded.get("/static/admin/css/base.css") == (200, shipped.read_bytes())


def test_serve__access_log_location__requests_logged(embedded: Server) -> None:
    # When
    assert embedded.get("/access-log-probe/")[0] == 404
    # Then
    access_log = embedded.stdout.parent / "access.log"
    line = wait_for(
        lambda: next(
            (line for line in read_text(access_log).splitlines() if "access-log-probe" in line),
            None,
        ),
        timeout=10,
        what="the request in the access log",
    )
    assert '127.0.0.1 - "GET /access-log-probe/ HTTP/1.1" 404' in line


@pytest.mark.redis
def test_serve__postgres_and_redis__ready_and_stops_cleanly(
    scratch_postgres_url: str, redis_url: str, tmp_path: Path
) -> None:
    with serving(tmp_path, DATABASE_URL=scratch_postgres_url, REDIS_URL=redis_url) as server:
        status, body = server.get("/health/readiness/")
        assert (status, json.loads(body)) == (
            200,
            {
                "status": "ok",
                "checks": {
                    "database": {"status": "ok"},
                    "cache": {"status": "ok"},
                    "sdk_view": {"status": "ok"},
                },
                "database": "postgresql",
                "cache": "redis",
            },
        )
        assert stop(server.process) == 0, server.stderr.read_text()


def _version() -> str:
    from vexil import __version__

    return __version__


def test_serve__port_taken_by_another_server__exits_at_once_naming_port(
    embedded: Server, tmp_path: Path
) -> None:
    # Given: `embedded` listens on its port; a second install with its own data directory
    port = embedded.url.rsplit(":", 1)[1]
    env = vexil_environment(VEXIL_DATA_DIR=str(tmp_path / "other-data"))
    # When
    result = run_vexil("serve", "--port", port, "--workers", "1", env=env, timeout=START_TIMEOUT)
    # Then: it refuses before touching its database, and the first server is unaffected
    assert result.returncode != 0
    assert f"cannot listen on 127.0.0.1 port {port}: address already in use" in result.stderr
    assert "Listening at" not in result.stdout + result.stderr
    assert not (tmp_path / "other-data" / "vexil.sqlite3").exists()
    assert embedded.get("/health/liveness/")[0] == 200


def test_serve__port_held_by_unrelated_listener__refused(tmp_path: Path) -> None:
    # Given: something else (not granian, no SO_REUSEPORT) listens on the port
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = str(other.getsockname()[1])
        env = vexil_environment(VEXIL_DATA_DIR=str(tmp_path / "data"))
        # When
        result = run_vexil("serve", "--port", port, env=env, timeout=START_TIMEOUT)
    # Then
    assert result.returncode != 0
    assert f"port {port}: address already in use" in result.stderr
