"""A PostgreSQL cluster of a test's (or a benchmark's) own, on a free loopback port, that it may
stop and start at will: stopping the shared test cluster would break every other test.

Run as root (CI), the cluster belongs to the ``postgres`` system user, as in scripts/services.sh.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path


def postgres_bin() -> Path | None:
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]))
    return Path(versions[-1]) if versions else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class ScratchCluster:
    """``initdb`` in a new directory; ``start()``/``stop()`` as often as wanted; ``remove()``."""

    def __init__(self) -> None:
        binaries = postgres_bin()
        if binaries is None:
            raise RuntimeError("PostgreSQL binaries not found (scripts/services.sh installs them)")
        self._bin = binaries
        self.directory = Path(tempfile.mkdtemp(prefix="vexil-scratch-pg."))
        self.directory.chmod(0o755)
        self._as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self._as:
            shutil.chown(self.directory, "postgres")
        self.port = _free_port()
        self.data = self.directory / "pg"
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8")
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/vexil"
        try:
            self.start()
            self._psql("CREATE DATABASE vexil")
        except BaseException:
            self.remove()  # never leave a server behind
            raise

    def _run(self, program: str, *args: str) -> None:
        subprocess.run(
            [*self._as, str(self._bin / program), *args],
            check=True,
            capture_output=True,
            timeout=120,
        )

    def _psql(self, statement: str) -> None:
        import psycopg

        server = f"postgres://postgres@127.0.0.1:{self.port}/postgres"
        with psycopg.connect(server, autocommit=True, connect_timeout=10) as admin:
            admin.execute(statement.encode())

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=100"
        )
        log = str(self.data / "server.log")
        self._run("pg_ctl", "-D", str(self.data), "-l", log, "-o", options, "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        """``fast``: what a restart or a failover does to the clients (their connections end)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def accepting(self) -> bool:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), 0.2):
            return True
        return False

    def remove(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError, subprocess.TimeoutExpired):
            self.stop("immediate")
        shutil.rmtree(self.directory, ignore_errors=True)
