"""Which server should run Vexil? Measure the candidates on this machine, in one run.

    .venv/bin/python bench/servers.py            # about 4 minutes; prints a markdown table

Throughput: wrk -t2 -c64 -d10s against each server, 3 runs, median, after a 2 s warm-up. Idle
capacity: 2,000 server-sent-event streams held open at once, then a plain request timed while
they are. Everything listens on 127.0.0.1 only; every server is stopped before the next starts.
docs/performance.md records the figures and the choice they led to.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bench.serving import serving

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
WRK = ["wrk", "-t2", "-c64", "-d10s"]
RUNS = 3
STREAMS = 2000
STREAM_TIMEOUT = 15.0


@dataclass(frozen=True)
class Candidate:
    key: str
    label: str
    command: list[str]
    path: str = "/"


def _granian(interface: str, target: str, workers: int = 2, *extra: str) -> list[str]:
    return [
        str(BIN / "granian"), "--interface", interface, "--workers", str(workers),
        "--host", "127.0.0.1", "--port", "{port}", "--log-level", "warning", *extra, target,
    ]  # fmt: skip


THROUGHPUT = [
    Candidate(
        "a", "bare ASGI app, granian ASGI (2 workers)", _granian("asgi", "bench.apps:bare_asgi")
    ),
    Candidate(
        "b", "bare WSGI app, granian WSGI (2 workers)", _granian("wsgi", "bench.apps:bare_wsgi")
    ),
    Candidate(
        "c",
        "Django `/health/liveness/`, gunicorn sync (3 workers)",
        [
            str(BIN / "gunicorn"),
            "--workers",
            "3",
            "--worker-class",
            "sync",
            "--bind",
            "127.0.0.1:{port}",
            "--log-level",
            "warning",
            "vexil.wsgi:application",
        ],
        "/health/liveness/",
    ),
    Candidate(
        "d",
        "Django `/health/liveness/`, granian WSGI (2 workers)",
        _granian("wsgi", "vexil.wsgi:application"),
        "/health/liveness/",
    ),
    Candidate(
        "e",
        "Django `/health/liveness/`, `vexil serve --workers 2` (granian ASGI + a2wsgi)",
        [str(BIN / "vexil"), "serve", "--port", "{port}", "--workers", "2"],
        "/health/liveness/",
    ),
    Candidate(
        "f",
        "Django `/health/liveness/`, Django's ASGI handler, granian ASGI (2 workers)",
        _granian("asgi", "bench.django_asgi:application"),
        "/health/liveness/",
    ),
]

IDLE = [
    Candidate("g1", "SSE streams, bare ASGI app, granian ASGI (2 workers, defaults)",
              _granian("asgi", "bench.apps:bare_asgi"), "/stream"),
    Candidate("g2", "SSE streams, bare ASGI app, granian ASGI (2 workers, backpressure 2048)",
              _granian("asgi", "bench.apps:bare_asgi", 2, "--backpressure", "2048"), "/stream"),
    Candidate("g3", "SSE streams, bare WSGI app, granian WSGI (2 workers, defaults)",
              _granian("wsgi", "bench.apps:bare_wsgi"), "/stream"),
]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", nargs="*", help="candidate keys to run (default: all)")
    options = parser.parse_args()
    _raise_open_files_limit()
    chosen = set(options.only or [c.key for c in THROUGHPUT + IDLE])
    with tempfile.TemporaryDirectory(prefix="vexil-bench-") as scratch:
        env = _environment(Path(scratch))
        rates = {c.key: _throughput(c, env) for c in THROUGHPUT if c.key in chosen}
        held = {c.key: _idle_capacity(c, env) for c in IDLE if c.key in chosen}
    _print_throughput(rates)
    _print_idle(held)


def _environment(scratch: Path) -> dict[str, str]:
    """Vexil's embedded default on a scratch data directory, nothing else configured."""
    keep = {"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR"}
    env = {name: value for name, value in os.environ.items() if name in keep}
    env.update(
        PYTHONPATH=str(ROOT),
        VEXIL_DATA_DIR=str(scratch / "data"),
        DJANGO_SECRET_KEY="bench-only-secret-key",  # noqa: S106
        DJANGO_SETTINGS_MODULE="vexil.settings",
    )
    return env


