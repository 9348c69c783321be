"""How many identities a minute does ``vexil import-flagsmith --identities`` import?

    .venv/bin/python bench/importer.py                          # 5,000 identities, SQLite
    .venv/bin/python bench/importer.py --identities 1000 5000 --source-workers 2
    .venv/bin/python bench/importer.py --database-url postgres://user@127.0.0.1:5432/empty_db
    .venv/bin/python bench/importer.py --identities 2000 --profile /tmp/import.prof

The source is a second Vexil (``vexil serve`` on a loopback port, its own SQLite database in a
temporary directory), which serves Flagsmith's admin API shapes: ``vexil bootstrap`` makes its
organisation, project and two environments; three features; then, in each environment, N
identities with three traits each (bulk-inserted in the source's own database, through
``vexil manage shell``) and an identity override on every tenth identity. The import runs in
this process into an empty database (SQLite in a temporary directory, or ``--database-url``):
``import_flagsmith --identities --no-verify``, run twice (the second run finds everything
unchanged). Reported per size: identities imported (both environments), seconds and
identities a minute for the first and the second run, the CPU time of this process (the
importer: its reads' HTTP and JSON, and its writes) per identity, which the source's speed and
other work on a shared machine do not inflate, and the requests made to the source.
Markdown on stdout; figures recorded in docs/performance.md. Only loopback is used.
"""

from __future__ import annotations

import argparse
import atexit
import cProfile
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

SEED_SCRIPT = """
from vexil.audit.services import Actor
from vexil.environments.models import Environment
from vexil.features.models import Feature
from vexil.features.services import feature_create
from vexil.features.services.identity_overrides import identity_override_create
from vexil.identities.services import identities_bulk_create
from vexil.projects.models import Project
from vexil.users.models import User

owner = User.objects.get(email="source@example.com")
actor = Actor(user=owner)
project = Project.objects.get()
limit = feature_create(project=project, name="max_items", initial_value=25, actor=actor)
feature_create(project=project, name="banner_text", initial_value="Hello", actor=actor)
feature_create(project=project, name="dark_mode", default_enabled=True, actor=actor)
for environment in Environment.objects.filter(project=project):
    for start in range(0, {count}, 1000):
        rows = identities_bulk_create(
            environment=environment,
            identities={{
                f"user{{n}}": {{"orders": n, "plan": "premium" if n % 4 == 0 else "free",
                              "score": n / 7}}
                for n in range(start, min({count}, start + 1000))
            }},
            actor=actor,
        )
        for identity in rows[::10]:
            identity_override_create(
                feature=limit, identity_id=identity.pk, environment=environment,
                actor=actor, enabled=True, value=100,
            )
"""


@dataclass(frozen=True)
class Figure:
    identities: int
    requests: int
    seconds: float
    cpu_seconds: float
    again_seconds: float

    @property
    def per_minute(self) -> float:
        return self.identities / self.seconds * 60

    @property
    def again_per_minute(self) -> float:
        return self.identities / self.again_seconds * 60


def _setup(database_url: str | None) -> None:
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret")
    data = tempfile.mkdtemp(prefix="vexil-bench-importer-")
    atexit.register(shutil.rmtree, data, ignore_errors=True)
    os.environ["VEXIL_DATA_DIR"] = data
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vexil.settings")
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    import django

    django.setup()


def _reset_target() -> None:
    from django.core.management import call_command

    from vexil.users.models import User

    call_command("flush", "--no-input", verbosity=0)
    call_command("migrate", verbosity=0)
    User.objects.create_superuser(email="owner@example.com", password=None)


