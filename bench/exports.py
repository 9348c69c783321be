"""Does an audit-log export stay in constant memory as it grows? One run, in process.

    .venv/bin/python bench/exports.py                       # 10,000 and 100,000 rows, SQLite
    .venv/bin/python bench/exports.py --rows 1000 10000 100000
    .venv/bin/python bench/exports.py --database-url postgres://user@127.0.0.1:5432/empty_db

For each size: seed that many audit rows (bulk inserts) in a fresh database, then request
``GET /api/v1/organisations/{id}/audit/?format=csv`` and ``?format=xlsx`` as the organisation's
admin through Django's full request cycle, consuming the streamed body chunk by chunk without
keeping it. Reported: rows, bytes of the download, seconds (wall clock, and the CPU time of this
process, which other work on a shared machine does not inflate), and the **peak Python memory
allocated while the export ran** (tracemalloc, from just before the request to the last chunk).
A constant-memory export shows the same peak at every size. Markdown on stdout; the figures are
recorded in docs/performance.md. Nothing listens on any port.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

BATCH = 5000


@dataclass(frozen=True)
class Figure:
    rows: int
    fmt: str
    size: int
    seconds: float
    cpu_seconds: float
    peak_bytes: int


def _setup(database_url: str | None) -> None:
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret")
    os.environ["VEXIL_DATA_DIR"] = tempfile.mkdtemp(prefix="vexil-bench-exports-")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vexil.settings")
    os.environ["DJANGO_ALLOWED_HOSTS"] = "testserver"
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    import django

    django.setup()


def _reset_database() -> None:
    from django.core.management import call_command

    call_command("flush", "--no-input", verbosity=0)
    call_command("migrate", verbosity=0)


@contextmanager
def _peak_memory() -> Iterator[dict[str, float]]:
    result: dict[str, float] = {}
    tracemalloc.start()
    tracemalloc.reset_peak()
    try:
        yield result
    finally:
        result["peak"] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()


def _seed(rows: int) -> tuple[str, int]:
    from vexil.audit.models import AuditAction, AuditLog
    from vexil.audit.services import Actor
    from vexil.environments.services import environment_create
    from vexil.organisations.services import organisation_create
    from vexil.projects.services import project_create
    from vexil.users.models import User
    from vexil.users.services import auth_token_issue

    admin = User.objects.create_user(email="bench@example.com", password=None)
    actor = Actor(user=admin)
    organisation = organisation_create(name="Bench", creator=admin, actor=actor)
    project = project_create(organisation=organisation, name="Shop", actor=actor)
    environment = environment_create(project=project, name="Production", actor=actor)
    for start in range(0, rows, BATCH):
        AuditLog.objects.bulk_create(
            AuditLog(
                organisation=organisation,
                project=project,
                environment=environment,
                author=admin,
                action=AuditAction.UPDATE,
                resource_type="feature_state",
                resource_id=str(index),
                log=f"Feature state of 'feature_{index % 500}' in 'Production' updated",
                before={"enabled": False},
                after={"enabled": True},
            )
            for index in range(start, min(rows, start + BATCH))
        )
    return auth_token_issue(user=admin), organisation.pk


def _download(token: str, url: str) -> int:
    from django.test import Client

    response = Client(HTTP_AUTHORIZATION=f"Token {token}").get(url)
    assert response.status_code == 200, response.status_code
    size = 0
    for chunk in response.streaming_content:  # type: ignore[attr-defined]
        size += len(chunk)  # counted, not kept
    return size


def _export(token: str, organisation_id: int, fmt: str, rows: int) -> Figure:
    """Time one download, then measure the peak memory of another (tracemalloc slows it)."""
    url = f"/api/v1/organisations/{organisation_id}/audit/?format={fmt}"
    started, cpu_started = time.perf_counter(), time.process_time()
    size = _download(token, url)
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu_started
    with _peak_memory() as measured:
        _download(token, url)
    return Figure(rows, fmt, size, seconds, cpu_seconds, int(measured["peak"]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args(argv)
    _setup(args.database_url)
    figures: list[Figure] = []
    for rows in args.rows:
        _reset_database()
        token, organisation_id = _seed(rows)
        _download(token, f"/api/v1/organisations/{organisation_id}/audit/?format=csv&page_size=1")
        for fmt in ("csv", "xlsx"):
            figures.append(_export(token, organisation_id, fmt, rows))
            print(f"... {rows} rows {fmt} done", file=sys.stderr)
    print(
        "| audit rows | format | download | seconds | CPU seconds "
        "| peak Python memory during the export |"
    )
    print("|---:|---|---:|---:|---:|---:|")
    for f in figures:
        print(
            f"| {f.rows:,} | {f.fmt} | {f.size / 1e6:.1f} MB | {f.seconds:.1f} "
            f"| {f.cpu_seconds:.1f} | {f.peak_bytes / 1e6:.2f} MB |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