def _raise_open_files_limit() -> None:
    """Servers started from here inherit it; 2,000 streams need 2,000 descriptors on each side."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = min(hard, 16384) if hard != resource.RLIM_INFINITY else 16384
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


# --- Servers ---


@contextlib.contextmanager
def _serving(
    candidate: Candidate, env: dict[str, str]
) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    log = Path(env["VEXIL_DATA_DIR"]).parent / f"server-{candidate.key}.log"
    ready_path = "/" if candidate.path == "/stream" else candidate.path
    with serving(candidate.command, env=env, cwd=ROOT, log=log, ready_path=ready_path) as served:
        yield served


def _process_group(leader: int) -> list[int]:
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError):
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                if int(fields[2]) == leader:
                    members.append(int(entry.name))
    return members


def _threads_and_rss(leader: int) -> tuple[int, int]:
    threads = rss_kib = 0
    for pid in _process_group(leader):
        with contextlib.suppress(OSError):
            status = Path(f"/proc/{pid}/status").read_text()
            threads += int(re.search(r"^Threads:\s+(\d+)", status, re.M)[1])  # type: ignore[index]
            rss_kib += int(re.search(r"^VmRSS:\s+(\d+)", status, re.M)[1])  # type: ignore[index]
    return threads, rss_kib // 1024


# --- Throughput ---


def _throughput(candidate: Candidate, env: dict[str, str]) -> float:
    print(f"[{candidate.key}] {candidate.label}", file=sys.stderr, flush=True)
    with _serving(candidate, env) as (port, _):
        url = f"http://127.0.0.1:{port}{candidate.path}"
        _wrk(["wrk", "-t2", "-c64", "-d2s", url])  # warm-up: imports, connections, caches
        runs = [_wrk([*WRK, url]) for _ in range(RUNS)]
    print(f"      runs: {', '.join(f'{r:,.0f}' for r in runs)}", file=sys.stderr, flush=True)
    return statistics.median(runs)


def _wrk(command: list[str]) -> float:
    output = subprocess.run(command, capture_output=True, text=True, timeout=60, check=True).stdout
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if rate is None or errors:
        raise SystemExit(f"wrk failed or saw errors:\n{output}")
    return float(rate[1])


# --- Idle capacity ---


@dataclass(frozen=True)
class Held:
    streams_open: int
    plain_request_ms: float | None
    threads: int
    rss_mib: int


def _idle_capacity(candidate: Candidate, env: dict[str, str]) -> Held:
    print(f"[{candidate.key}] {candidate.label}", file=sys.stderr, flush=True)
    with _serving(candidate, env) as (port, process):
        held = asyncio.run(_hold_streams(port, process.pid))
    print(f"      {held}", file=sys.stderr, flush=True)
    return held


async def _hold_streams(port: int, leader: int) -> Held:
    writers: list[asyncio.StreamWriter] = []

    async def open_stream() -> bool:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            return False
        writers.append(writer)
        writer.write(
            b"GET /stream HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n"
        )
        try:
            await asyncio.wait_for(reader.readuntil(b"data: hello\n\n"), STREAM_TIMEOUT)
        except (TimeoutError, asyncio.IncompleteReadError, OSError):
            return False
        return True

    try:
        opened = await asyncio.gather(*(open_stream() for _ in range(STREAMS)))
        threads, rss_mib = _threads_and_rss(leader)
        plain_ms = await _plain_request_ms(port)
    finally:
        for writer in writers:
            writer.close()
    return Held(sum(opened), plain_ms, threads, rss_mib)


async def _plain_request_ms(port: int) -> float | None:
    """How long a plain request takes while the streams are open; None if over 5 s."""
    started = time.perf_counter()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        await asyncio.wait_for(reader.read(), 5)
        writer.close()
    except (TimeoutError, OSError):
        return None
    return (time.perf_counter() - started) * 1000


# --- Report ---


def _print_throughput(rates: dict[str, float]) -> None:
    if not rates:
        return
    base = rates.get("a")
    print(f"| | server (wrk -t2 -c64 -d10s, median of {RUNS}) | requests/s | vs. bare ASGI |")
    print("|---|---|---:|---:|")
    for candidate in THROUGHPUT:
        if candidate.key in rates:
            rate = rates[candidate.key]
            ratio = f"{rate / base:.2f}" if base else "n/a"
            print(f"| {candidate.key} | {candidate.label} | {rate:,.0f} | {ratio} |")
    print()


def _print_idle(held: dict[str, Held]) -> None:
    if not held:
        return
    print(f"| | {STREAMS:,} streams opened at once | streams served | plain request while held "
          "| server threads | server RSS |")  # fmt: skip
    print("|---|---|---:|---:|---:|---:|")
    for candidate in IDLE:
        if candidate.key in held:
            h = held[candidate.key]
            plain = f"{h.plain_request_ms:,.0f} ms" if h.plain_request_ms is not None else "> 5 s"
            print(
                f"| {candidate.key} | {candidate.label} | {h.streams_open:,} | {plain} "
                f"| {h.threads} | {h.rss_mib} MiB |"
            )
    print()


if __name__ == "__main__":
    main()