@contextmanager
def _source(count: int, workers: int) -> Iterator[tuple[str, str]]:
    """A seeded source server: its URL and a user's token."""
    from tests.processes import (
        free_port,
        http_get,
        run_vexil,
        running,
        vexil_command,
        vexil_environment,
        wait_for,
    )

    with tempfile.TemporaryDirectory(prefix="vexil-bench-importer-source-") as name:
        directory = Path(name)
        env = vexil_environment(VEXIL_DATA_DIR=str(directory / "data"))
        _check(run_vexil("migrate", "-v", "0", env=env, timeout=300))
        boot = _check(run_vexil("bootstrap", "--email", "source@example.com", "--json", env=env))
        password = json.loads(boot.stdout.splitlines()[0])["user"]["password"]
        seed = SEED_SCRIPT.format(count=count)
        _check(run_vexil("manage", "shell", "-c", seed, env=env, timeout=1800))
        port = free_port()
        command = vexil_command(
            "serve", "--port", str(port), "--workers", str(workers), "--no-migrate"
        )
        with running(command, env=env, output=directory / "server.log") as process:
            url = f"http://127.0.0.1:{port}"
            wait_for(
                lambda: http_get(url + "/health/liveness/"),
                timeout=60,
                what="the source server",
                process=process,
            )
            yield url, _login(url, password)


def _check(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, result.stderr
    return result


def _login(url: str, password: str) -> str:
    import urllib.request

    request = urllib.request.Request(  # noqa: S310 (a loopback URL this script made)
        f"{url}/api/v1/auth/login/",
        data=json.dumps({"email": "source@example.com", "password": password}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        return str(json.loads(response.read())["key"])


def _import(
    url: str, token: str, concurrency: int, profile: str | None
) -> tuple[dict[str, Any], float, float]:
    from django.core.management import call_command

    out = io.StringIO()
    args = ["--url", url, "--token", token, "--allow-network", "127.0.0.0/8"]
    args += ["--identities", "--concurrency", str(concurrency), "--no-verify", "--json"]
    profiler = cProfile.Profile() if profile else None
    started, cpu_started = time.perf_counter(), time.process_time()
    if profiler:
        profiler.enable()
    try:
        call_command("import_flagsmith", *args, stdout=out, verbosity=0)
    except SystemExit as exit_:
        raise AssertionError(f"the import failed: {out.getvalue()}") from exit_
    finally:
        if profiler:
            profiler.disable()
            profiler.dump_stats(profile or "")
    seconds = time.perf_counter() - started
    return json.loads(out.getvalue()), seconds, time.process_time() - cpu_started


_REQUESTS = [0]


def _count_requests() -> None:
    """Count the requests every FlagsmithSource makes (the command makes its own source)."""
    from vexil.importer.source import FlagsmithSource

    call = FlagsmithSource._call

    def counted(self: FlagsmithSource, *args: Any, **kwargs: Any) -> Any:
        _REQUESTS[0] += 1
        return call(self, *args, **kwargs)

    FlagsmithSource._call = counted  # type: ignore[method-assign]


def _requests_made() -> int:
    return _REQUESTS[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--identities", type=int, nargs="+", default=[5000], metavar="N")
    parser.add_argument("--source-workers", type=int, default=1)
    parser.add_argument("--concurrency", type=int, default=8, help="the import's --concurrency")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--profile", default=None, help="write a cProfile of the first import")
    args = parser.parse_args(argv)
    _setup(args.database_url)
    _count_requests()
    figures: list[Figure] = []
    for count in args.identities:
        _reset_target()
        with _source(count, args.source_workers) as (url, token):
            before = _requests_made()
            report, seconds, cpu_seconds = _import(url, token, args.concurrency, args.profile)
            requests = _requests_made() - before
            again, again_seconds, _ = _import(url, token, args.concurrency, None)
        counts = report["counts"]["identity"]
        assert counts["created"] == 2 * count, counts
        assert again["counts"]["identity"]["unchanged"] == 2 * count
        figures.append(Figure(2 * count, requests, seconds, cpu_seconds, again_seconds))
        print(f"... {count} identities per environment done", file=sys.stderr)
    print(
        "| identities (2 environments) | source workers | requests to the source | first run "
        "| identities/min | importer CPU per identity | second run (unchanged) | identities/min |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for f in figures:
        print(
            f"| {f.identities:,} | {args.source_workers} | {f.requests:,} | {f.seconds:.1f} s "
            f"| {f.per_minute:,.0f} | {f.cpu_seconds / f.identities * 1000:.1f} ms "
            f"| {f.again_seconds:.1f} s | {f.again_per_minute:,.0f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
