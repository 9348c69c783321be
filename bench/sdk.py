"""How fast are the SDK endpoints, against a bare ASGI app returning the same bytes? One run.

    apt-get install -y wrk                        # once
    .venv/bin/python bench/sdk.py                 # everything, about 10 minutes; markdown on stdout
    .venv/bin/python bench/sdk.py --parts main    # the endpoint table only, about 6 minutes
    .venv/bin/python bench/sdk.py --parts main --only flags identify-post --runs 1 --duration 5
    .venv/bin/python bench/sdk.py --database-url postgres://user@127.0.0.1:5432/empty_db

Parts:

* ``main``: ``vexil serve --workers 2`` in its production configuration (``ENV=production``, a
  secret key, ``DJANGO_ALLOWED_HOSTS=127.0.0.1``, no access log) on a fresh data directory seeded
  with ``vexil seed-demo --features 100 --segments 50``, and, in the same run, a bare ASGI app
  under granian ASGI (2 workers) answering each endpoint's real response bytes, fetched once from
  the server and served fixed (``bench/apps.py:fixed_asgi``). Both run side by side; each
  endpoint: 2 s warm-up of each, then ``wrk -t2 -c64 -d10s --latency`` against Vexil and the
  bare app in turn, three rounds; median requests/s, and p50 and p99 of the median run.
* ``features``: ``/flags/`` and ``POST /identities/`` (also with a fresh transient trait per
  request, so the identity flags cache never hits: ``identify-post-fresh``) at 10, 100 and 1,000
  features (3 runs of 5 s each: ``--growth-duration``).
* ``environments``: the same two with 1 and with 100 environments on one server, the requests
  spread over the 100 environments' keys.
* ``memory``: tracemalloc and RSS growth of building (and keeping) 100 snapshots with
  ``vexil.sdk.snapshot.build_snapshot``, one per environment.

Every server listens on 127.0.0.1 only and is stopped before the next starts. With
``--database-url`` (PostgreSQL; the database must exist and may be emptied) each seeding starts
from ``vexil manage flush``; otherwise each uses a fresh SQLite data directory.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bench.serving import serving

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
API = "/api/v1"
IDENTITY_POOL = 200
TRAITS_SENT = 5
ENDPOINTS = [
    "flags", "document", "document-304", "identify-post", "identify-post-fresh", "identify-get"
]  # fmt: skip
FRESH = "@N@"  # replaced per request with a number no earlier request used (fresh=True)
PARTS = ["main", "features", "environments", "memory"]

# --- Options -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Options:
    runs: int
    duration: int
    database_url: str | None
    scratch: Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--parts", nargs="*", choices=PARTS, default=PARTS)
    parser.add_argument("--only", nargs="*", choices=ENDPOINTS, default=ENDPOINTS,
                        help="endpoints of the main part (default: all)")  # fmt: skip
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument(
        "--growth-duration", type=int, default=5, help="seconds per wrk run, growth parts"
    )
    parser.add_argument("--database-url", help="PostgreSQL URL of an empty, disposable database")
    parser.add_argument("--no-bare", action="store_true", help="skip the bare app (main part)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="vexil-bench-sdk-"))
    options = Options(args.runs, args.duration, args.database_url, scratch)
    started = time.monotonic()
    load = os.getloadavg()[0]
    try:
        if "main" in args.parts:
            _print_main(_main_part(options, args.only, bare=not args.no_bare))
        growth = Options(args.runs, args.growth_duration, args.database_url, scratch)
        if "features" in args.parts:
            _print_growth("features", _features_part(growth))
        if "environments" in args.parts:
            _print_growth("environments", _environments_part(growth))
        if "memory" in args.parts:
            _print_memory(_memory_part(options, seeded="environments" in args.parts))
    finally:
        if not args.keep:
            subprocess.run(["rm", "-rf", str(scratch)], check=False)
    print(
        f"_{time.monotonic() - started:.0f} s; load average {load:.1f} at start, "
        f"{os.getloadavg()[0]:.1f} at the end._"
    )


# --- Data --------------------------------------------------------------------------------------


@dataclass
class Dataset:
    env: dict[str, str]
    client_keys: list[str]
    server_keys: list[str]


def _environment(options: Options, name: str) -> dict[str, str]:
    """Production configuration on a scratch data directory; no access log."""
    keep = {"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR"}
    env = {key: value for key, value in os.environ.items() if key in keep}
    env.update(
        PYTHONPATH=str(ROOT),
        VEXIL_DATA_DIR=str(options.scratch / name),
        ENV="production",
        DJANGO_SECRET_KEY="bench-only-secret-key-" + "x" * 40,
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        DJANGO_SETTINGS_MODULE="vexil.settings",
        LOG_LEVEL="warning",
    )
    if options.database_url:
        env["DATABASE_URL"] = options.database_url
    return env


def _seed(options: Options, name: str, features: int, environments: int = 2) -> Dataset:
    env = _environment(options, name)
    vexil = str(BIN / "vexil")
    print(f"  seeding {name}: {features} features, {environments} environments", file=sys.stderr)
    _run([vexil, "migrate", "--verbosity", "0"], env)
    if options.database_url:
        _run([vexil, "manage", "flush", "--no-input", "--verbosity", "0"], env)
    seeded = json.loads(
        _run(
            [
                vexil,
                "seed-demo",
                "--features",
                str(features),
                "--segments",
                "50",
                "--identities",
                "1000",
                "--json",
            ],
            env,
        )
    )
    client = [e["client_key"] for e in seeded["environments"]]
    server = [e["server_key"] for e in seeded["environments"]]
    if environments > len(client):
        more = json.loads(
            _run(
                [sys.executable, __file__, "_add-environments", str(environments - len(client))],
                env,
            )
        )
        client += [e["client_key"] for e in more]
        server += [e["server_key"] for e in more]
    return Dataset(env, client, server)


def _run(command: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def _add_environments(count: int) -> None:
    """(Child process.) ``count`` more environments in the demo project, with a server key each."""
    import django

    django.setup()
    from vexil.audit.services import Actor
    from vexil.environments.services import environment_api_key_create, environment_create
    from vexil.projects.models import Project

    actor = Actor(api_key_name="bench")
    project = Project.objects.order_by("id").first()
    assert project is not None
    made = []
    for index in range(count):
        environment = environment_create(project=project, name=f"Bench {index}", actor=actor)
        _, key = environment_api_key_create(environment=environment, name="bench", actor=actor)
        made.append({"client_key": environment.api_key, "server_key": key})
    print(json.dumps(made))


# --- Servers -----------------------------------------------------------------------------------


@contextlib.contextmanager
def _serving(command: list[str], env: dict[str, str], log: Path, ready: str) -> Iterator[int]:
    with serving(command, env=env, cwd=ROOT, log=log, ready_path=ready) as (port, _):
        yield port


def _vexil(data: Dataset, name: str) -> contextlib.AbstractContextManager[int]:
    command = [str(BIN / "vexil"), "serve", "--port", "{port}", "--workers", "2"]
    log = Path(data.env["VEXIL_DATA_DIR"]).parent / f"{name}.log"
    return _serving(command, data.env, log, "/health/liveness/")


def _bare(responses: Path, env: dict[str, str]) -> contextlib.AbstractContextManager[int]:
    command = [
        str(BIN / "granian"), "--interface", "asgi", "--workers", "2", "--host", "127.0.0.1",
        "--port", "{port}", "--log-level", "warning", "--no-access-log", "bench.apps:fixed_asgi",
    ]  # fmt: skip
    bare_env = {**env, "BENCH_FIXED_RESPONSES": str(responses)}
    return _serving(command, bare_env, responses.with_suffix(".log"), "/health")


# --- Requests ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Workload:
    """One endpoint's traffic: a wrk Lua script cycling over ``requests``."""

    name: str
    label: str
    requests: list[tuple[str, str, dict[str, str], str]]  # method, path, headers, body
    status: int = 200
    fresh: bool = False  # bodies hold FRESH, made unique per request

    def lua(self) -> str:
        entries = ",\n".join(
            "{{{}, {}, {{{}}}, {}}}".format(
                _lua(method),
                _lua(path),
                ", ".join(f"[{_lua(k)}] = {_lua(v)}" for k, v in headers.items()),
                _lua(body) if body else "nil",
            )
            for method, path, headers, body in self.requests
        )
        if self.fresh:
            return (
                f"local pool = {{\n{entries}\n}}\n"
                "local n, prefix = 0, 0\n"
                "function init(args) prefix = math.random(1000000000); n = prefix % #pool end\n"
                "function request()\n"
                "  n = n + 1\n"
                "  local r = pool[n % #pool + 1]\n"
                f'  local body = r[4]:gsub("{FRESH}", prefix .. "-" .. n)\n'
                "  return wrk.format(r[1], r[2], r[3], body)\n"
                "end\n"
            )
        return (
            f"local pool = {{\n{entries}\n}}\n"
            "local formatted = {}\n"
            "for i, r in ipairs(pool) do formatted[i] = wrk.format(r[1], r[2], r[3], r[4]) end\n"
            "local n = 0\n"
            "function init(args) n = math.random(#formatted) end\n"
            "function request()\n"
            "  n = n % #formatted + 1\n"
            "  return formatted[n]\n"
            "end\n"
        )


