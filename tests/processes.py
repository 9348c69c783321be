"""Helpers for tests that run Vexil in a separate process (`vexil serve`, `vexil worker`, ...).

Every wait is bounded, every process started is terminated, and nothing listens beyond loopback.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar
from urllib.parse import quote

from django.db import connection

T = TypeVar("T")

# Variables that choose Vexil's services; a child process gets only the ones a test passes.
_SERVICE_VARIABLES = ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "ACCESS_LOG_LOCATION")
_SERVICE_PREFIXES = ("DJANGO_DB_", "EMAIL_", "VEXIL_PORT", "VEXIL_HOST", "VEXIL_WORKERS")


def vexil_environment(**overrides: str) -> dict[str, str]:
    """This process's environment without its service choices, plus ``overrides``."""
    base = {
        name: value
        for name, value in os.environ.items()
        if name not in _SERVICE_VARIABLES and not name.startswith(_SERVICE_PREFIXES)
    }
    return {**base, **overrides}


def vexil_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "vexil.cli", *args]


def run_vexil(
    *args: str, env: dict[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        vexil_command(*args), env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


@contextmanager
def running(
    args: list[str], *, env: dict[str, str], output: Path, errors: Path | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``args`` in the background with its output in files; always stop it.

    stderr goes to ``errors`` when given, else into ``output`` with stdout.
    """
    with contextlib.ExitStack() as files:
        out = files.enter_context(output.open("wb"))
        err = files.enter_context(errors.open("wb")) if errors else subprocess.STDOUT
        process = subprocess.Popen(
            args,
            env=env,
            stdout=out,
            stderr=err,
            start_new_session=True,  # its own process group, so its children can be stopped too
        )
        try:
            yield process
        finally:
            stop(process)


def stop(process: subprocess.Popen[bytes], timeout: float = 10) -> int:
    """SIGTERM the process and wait; SIGKILL its process group if it does not exit in time.

    Returns the exit status. Children it leaves behind are killed either way.
    """
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=timeout)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    return process.returncode


def wait_for(
    probe: Callable[[], T | None],
    *,
    timeout: float,
    what: str,
    process: subprocess.Popen[bytes] | None = None,
) -> T:
    """Call ``probe`` until it returns something other than None; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = probe()
        if result is not None:
            return result
        if process is not None and process.poll() is not None:
            raise AssertionError(f"the process exited ({process.returncode}) before {what}")
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def http_get(url: str, timeout: float = 5) -> tuple[int, bytes] | None:
    """Status and body of a GET, or None while nothing answers on the port."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return None


def shared_database_url() -> str:
    """A DATABASE_URL for the database this test run uses (pytest-django's test database)."""
    database = connection.settings_dict
    if database["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{database['NAME']}"
    credentials = quote(str(database["USER"] or ""), safe="")
    if database["PASSWORD"]:
        credentials += ":" + quote(str(database["PASSWORD"]), safe="")
    port = f":{database['PORT']}" if database["PORT"] else ""
    return f"postgres://{credentials}@{database['HOST']}{port}/{database['NAME']}"


def read_text(path: Path) -> str:
    return path.read_text() if path.exists() else ""
