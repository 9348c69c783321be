"""How many real-time streams can one server process hold, how fast does a change reach them all,
and what do they cost the SDK endpoints? (issue 14; docs/performance.md, "Real-time streams")

    .venv/bin/python bench/streams.py                  # 10,000 streams, about 3 minutes
    .venv/bin/python bench/streams.py --streams 2000   # a smaller run

One ``vexil serve --workers 1`` on a scratch SQLite data directory (seed-demo: 100 features,
50 segments), listening on 127.0.0.1 only. A separate client process (its own file-descriptor
limit and event loop) opens ``--streams`` streams to ``/sse/environments/<key>/stream`` and
reads the first event of each. Then:

1. memory: the server's resident memory (main process and worker) before the streams and with
   them all open, per stream;
2. fan-out: the client changes a flag through the management API (``PATCH`` of a feature state)
   and times, for every stream, the arrival of the event that follows; p50 / p99 / max, and how
   many streams missed it (none should);
3. throughput: ``wrk -t2 -c64 -d10s`` on ``GET /api/v1/flags/`` without streams and with them all
   open, ``--runs`` rounds alternating, median of each.

The file-descriptor limit: every open stream is one socket in the server and one in the client.
The script raises its own soft ``RLIMIT_NOFILE`` to the hard limit (its children inherit it) and
refuses to start when the hard limit cannot hold the streams plus headroom; raise it with
``ulimit -n`` (or ``LimitNOFILE=`` in systemd) first.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import multiprocessing.connection
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.serving import serving

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
FD_HEADROOM = 1024  # listening sockets, database files, wrk's 64 connections, the interpreter
CONNECT_CONCURRENCY = 256  # connections being opened at once (the listen backlog is 2,048)
EVENT_TIMEOUT = 30.0


@dataclass
class Options:
    streams: int
    runs: int
    duration: int
    scratch: Path


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "_keys":
        _keys()
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--streams", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3, help="wrk rounds of each")
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="vexil-bench-streams-") as scratch:
        options = Options(args.streams, args.runs, args.duration, Path(scratch))
        _raise_fd_limit(options.streams)
        report = _bench(options)
    print(_markdown(report, options))


def _raise_fd_limit(streams: int) -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = streams + FD_HEADROOM
    if hard != resource.RLIM_INFINITY and hard < needed:
        raise SystemExit(
            f"{streams} streams need a file-descriptor limit of at least {needed} per process; "
            f"the hard limit is {hard} (raise it: ulimit -Hn {needed}, as root)"
        )
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


# --- The data and the server -------------------------------------------------------------------


def _environment(options: Options) -> dict[str, str]:
    keep = {"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR"}
    env = {key: value for key, value in os.environ.items() if key in keep}
    env.update(
        PYTHONPATH=str(ROOT),
        VEXIL_DATA_DIR=str(options.scratch / "data"),
        ENV="production",
        DJANGO_SECRET_KEY="bench-only-secret-key-" + "x" * 40,
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        DJANGO_SETTINGS_MODULE="vexil.settings",
        LOG_LEVEL="warning",
        VEXIL_STREAMS_MAX=str(options.streams + 100),
    )
    return env


def _run(command: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def _seed(env: dict[str, str]) -> dict[str, Any]:
    vexil = str(BIN / "vexil")
    _run([vexil, "migrate", "--verbosity", "0"], env)
    _run([vexil, "seed-demo", "--features", "100", "--segments", "50", "--identities", "10"], env)
    keys: dict[str, Any] = json.loads(_run([sys.executable, __file__, "_keys"], env))
    return keys


def _keys() -> None:
    """(Child process.) The first environment's keys, a master API key and a feature state."""
    import django

    django.setup()
    from vexil.api_keys.services import master_api_key_create
    from vexil.audit.services import Actor
    from vexil.environments.models import Environment
    from vexil.environments.services import environment_api_key_create
    from vexil.features.models import FeatureState

    environment = Environment.objects.select_related("project__organisation").order_by("id")[0]
    actor = Actor(api_key_name="bench")
    _, server_key = environment_api_key_create(environment=environment, name="bench", actor=actor)
    _, master = master_api_key_create(
        organisation=environment.project.organisation, name="bench", actor=actor
    )
    state = FeatureState.objects.filter(
        environment=environment, identity=None, feature_segment=None
    ).order_by("id")[0]
    print(
        json.dumps(
            {
                "client_key": environment.api_key,
                "server_key": server_key,
                "master_key": master,
                "state": state.pk,
            }
        )
    )


