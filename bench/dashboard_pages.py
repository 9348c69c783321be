"""Benchmark: server time of the dashboard's heaviest lists, the segments page of a project with
500 segments and the audit log of an organisation with 100,000 entries.

One process: a scratch SQLite database (or ``--database-url``, an empty disposable PostgreSQL
database) is migrated and seeded, then each page is requested through Django's full request
cycle (middleware, session, permission checks, template) with its test client, signed in as the
organisation's administrator, and timed from the request to the rendered response. No network:
what is measured is the server's own time per page, the part a faster network cannot hide.

Usage: python bench/dashboard_pages.py [--requests N] [--database-url URL]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from vexil.users.models import User

ROOT = Path(__file__).resolve().parents[1]
SEGMENTS = 500
AUDIT_ROWS = 100_000
AUTHORS = 20
_CHUNK = 5_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=200, help="timed requests per page")
    parser.add_argument("--database-url", help="PostgreSQL URL of an empty, disposable database")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="vexil-bench-dashboard-"))
    try:
        _configure(scratch, args.database_url)
        pages = _seed()
        rows = [(name, _timed(path, query, args.requests)) for name, path, query in pages]
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    database = "PostgreSQL" if args.database_url else "SQLite"
    print(
        f"{database}; {args.requests} requests per page after 20 warm-up requests; "
        f"load average {os.getloadavg()[0]:.1f}.\n"
    )
    print("| page | p50 ms | p95 ms | p50 CPU ms | p95 CPU ms |")
    print("|---|---:|---:|---:|---:|")
    for name, (wall, cpu) in rows:
        print(f"| {name} | {_p(wall, 50)} | {_p(wall, 95)} | {_p(cpu, 50)} | {_p(cpu, 95)} |")


def _p(times: list[float], percentile: int) -> str:
    return f"{statistics.quantiles(times, n=100)[percentile - 1]:.1f}"


def _configure(scratch: Path, database_url: str | None) -> None:
    os.environ.update(
        VEXIL_DATA_DIR=str(scratch),
        DJANGO_SECRET_KEY="bench-only-secret-key-" + "x" * 40,
        DJANGO_SETTINGS_MODULE="vexil.settings",
        LOG_LEVEL="warning",
    )
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    sys.path.insert(0, str(ROOT))
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    if database_url:
        call_command("flush", interactive=False, verbosity=0)


def _seed() -> list[tuple[str, str, dict[str, str]]]:
    """The data and the pages to time: (name, path, query)."""
    from django.db import connection

    from vexil.audit.models import AuditLog
    from vexil.audit.selectors import audit_cursor
    from vexil.audit.services import Actor
    from vexil.environments.services import environment_create
    from vexil.organisations.models import OrganisationRole
    from vexil.organisations.services import organisation_create, organisation_member_add
    from vexil.projects.services import project_create
    from vexil.segments.services import segments_bulk_create
    from vexil.users.models import User

    admin = User.objects.create_user(email="admin@example.com", password="bench-only " * 2)
    actor = Actor(user=admin)
    organisation = organisation_create(name="Bench", creator=admin, actor=actor)
    project = project_create(organisation=organisation, name="Shop", actor=actor)
    environment = environment_create(project=project, name="Production", actor=actor)
    authors = [admin]
    for n in range(1, AUTHORS):
        user = User.objects.create_user(email=f"author{n}@example.com", password="x" * 12)
        organisation_member_add(
            organisation=organisation, user=user, role=OrganisationRole.USER, actor=actor
        )
        authors.append(user)
    rule = {
        "type": "ALL",
        "rules": [
            {
                "type": "ANY",
                "conditions": [{"operator": "EQUAL", "property": "plan", "value": "pro"}],
            }
        ],
    }
    segments_bulk_create(
        project=project,
        specs=[
            {"name": f"segment {n:03}", "description": "bench", "rules": [rule]}
            for n in range(SEGMENTS)
        ],
        actor=actor,
    )
    print(f"seeding {AUDIT_ROWS} audit entries...", file=sys.stderr)
    _seed_audit(organisation.pk, project.pk, environment.pk, authors)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    middle = AuditLog.objects.order_by("-created_date", "-id")[AUDIT_ROWS // 2]
    project_path = f"/projects/{project.pk}"
    audit_path = f"/organisations/{organisation.pk}/audit/"
    return [
        ("segments, page 1 of 10 (500 segments)", f"{project_path}/segments/", {}),
        ("segments, search", f"{project_path}/segments/", {"q": "segment 4"}),
        ("audit log, newest 50 (100,000 entries)", audit_path, {}),
        ("audit log, page at entry 50,000", audit_path, {"before": audit_cursor(middle)}),
        ("audit log, one author", audit_path, {"author": str(authors[7].pk)}),
        ("audit log, one object type", audit_path, {"type": "segment"}),
        (
            "audit log, one week",
            audit_path,
            {"date_from": "2026-02-01", "date_to": "2026-02-07"},
        ),
        (
            "audit log of the environment",
            f"{project_path}/environments/{environment.api_key}/audit/",
            {},
        ),
    ]


def _seed_audit(
    organisation_id: int, project_id: int, environment_id: int, authors: list[User]
) -> None:
    """Entries one minute apart over ~70 days, of several types, authors and scopes."""
    from vexil.audit.models import AuditAction, AuditLog

    created = AuditLog._meta.get_field("created_date")
    created.auto_now_add = False  # the bench sets the dates
    start = datetime(2026, 1, 1, tzinfo=UTC)
    types = ["feature", "feature_state", "segment", "identity", "environment"]
    rows = []
    for n in range(AUDIT_ROWS):
        kind = types[n % len(types)]
        rows.append(
            AuditLog(
                created_date=start + timedelta(minutes=n),
                organisation_id=organisation_id,
                project_id=project_id if n % 4 else None,
                environment_id=environment_id if n % 2 else None,
                author=authors[n % len(authors)],
                action=AuditAction.UPDATE,
                resource_type=kind,
                resource_id=str(n),
                log=f"{kind} {n} updated",
                before={"enabled": False, "value": f"old {n}", "rules": [{"type": "ALL"}]},
                after={"enabled": True, "value": f"new {n}", "rules": [{"type": "ANY"}]},
            )
        )
        if len(rows) == _CHUNK:
            AuditLog.objects.bulk_create(rows)
            rows = []
    AuditLog.objects.bulk_create(rows)
    created.auto_now_add = True


def _timed(path: str, query: dict[str, str], requests: int) -> tuple[list[float], list[float]]:
    """Wall and CPU milliseconds of each request. CPU time is what the server itself spent:
    on a machine shared with other jobs, wall time also counts the time they held the cores."""
    from django.test import Client

    from vexil.users.models import User

    client = Client()
    client.force_login(User.objects.get(email="admin@example.com"))
    for _ in range(20):
        response = client.get(path, query)
        if response.status_code != 200:
            raise SystemExit(f"{path} {query}: {response.status_code}")
    wall, cpu = [], []
    for _ in range(requests):
        started, started_cpu = time.perf_counter(), time.process_time()
        client.get(path, query)
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    return wall, cpu


if __name__ == "__main__":
    main()