def _lua(text: str) -> str:
    return json.dumps(text)  # a JSON string literal is a valid Lua string literal here


def _fetch(
    port: int, method: str, path: str, headers: dict[str, str], body: str
) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", data=body.encode() if body else None,
        headers=headers, method=method,
    )  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, dict(response.headers.items()), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers.items()), error.read()


JSON_HEADERS = {"Content-Type": "application/json"}


def _workloads(port: int, data: Dataset, only: list[str], environments: int = 1) -> list[Workload]:
    """The requests of each endpoint, from what the running server holds."""
    clients = data.client_keys[:environments] if environments > 1 else data.client_keys[:1]
    servers = data.server_keys[:environments] if environments > 1 else data.server_keys[:1]
    workloads = []
    if "flags" in only:
        workloads.append(Workload("flags", "`GET /api/v1/flags/`", [
            ("GET", f"{API}/flags/", {"X-Environment-Key": key}, "") for key in clients
        ]))  # fmt: skip
    if "document" in only or "document-304" in only:
        key = servers[0]
        status, headers, _ = _fetch(port, "GET", f"{API}/environment-document/",
                                    {"X-Environment-Key": key}, "")  # fmt: skip
        assert status == 200, status
        if "document" in only:
            workloads.append(Workload("document", "`GET /api/v1/environment-document/` (200)", [
                ("GET", f"{API}/environment-document/", {"X-Environment-Key": key}, "")
            ]))  # fmt: skip
        if "document-304" in only:
            workloads.append(Workload(
                "document-304", "`GET /api/v1/environment-document/` (304, `If-None-Match`)",
                [("GET", f"{API}/environment-document/",
                  {"X-Environment-Key": key, "If-None-Match": headers["etag"]}, "")],
                status=304,
            ))  # fmt: skip
    if {"identify-post", "identify-post-fresh", "identify-get"} & set(only):
        pool = _identity_pool(port, servers[0])
        if "identify-post" in only:
            workloads.append(Workload(
                "identify-post",
                f"`POST /api/v1/identities/` (existing identity, {TRAITS_SENT} unchanged traits)",
                [("POST", f"{API}/identities/",
                  {"X-Environment-Key": clients[index % len(clients)], **JSON_HEADERS},
                  json.dumps({"identifier": identifier, "traits": traits}))
                 for index, (identifier, traits) in enumerate(pool)],
            ))  # fmt: skip
        if "identify-post-fresh" in only:
            # A transient trait whose value no earlier request sent: the per-identity flags
            # cache never hits, so this measures the engine's evaluation on every request.
            fresh = {"trait_key": "request", "trait_value": FRESH, "transient": True}
            workloads.append(Workload(
                "identify-post-fresh",
                f"`POST /api/v1/identities/` (existing identity, {TRAITS_SENT} unchanged traits "
                "and a transient trait new to every request: no cached result)",
                [("POST", f"{API}/identities/",
                  {"X-Environment-Key": clients[index % len(clients)], **JSON_HEADERS},
                  json.dumps({"identifier": identifier, "traits": [*traits, fresh]}))
                 for index, (identifier, traits) in enumerate(pool)],
                fresh=True,
            ))  # fmt: skip
        if "identify-get" in only:
            workloads.append(Workload(
                "identify-get", "`GET /api/v1/identities/?identifier=` (existing identity)",
                [("GET", f"{API}/identities/?identifier={urllib.parse.quote(identifier)}",
                  {"X-Environment-Key": clients[index % len(clients)]}, "")
                 for index, (identifier, _) in enumerate(pool)],
            ))  # fmt: skip
    return workloads