def _rss_kib(root_pid: int) -> int:
    """Resident memory of a process and its children (the granian main process and worker)."""
    total = 0
    for pid in [root_pid, *_children(root_pid)]:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        found = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
        total += int(found.group(1)) if found else 0
    return total


def _children(pid: int) -> list[int]:
    try:
        direct = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []
    found = []
    for child in map(int, direct):
        found += [child, *_children(child)]
    return found


# --- The stream client (its own process) -------------------------------------------------------


class _StreamProtocol(asyncio.Protocol):
    """One stream, read by callbacks (no task per stream, so the client costs the machine as
    little as it can): ``ready`` when the first event arrived, ``arrival`` set to the time the
    next event arrives once ``armed``."""

    def __init__(self, ready: asyncio.Future[None], arrivals: list[float]) -> None:
        self.ready = ready
        self.arrivals = arrivals
        self.armed = False
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        now = time.monotonic()
        self.buffer += data
        if not self.ready.done():
            if b" 200 " not in self.buffer.split(b"\r\n", 1)[0] and b"\r\n" in self.buffer:
                self.ready.set_exception(RuntimeError(self.buffer[:200].decode(errors="replace")))
            elif EVENT_MARK in self.buffer:
                self.buffer = b""
                self.ready.set_result(None)
        elif self.armed and EVENT_MARK in self.buffer:
            self.armed = False
            self.arrivals.append(now)
        if len(self.buffer) > 4096:
            self.buffer = self.buffer[-64:]

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.ready.done():
            self.ready.set_exception(ConnectionError("closed before the first event"))


EVENT_MARK = b"event: environment_updated"


class _Streams:
    """``count`` open streams on one event loop."""

    def __init__(self, port: int, key: str) -> None:
        self.port = port
        self.request = (
            f"GET /sse/environments/{key}/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Accept: text/event-stream\r\n\r\n"
        ).encode()
        self.protocols: list[_StreamProtocol] = []
        self.arrivals: list[float] = []

    async def open(self, count: int) -> float:
        limit = asyncio.Semaphore(CONNECT_CONCURRENCY)
        loop = asyncio.get_running_loop()
        started = time.monotonic()

        async def one() -> None:
            async with limit:
                ready = loop.create_future()
                protocol = _StreamProtocol(ready, self.arrivals)
                await loop.create_connection(lambda: protocol, "127.0.0.1", self.port)
                assert protocol.transport is not None
                protocol.transport.write(self.request)
                self.protocols.append(protocol)
                await ready

        await asyncio.gather(*(one() for _ in range(count)))
        return time.monotonic() - started

    def arm(self) -> None:
        self.arrivals.clear()
        for protocol in self.protocols:
            protocol.buffer = b""
            protocol.armed = True

    def close(self) -> None:
        for protocol in self.protocols:
            if protocol.transport is not None:
                protocol.transport.close()


def _patch(port: int, keys: dict[str, Any], value: str) -> None:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/environments/{keys['client_key']}/featurestates/"
        f"{keys['state']}/",
        data=json.dumps({"feature_state_value": value}).encode(),
        method="PATCH",
        headers={
            "Content-Type": "application/json",
            "Authorization": f"Api-Key {keys['master_key']}",
        },
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (loopback)
        assert response.status == 200, response.status


def _client(
    connection: multiprocessing.connection.Connection, port: int, keys: dict[str, Any]
) -> None:
    asyncio.run(_client_loop(connection, port, keys))


async def _client_loop(
    connection: multiprocessing.connection.Connection, port: int, keys: dict[str, Any]
) -> None:
    loop = asyncio.get_running_loop()
    streams = _Streams(port, keys["client_key"])
    while True:
        command, argument = await loop.run_in_executor(None, connection.recv)
        if command == "open":
            connection.send(await streams.open(argument))
        elif command == "change":
            streams.arm()
            changed = time.monotonic()
            await loop.run_in_executor(None, _patch, port, keys, argument)
            answered = time.monotonic()
            deadline = changed + EVENT_TIMEOUT
            while len(streams.arrivals) < len(streams.protocols) and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            connection.send(
                (answered - changed, [arrival - changed for arrival in streams.arrivals])
            )
        elif command == "close":
            streams.close()
            connection.send(None)
            return


# --- wrk -------------------------------------------------------------------------------------


def _wrk(port: int, key: str, duration: int) -> float:
    command = [
        "wrk", "-t2", "-c64", f"-d{duration}s", "-H", f"X-Environment-Key: {key}",
        f"http://127.0.0.1:{port}/api/v1/flags/",
    ]  # fmt: skip
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    if "Non-2xx" in output or "Socket errors" in output:
        raise SystemExit(f"wrk saw errors:\n{output}")
    found = re.search(r"Requests/sec:\s+([\d.]+)", output)
    assert found is not None, output
    return float(found.group(1))


