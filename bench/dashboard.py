"""Server time of the dashboard's features page with 1,000 features (issue 11, "Speed"). One run.

    .venv/bin/python bench/dashboard.py                  # SQLite in a temporary directory
    .venv/bin/python bench/dashboard.py --features 1000 --requests 300
    .venv/bin/python bench/dashboard.py --database-url postgres://USER@127.0.0.1:PORT/EMPTY_DB
    .venv/bin/python bench/dashboard.py --database-url ... --analyze   # statistics gathered

Seeds one organisation, a project with Development and Production, ``--features`` features (a
tenth with a tag, a tenth with an owner, a third switched on), then times Django handling each
request in this process (Django's test client: the whole middleware stack, session, CSRF, CSP,
template rendering; no socket). Each variant gets 20 warm-up requests, then ``--requests`` timed
ones; the table gives p50 and p95 of wall time and of this process's CPU time, in milliseconds
(on a shared machine the CPU time is the cost of the request; the wall time adds the wait for a
core). tests/dashboard/test_features.py asserts the query count. With
``--database-url`` the database is migrated and flushed first (it must exist; it is emptied).
By default the tables are timed as freshly seeded, before PostgreSQL has statistics on them (the
worst case for its planner: the queries must be fast without them); ``--analyze`` runs ANALYZE
after seeding first, as autovacuum soon does on a real installation.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WARM_UP = 20


def _configure(database_url: str | None, data_dir: str) -> None:
    os.environ["VEXIL_DATA_DIR"] = data_dir
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret-key")
    os.environ["DJANGO_SETTINGS_MODULE"] = "vexil.settings"
    os.environ["LOG_LEVEL"] = "warning"
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def _seed(features: int) -> tuple[object, str]:
    from vexil.audit.services import Actor
    from vexil.features.models import FeatureState
    from vexil.features.services import features_bulk_create
    from vexil.organisations.services import organisation_create
    from vexil.projects.services import project_create
    from vexil.tags.models import Tag
    from vexil.users.models import User

    owner = User.objects.create_user(email="bench@example.com", password=None)
    actor = Actor(user=owner)
    organisation = organisation_create(name="Bench", creator=owner, actor=actor)
    project = project_create(
        organisation=organisation,
        name="Bench",
        actor=actor,
        environment_names=("Development", "Production"),
    )
    specs = [
        {"name": f"feature_{i:04}", "initial_value": i, "description": f"Feature number {i}"}
        for i in range(features)
    ]
    created = features_bulk_create(project=project, specs=specs, actor=actor)
    tag = Tag.objects.create(project=project, label="checkout")
    for feature in created[::10]:
        feature.tags.add(tag)
    for feature in created[5::10]:
        feature.owners.add(owner)
    production = project.environments.get(name="Production")
    FeatureState.objects.filter(environment=production, feature__in=created[::3]).update(
        enabled=True
    )
    return owner, f"/projects/{project.pk}/environments/{production.api_key}/features/"


def _time(
    client: object, url: str, params: dict[str, str], headers: dict[str, str], n: int
) -> tuple[list[float], list[float], int]:
    """Wall and CPU milliseconds of ``n`` requests (after a warm-up), and the last status."""
    status = 0
    for _ in range(WARM_UP):
        status = client.get(url, params, headers=headers).status_code  # type: ignore[attr-defined]
    wall, cpu = [], []
    for _ in range(n):
        start, start_cpu = time.perf_counter(), time.process_time()
        client.get(url, params, headers=headers)  # type: ignore[attr-defined]
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    return wall, cpu, status


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[94]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--features", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--database-url")
    parser.add_argument("--analyze", action="store_true", help="ANALYZE after seeding")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="vexil-bench-dashboard-") as scratch:
        url = options.database_url or f"sqlite:///{scratch}/bench.sqlite3"
        _configure(url, scratch)
        from django.core.management import call_command
        from django.db import connection
        from django.test import Client

        call_command("migrate", verbosity=0)
        if options.database_url:
            call_command("flush", interactive=False, verbosity=0)
        owner, page = _seed(options.features)
        if options.analyze and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        from vexil.environments.models import Environment

        revision = Environment.objects.get(api_key=page.split("/")[4]).revision
        client = Client()
        client.force_login(owner)  # type: ignore[arg-type]
        htmx = {"HX-Request": "true"}
        variants = [
            ("first page (50 rows, by name)", {}, {}),
            ("page 10", {"page": "10"}, {}),
            ("search `feature_09`", {"search": "feature_09"}, {}),
            ("on only, recently changed first", {"enabled": "on", "sort": "-changed"}, {}),
            ("tag filter", {"tag": "1"}, {}),
            ("live refresh, nothing changed (204)", {"revision": str(revision)}, htmx),
        ]
        load = os.getloadavg()[0]
        analyzed = ", analyzed" if options.analyze else ""
        print(
            f"{options.features} features, {connection.vendor}{analyzed}, "
            f"{options.requests} requests each"
        )
        print(f"(load average {load:.1f} at the start)\n")
        print("| request | status | wall p50 | wall p95 | CPU p50 | CPU p95 |")
        print("|---|---:|---:|---:|---:|---:|")
        for label, params, headers in variants:
            wall, cpu, status = _time(client, page, params, headers, options.requests)
            print(
                f"| {label} | {status} | {statistics.median(wall):.1f} ms | {_p95(wall):.1f} ms "
                f"| {statistics.median(cpu):.1f} ms | {_p95(cpu):.1f} ms |"
            )


if __name__ == "__main__":
    main()