def _identity_pool(port: int, server_key: str) -> list[tuple[str, list[dict[str, object]]]]:
    """Existing identities (seed-demo's ``user<N>@example.com``) with 5 of their stored traits.

    Only identities that exist in every environment are used (seed-demo creates the same
    identifiers in each of its environments; added environments have none), so the identities
    are looked up in the first environment and sent with the first environment's key only when
    the run spreads over environments that have them."""
    pool = []
    for index in range(IDENTITY_POOL):
        identifier = f"user{index}@example.com"
        status, _, body = _fetch(
            port, "GET", f"{API}/identities/?identifier={urllib.parse.quote(identifier)}",
            {"X-Environment-Key": server_key}, "",
        )  # fmt: skip
        assert status == 200, (status, body)
        traits = json.loads(body)["traits"]
        assert len(traits) >= TRAITS_SENT, traits
        pool.append((identifier, [{"trait_key": t["trait_key"], "trait_value": t["trait_value"]}
                                  for t in traits[:TRAITS_SENT]]))  # fmt: skip
    return pool


# --- wrk -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Measured:
    rate: float
    p50_ms: float
    p99_ms: float
    runs: tuple[float, ...]


def _measure(port: int, workload: Workload, options: Options) -> Measured:
    return _measure_alternating([(port, workload)], options)[0]


