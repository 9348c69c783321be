"""How fast is OFREP, against ``POST /api/v1/identities/`` and a bare app? One run.

    apt-get install -y wrk                  # once
    .venv/bin/python bench/ofrep.py         # about 5 minutes; markdown on stdout
    .venv/bin/python bench/ofrep.py --runs 1 --duration 5
    .venv/bin/python bench/ofrep.py --database-url postgres://user@127.0.0.1:5432/empty_db

The setting is bench/sdk.py's main part (``vexil serve --workers 2`` in production configuration
on ``vexil seed-demo --features 100 --segments 50``, and a bare ASGI app under granian replaying
fixed bytes, ``bench/apps.py:fixed_asgi``). The same pool of 200 existing identities, each with 5
of its stored traits, is sent as:

* ``identify-post``: ``POST /api/v1/identities/`` (``{"identifier", "traits"}``), the reference;
* ``ofrep-single``: ``POST /ofrep/v1/evaluate/flags/{key}`` with ``{"context": {"targetingKey":
  identifier, <the 5 traits>}}``, one of the environment's flags (a different one per identity);
* ``ofrep-bulk``: ``POST /ofrep/v1/evaluate/flags`` with the same contexts (200, every flag);
* ``ofrep-bulk-304``: the same with ``If-None-Match`` set to each context's ``ETag`` (304),
  against the bare app answering that 304.

All five targets are warmed up, then measured in turn, ``--runs`` rounds of ``wrk -t2 -c64``, so
the ratios compare like with like on a shared machine. Targets (issue 14): single >= 80% of
``identify-post``; bulk with 304 >= 50% of the bare app.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import sdk as sdk_bench
from bench.sdk import API, JSON_HEADERS, Measured, Options, Workload

OFREP = "/ofrep/v1/evaluate/flags"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--database-url", help="PostgreSQL URL of an empty, disposable database")
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="vexil-bench-ofrep-"))
    options = Options(args.runs, args.duration, args.database_url, scratch)
    started = time.monotonic()
    load = os.getloadavg()[0]
    try:
        _print(_run(options))
    finally:
        if not args.keep:
            subprocess.run(["rm", "-rf", str(scratch)], check=False)
    print(
        f"_{time.monotonic() - started:.0f} s; load average {load:.1f} at start, "
        f"{os.getloadavg()[0]:.1f} at the end._"
    )


def _workloads(port: int, client_key: str, server_key: str) -> list[Workload]:
    pool = sdk_bench._identity_pool(port, server_key)
    status, _, body = sdk_bench._fetch(
        port, "GET", f"{API}/flags/", {"X-Environment-Key": client_key}, ""
    )
    assert status == 200, status
    names = [flag["feature"]["name"] for flag in json.loads(body)]
    key = {"X-Environment-Key": client_key}
    bearer = {"Authorization": f"Bearer {client_key}", **JSON_HEADERS}
    contexts = [
        json.dumps(
            {"context": {"targetingKey": identifier}
             | {t["trait_key"]: t["trait_value"] for t in traits}}
        )
        for identifier, traits in pool
    ]  # fmt: skip
    not_modified = []
    for context in contexts:
        status, headers, _ = sdk_bench._fetch(port, "POST", OFREP, bearer, context)
        assert status == 200, status
        etag = {k.lower(): v for k, v in headers.items()}["etag"]
        not_modified.append(("POST", OFREP, {**bearer, "If-None-Match": etag}, context))
    return [
        Workload(
            "identify-post",
            "`POST /api/v1/identities/` (existing identity, 5 unchanged traits)",
            [("POST", f"{API}/identities/", {**key, **JSON_HEADERS},
              json.dumps({"identifier": identifier, "traits": traits}))
             for identifier, traits in pool],
        ),
        Workload(
            "ofrep-single",
            "`POST /ofrep/v1/evaluate/flags/{key}` (the same identities and traits as context)",
            [("POST", f"{OFREP}/{names[index % len(names)]}", bearer, context)
             for index, context in enumerate(contexts)],
        ),
        Workload(
            "ofrep-bulk",
            "`POST /ofrep/v1/evaluate/flags` (the same contexts; 200, every flag)",
            [("POST", OFREP, bearer, context) for context in contexts],
        ),
        Workload(
            "ofrep-bulk-304",
            "`POST /ofrep/v1/evaluate/flags` (the same, `If-None-Match`: 304)",
            not_modified,
            status=304,
        ),
    ]  # fmt: skip


def _run(options: Options) -> list[tuple[Workload, Measured, Measured | None]]:
    print("[ofrep] 100 features, 50 segments", file=sys.stderr, flush=True)
    data = sdk_bench._seed(options, "ofrep", 100)
    with sdk_bench._vexil(data, "ofrep") as port:
        workloads = _workloads(port, data.client_keys[0], data.server_keys[0])
        bulk_304 = workloads[-1]
        fixed = options.scratch / "fixed.json"
        fixed.write_text(json.dumps({bulk_304.name: sdk_bench._fixed_response(port, bulk_304)}))
        with sdk_bench._bare(fixed, data.env) as bare_port:
            targets = [(port, w) for w in workloads] + [(bare_port, sdk_bench._for_bare(bulk_304))]
            measured = sdk_bench._measure_alternating(targets, options)
    rows: list[tuple[Workload, Measured, Measured | None]] = [
        (w, m, None) for w, m in zip(workloads, measured, strict=False)
    ]
    rows[-1] = (bulk_304, measured[-2], measured[-1])
    return rows


def _print(rows: list[tuple[Workload, Measured, Measured | None]]) -> None:
    print("| endpoint | requests/s | p50 | p99 | bare app requests/s | vs. |")
    print("|---|---:|---:|---:|---:|---:|")
    reference = rows[0][1].rate
    for workload, measured, bare in rows:
        if bare is not None:
            ratio = f"{measured.rate / bare.rate:.0%} of bare"
            bare_rate = f"{bare.rate:,.0f}"
        else:
            ratio = "1.00" if workload.name == "identify-post" else ""
            ratio = ratio or f"{measured.rate / reference:.0%} of `identify-post`"
            bare_rate = ""
        print(
            f"| {workload.label} | {measured.rate:,.0f} | {measured.p50_ms:.2f} ms "
            f"| {measured.p99_ms:.2f} ms | {bare_rate} | {ratio} |"
        )


if __name__ == "__main__":
    main()