# --- The run -----------------------------------------------------------------------------------


@dataclass
class Report:
    streams: int
    open_seconds: float
    rss_before_kib: int
    rss_with_kib: int
    delivery: list[float]
    patch_seconds: float
    without: list[float]
    with_streams: list[float]
    fd_limit: int
    load: tuple[float, float, float]


def _bench(options: Options) -> Report:
    env = _environment(options)
    print(f"seeding {options.scratch}", file=sys.stderr)
    keys = _seed(env)
    command = [str(BIN / "vexil"), "serve", "--port", "{port}", "--workers", "1", "--no-migrate"]
    log = options.scratch / "server.log"
    with serving(command, env=env, cwd=ROOT, log=log, ready_path="/health/liveness/") as (
        port,
        process,
    ):
        _wrk(port, keys["client_key"], 2)  # warm-up: snapshot built, caches filled
        without = [_wrk(port, keys["client_key"], options.duration)]
        rss_before = _rss_kib(process.pid)
        parent, child = multiprocessing.Pipe()
        client = multiprocessing.get_context("fork").Process(
            target=_client, args=(child, port, keys)
        )
        client.start()
        try:
            print(f"opening {options.streams} streams", file=sys.stderr)
            parent.send(("open", options.streams))
            open_seconds = parent.recv()
            time.sleep(2)
            rss_with = _rss_kib(process.pid)
            print("changing a flag", file=sys.stderr)
            parent.send(("change", "bench change"))
            patch_seconds, delivery = parent.recv()
            print("wrk with the streams open", file=sys.stderr)
            with_streams = [
                _wrk(port, keys["client_key"], options.duration) for _ in range(options.runs)
            ]
            parent.send(("close", None))
            parent.recv()
        finally:
            client.join(timeout=30)
            if client.is_alive():
                client.kill()
        # The rest of the baseline after the streams closed: before and after bracket the runs
        # with them, so a drift of the shared machine shows as a spread, not as a cost.
        time.sleep(2)
        without += [
            _wrk(port, keys["client_key"], options.duration) for _ in range(options.runs - 1)
        ]
    return Report(
        options.streams,
        open_seconds,
        rss_before,
        rss_with,
        delivery,
        patch_seconds,
        without,
        with_streams,
        resource.getrlimit(resource.RLIMIT_NOFILE)[0],
        os.getloadavg(),
    )


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def _markdown(report: Report, options: Options) -> str:
    delivered = len(report.delivery)
    per_stream = (report.rss_with_kib - report.rss_before_kib) / max(report.streams, 1)
    base, loaded = statistics.median(report.without), statistics.median(report.with_streams)
    lines = [
        f"| streams open on one process | {report.streams:,} "
        f"(opened in {report.open_seconds:.1f} s) |",
        f"| file-descriptor limit (soft = hard, per process) | {report.fd_limit:,} |",
        f"| server memory before / with the streams | {report.rss_before_kib / 1024:.0f} MiB / "
        f"{report.rss_with_kib / 1024:.0f} MiB |",
        f"| memory per open stream | {per_stream:.1f} KiB |",
        f"| change delivered to | {delivered:,} of {report.streams:,} streams |",
    ]
    if report.delivery:
        lines.append(
            "| delivery after the PATCH: p50 / p99 / max | "
            f"{_percentile(report.delivery, 0.5) * 1000:.0f} ms / "
            f"{_percentile(report.delivery, 0.99) * 1000:.0f} ms / "
            f"{max(report.delivery) * 1000:.0f} ms |"
        )
        lines.append(
            "| of which: the PATCH's own answer / first stream to last | "
            f"{report.patch_seconds * 1000:.0f} ms / "
            f"{(max(report.delivery) - min(report.delivery)) * 1000:.0f} ms |"
        )
    lines += [
        f"| `GET /api/v1/flags/` without streams (median of {len(report.without)}) | "
        f"{base:,.0f} requests/s ({', '.join(f'{v:,.0f}' for v in report.without)}) |",
        f"| `GET /api/v1/flags/` with the streams open (median of {len(report.with_streams)}) | "
        f"{loaded:,.0f} requests/s ({', '.join(f'{v:,.0f}' for v in report.with_streams)}) |",
        f"| throughput kept | {loaded / base:.0%} |",
        f"| machine load average at the end (1/5/15 min, 2 cores) | "
        f"{' / '.join(f'{v:.1f}' for v in report.load)} |",
    ]
    return "| measure | value |\n|---|---|\n" + "\n".join(lines)


if __name__ == "__main__":
    main()