def _measure_alternating(targets: list[tuple[int, Workload]], options: Options) -> list[Measured]:
    """Warm each target up, then run wrk against them in turn, ``runs`` rounds: on a shared,
    noisy machine the servers compared see the same background load."""
    commands = []
    for port, workload in targets:
        script = options.scratch / f"{workload.name}-{port}.lua"
        script.write_text(workload.lua())
        url = f"http://127.0.0.1:{port}"
        _check_status(port, workload)
        _wrk(["wrk", "-t2", "-c64", "-d2s", "-s", str(script), url])  # warm-up
        commands.append(
            ["wrk", "-t2", "-c64", f"-d{options.duration}s", "--latency", "-s", str(script), url]
        )
    results: list[list[Measured]] = [[] for _ in targets]
    for _ in range(options.runs):
        for index, command in enumerate(commands):
            results[index].append(_wrk(command))
    measured = []
    for (port, workload), runs in zip(targets, results, strict=True):
        median = sorted(runs, key=lambda m: m.rate)[len(runs) // 2]
        rates = tuple(m.rate for m in runs)
        print(f"    {workload.name} on :{port}: {', '.join(f'{r:,.0f}' for r in rates)} req/s",
              file=sys.stderr)  # fmt: skip
        measured.append(Measured(statistics.median(rates), median.p50_ms, median.p99_ms, rates))
    return measured


def _check_status(port: int, workload: Workload) -> None:
    for method, path, headers, body in workload.requests[:3]:
        status, _, answer = _fetch(port, method, path, headers, body)
        if status != workload.status:
            raise SystemExit(
                f"{workload.name}: {method} {path} answered {status}: {answer[:300]!r}"
            )


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _wrk(command: list[str]) -> Measured:
    output = subprocess.run(command, capture_output=True, text=True, timeout=120, check=True).stdout
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(r"Socket errors: .*", output)
    if rate is None or errors or socket_errors:
        raise SystemExit(f"wrk failed or saw errors:\n{output}")
    latency = dict(re.findall(r"^\s+(50|99)%\s+([\d.]+(?:us|ms|s))\s*$", output, re.M))
    return Measured(
        float(rate[1]), _ms(latency.get("50", "0ms")), _ms(latency.get("99", "0ms")), ()
    )


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


# --- Parts ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    workload: Workload
    vexil: Measured
    bare: Measured | None


def _main_part(options: Options, only: list[str], *, bare: bool) -> list[Row]:
    """Both servers run side by side (the idle one costs nothing) and wrk alternates between
    them, so each round of the comparison sees the same background load."""
    print("[main] 100 features, 50 segments", file=sys.stderr, flush=True)
    data = _seed(options, "main", 100)
    rows = []
    with _vexil(data, "main") as port:
        workloads = _workloads(port, data, only)
        if not bare:
            return [Row(w, _measure(port, w, options), None) for w in workloads]
        fixed = options.scratch / "fixed.json"
        fixed.write_text(json.dumps({w.name: _fixed_response(port, w) for w in workloads}))
        with _bare(fixed, data.env) as bare_port:
            for workload in workloads:
                vexil, plain = _measure_alternating(
                    [(port, workload), (bare_port, _for_bare(workload))], options
                )
                rows.append(Row(workload, vexil, plain))
    return rows


def _fixed_response(port: int, workload: Workload) -> dict[str, object]:
    """The endpoint's real answer to the workload's first request, for the bare app to replay."""
    method, path, headers, body = workload.requests[0]
    status, answer_headers, answer = _fetch(port, method, path, headers, body)
    hop_by_hop = ("content-length", "server", "date", "connection")
    return {
        "status": status,
        "headers": [
            [k.lower(), v] for k, v in answer_headers.items() if k.lower() not in hop_by_hop
        ],
        "body": answer.decode(),
    }


def _for_bare(workload: Workload) -> Workload:
    """The same requests, addressed to the bare app's fixed answer for this endpoint."""
    return Workload(
        workload.name, workload.label,
        [(m, f"/{workload.name}{p}", h, b)
         for m, p, h, b in workload.requests],
        workload.status,
        workload.fresh,
    )  # fmt: skip


def _features_part(options: Options) -> dict[str, dict[str, Measured]]:
    results: dict[str, dict[str, Measured]] = {}
    for count in (10, 100, 1000):
        print(f"[features] {count}", file=sys.stderr, flush=True)
        data = _seed(options, f"features-{count}", count)
        with _vexil(data, f"features-{count}") as port:
            results[f"{count:,} features"] = {
                w.name: _measure(port, w, options)
                for w in _workloads(port, data, ["flags", "identify-post", "identify-post-fresh"])
            }
    return results


def _environments_part(options: Options) -> dict[str, dict[str, Measured]]:
    print("[environments] 100", file=sys.stderr, flush=True)
    data = _seed(options, "environments", 100, environments=100)
    results: dict[str, dict[str, Measured]] = {}
    with _vexil(data, "environments") as port:
        for count in (1, 100):
            workloads = _workloads(port, data, ["flags", "identify-post"], environments=count)
            # Identities exist only in seed-demo's two environments: spread over 100
            # environments, POST /identities/ creates each (identity, environment) pair of the
            # pool on first sight. Build every environment's snapshot on both workers and create
            # those pairs before measuring: the steady state is what is measured.
            for workload in workloads:
                _prewarm(port, workload, 4 if workload.name == "flags" else 2)
            results[f"{count} environment{'s' if count > 1 else ''}"] = {
                w.name: _measure(port, w, options) for w in workloads
            }
    return results


def _prewarm(port: int, workload: Workload, times: int) -> None:
    for _ in range(times):
        for method, path, headers, body in workload.requests:
            _fetch(port, method, path, headers, body)


def _memory_part(options: Options, *, seeded: bool) -> dict[str, float]:
    """Reuses the environments part's data when it ran just before (the last seeding)."""
    print("[memory] 100 snapshots", file=sys.stderr, flush=True)
    env = _environment(options, "environments")
    if not seeded:
        _seed(options, "environments", 100, environments=100)
    return json.loads(_run([sys.executable, __file__, "_memory"], env))


def _memory() -> None:
    """(Child process.) Build one snapshot per environment, keep them all, measure the growth."""
    import gc
    import tracemalloc

    import django

    django.setup()
    from vexil.environments.models import Environment
    from vexil.sdk.snapshot import build_snapshot

    ids = list(Environment.objects.order_by("id").values_list("id", flat=True))
    build_snapshot(ids[0])  # imports, compiled regexes, connection: not per environment
    gc.collect()
    rss_before = _rss_kib()
    tracemalloc.start()
    started = time.perf_counter()
    kept = [build_snapshot(environment_id) for environment_id in ids]
    elapsed = time.perf_counter() - started
    gc.collect()
    traced, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_after = _rss_kib()
    sizes = [len(s.document_body) for s in kept]
    print(json.dumps({
        "environments": len(kept),
        "features": len(kept[0].data.document["feature_states"]),
        "traced_kib_per_environment": traced / 1024 / len(kept),
        "rss_kib_per_environment": (rss_after - rss_before) / len(kept),
        "build_ms_per_environment": elapsed * 1000 / len(kept),
        "document_kib": statistics.mean(sizes) / 1024,
    }))  # fmt: skip


def _rss_kib() -> int:
    status = Path("/proc/self/status").read_text()
    return int(re.search(r"^VmRSS:\s+(\d+)", status, re.M)[1])  # type: ignore[index]


# --- Report ------------------------------------------------------------------------------------


def _print_main(rows: list[Row]) -> None:
    print("| endpoint | Vexil requests/s | p50 | p99 | bare app requests/s | p50 | p99 "
          "| Vexil / bare |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        v, b = row.vexil, row.bare
        bare = f"{b.rate:,.0f} | {b.p50_ms:.2f} ms | {b.p99_ms:.2f} ms" if b else "n/a | | "
        ratio = f"{v.rate / b.rate:.0%}" if b else "n/a"
        print(f"| {row.workload.label} | {v.rate:,.0f} | {v.p50_ms:.2f} ms | {v.p99_ms:.2f} ms "
              f"| {bare} | {ratio} |")  # fmt: skip
    print()


def _print_growth(title: str, results: dict[str, dict[str, Measured]]) -> None:
    fresh = all("identify-post-fresh" in measured for measured in results.values())
    extra = " `POST /identities/`, no cached result: requests/s | p99 |" if fresh else ""
    print(f"| {title} | `/flags/` requests/s | p99 | `POST /identities/` requests/s | p99 |{extra}")
    print("|---|---:|---:|---:|---:|" + ("---:|---:|" if fresh else ""))
    for label, measured in results.items():
        cells = [measured["flags"], measured["identify-post"]]
        if fresh:
            cells.append(measured["identify-post-fresh"])
        row = " | ".join(f"{m.rate:,.0f} | {m.p99_ms:.2f} ms" for m in cells)
        print(f"| {label} | {row} |")
    print()


def _print_memory(memory: dict[str, float]) -> None:
    print(f"Memory per compiled environment ({memory['environments']:.0f} snapshots of "
          f"{memory['features']:.0f} features kept at once): "
          f"{memory['traced_kib_per_environment']:,.0f} KiB traced (tracemalloc), "
          f"{memory['rss_kib_per_environment']:,.0f} KiB RSS; "
          f"{memory['build_ms_per_environment']:.1f} ms to build each; "
          f"document {memory['document_kib']:.0f} KiB.")  # fmt: skip
    print()


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_add-environments":
        _add_environments(int(sys.argv[2]))
    elif len(sys.argv) > 1 and sys.argv[1] == "_memory":
        _memory()
    else:
        main()
