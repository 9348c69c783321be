"""How many real-time streams can one server process hold, how fast does a change reach them all,
and what do they cost the SDK endpoints? And how fast does a change made through one process
reach the streams of another? (issue 14; docs/performance.md, "Real-time streams")

    .venv/bin/python bench/streams.py                       # 10,000 streams, about 3 minutes
    .venv/bin/python bench/streams.py --streams 2000        # a smaller run
    .venv/bin/python bench/streams.py --runs 0              # fan-out and memory only, no wrk
    .venv/bin/python bench/streams.py --cross poller        # change on process A, streams on B
    .venv/bin/python bench/streams.py --cross redis         # the same, carried by Redis pub/sub

One ``vexil serve --workers 1`` on a scratch SQLite data directory (seed-demo: 100 features,
50 segments), listening on 127.0.0.1 only. A separate client process (its own file-descriptor
limit and event loop) opens ``--streams`` streams to ``/sse/environments/<key>/stream`` and
reads the first event of each. Then:

1. memory: the server's resident memory (main process and worker) before the streams and with
   them all open, per stream;
2. fan-out: the client changes a flag through the management API (``PATCH`` of a feature state)
   ``--changes`` times, a second apart, and times, for every stream, the arrival of the event
   that follows each; p50 / p99 / max per change, and how many streams missed it (none should);
3. throughput: ``wrk -t2 -c64 -d10s`` on ``GET /api/v1/flags/`` without streams and with them all
   open, ``--runs`` adjacent pairs (streams open, then just closed), the ratio of each pair and
   their median (``--runs 0``: skipped).

``--cross poller`` and ``--cross redis`` measure delivery between processes instead: two
``vexil serve --workers 1`` (A and B) on the same data directory, the streams open on B, every
change made through A. With ``poller``, B learns of it from its revision poller (every
``VEXIL_SDK_REFRESH_SECONDS``, 0.5 s); with ``redis``, a throwaway ``redis-server`` on a loopback
port carries it (``REDIS_URL`` on both) and the poller is slowed to 30 s so that only Redis can
deliver within a second.

The file-descriptor limit: every open stream is one socket in the server and one in the client.
The script raises its own soft ``RLIMIT_NOFILE`` to the hard limit (its children inherit it) and
refuses to start when the hard limit cannot hold the streams plus headroom; raise it with
``ulimit -n`` (or ``LimitNOFILE=`` in systemd) first.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import multiprocessing.connection
import os
import re
import resource
import select
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.serving import free_port, serving

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
FD_HEADROOM = 1024  # listening sockets, database files, wrk's 64 connections, the interpreter
CONNECT_CONCURRENCY = 256  # connections being opened at once (the listen backlog is 2,048)
EVENT_TIMEOUT = 30.0
CHANGE_GAP_SECONDS = 1.0  # between one change's last delivery and the next change
CROSS = ("poller", "redis")
REDIS_POLLER_SECONDS = "30"  # with --cross redis: only Redis can deliver within a second


@dataclass
class Options:
    streams: int
    runs: int
    duration: int
    changes: int
    cross: str | None
    refresh_seconds: str
    scratch: Path


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "_keys":
        _keys()
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--streams", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3, help="wrk rounds of each")
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--changes", type=int, default=5, help="changes timed, a second apart")
    parser.add_argument(
        "--cross", choices=CROSS, help="streams on one process, changes through another"
    )
    parser.add_argument(
        "--refresh-seconds",
        default="0.5",
        help="VEXIL_SDK_REFRESH_SECONDS of both processes with --cross poller (default: 0.5)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="vexil-bench-streams-") as scratch:
        options = Options(
            args.streams,
            args.runs,
            args.duration,
            max(args.changes, 1),
            args.cross,
            args.refresh_seconds,
            Path(scratch),
        )
        _raise_fd_limit(options.streams)
        load_before = os.getloadavg()
        if options.cross:
            print(_cross_markdown(_bench_cross(options), load_before))
        else:
            print(_markdown(_bench(options), load_before))


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


def _cpu_seconds(root_pid: int) -> float:
    """CPU time (user + system) a process and its children have used so far."""
    ticks = 0
    for pid in [root_pid, *_children(root_pid)]:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return ticks / os.sysconf("SC_CLK_TCK")


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


EVENT_MARK = b"event: environment_updated"


class _Streams:
    """Open streams read with one ``epoll`` in one thread: no event loop, protocol object or
    callback per read, so the client costs the shared machine as little as Python can (with
    asyncio it spent about three times the server's CPU time per delivered event)."""

    def __init__(self, port: int, key: str) -> None:
        self.port = port
        self.request = (
            f"GET /sse/environments/{key}/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Accept: text/event-stream\r\n\r\n"
        ).encode()
        self.poller = select.epoll()
        self.sockets: dict[int, socket.socket] = {}
        self.tails: dict[int, bytes] = {}  # the end of the last read, for a mark split in two
        self.waiting: set[int] = set()  # streams that have not had the awaited event yet
        self.unchecked: set[int] = set()  # streams whose response head has not arrived yet
        self.arrivals: list[float] = []

    def open(self, count: int) -> float:
        """Open ``count`` streams, CONNECT_CONCURRENCY at a time, each until its first event."""
        started = time.monotonic()
        while len(self.sockets) < count:
            for _ in range(min(CONNECT_CONCURRENCY, count - len(self.sockets))):
                self._connect()
            self.read_until(time.monotonic() + EVENT_TIMEOUT)
            if self.waiting:
                raise SystemExit(f"{len(self.waiting)} streams had no first event")
        self.arrivals.clear()
        return time.monotonic() - started

    def _connect(self) -> None:
        sock = socket.create_connection(("127.0.0.1", self.port))
        sock.sendall(self.request)
        sock.setblocking(False)
        fd = sock.fileno()
        self.sockets[fd] = sock
        self.tails[fd] = b""
        self.waiting.add(fd)
        self.unchecked.add(fd)
        self.poller.register(fd, select.EPOLLIN)

    def arm(self) -> None:
        """From now, time each stream's next event."""
        self.arrivals.clear()
        self.waiting = set(self.sockets)
        self.tails = dict.fromkeys(self.sockets, b"")

    def read_until(self, deadline: float) -> None:
        """Read whatever arrives until every stream had its event, or ``deadline``."""
        poll, sockets, tails, waiting = self.poller.poll, self.sockets, self.tails, self.waiting
        arrivals = self.arrivals
        while waiting:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            for fd, _ in poll(min(remaining, 0.5), 4096):
                data = sockets[fd].recv(65536)
                now = time.monotonic()
                if not data:
                    raise SystemExit("the server closed a stream")
                seen = tails[fd] + data
                if fd in self.unchecked:
                    self._check(fd, seen)
                if fd in waiting and EVENT_MARK in seen:
                    waiting.discard(fd)
                    arrivals.append(now)
                    seen = b""
                tails[fd] = seen[-64:]

    def _check(self, fd: int, head: bytes) -> None:
        if not head.startswith(b"HTTP/1.1 200 "):
            raise SystemExit(f"stream refused: {head[:300].decode(errors='replace')}")
        self.unchecked.discard(fd)

    def close(self) -> None:
        for sock in self.sockets.values():
            sock.close()
        self.poller.close()


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


@dataclass
class Delivery:
    """One change: how long the ``PATCH`` took to answer, and when each stream had the event
    (seconds after the ``PATCH`` was sent)."""

    patch_seconds: float
    arrivals: list[float]
    client_cpu: float  # the client process's CPU time from the PATCH to the last arrival
    server_cpu: float = 0.0  # the stream server's (process tree), measured by the parent


def _client(
    connection: multiprocessing.connection.Connection,
    stream_port: int,
    patch_port: int,
    keys: dict[str, Any],
) -> None:
    streams = _Streams(stream_port, keys["client_key"])
    while True:
        command, argument = connection.recv()
        if command == "open":
            connection.send(streams.open(argument))
        elif command == "change":
            streams.arm()
            cpu = time.process_time()
            changed = time.monotonic()
            answered: list[float] = []
            patch = threading.Thread(
                target=_timed_patch, args=(patch_port, keys, argument, answered)
            )
            patch.start()
            streams.read_until(changed + EVENT_TIMEOUT)
            patch.join()
            cpu = time.process_time() - cpu
            arrivals = [arrival - changed for arrival in streams.arrivals]
            connection.send(Delivery(answered[0] - changed, arrivals, cpu))
        elif command == "drop":  # close every stream, keep the client for another "open"
            streams.close()
            streams = _Streams(stream_port, keys["client_key"])
            connection.send(None)
        elif command == "close":
            streams.close()
            connection.send(None)
            return


def _timed_patch(port: int, keys: dict[str, Any], value: str, answered: list[float]) -> None:
    _patch(port, keys, value)
    answered.append(time.monotonic())


@contextmanager
def _stream_client(
    stream_port: int, patch_port: int, keys: dict[str, Any]
) -> Iterator[multiprocessing.connection.Connection]:
    """The client process: streams on ``stream_port``, changes through ``patch_port``."""
    parent, child = multiprocessing.Pipe()
    client = multiprocessing.get_context("fork").Process(
        target=_client, args=(child, stream_port, patch_port, keys)
    )
    client.start()
    try:
        yield parent
        parent.send(("close", None))
        parent.recv()
    finally:
        client.join(timeout=30)
        if client.is_alive():
            client.kill()


def _changes(
    connection: multiprocessing.connection.Connection, count: int, server_pid: int
) -> list[Delivery]:
    deliveries = []
    for number in range(count):
        if number:
            time.sleep(CHANGE_GAP_SECONDS)
        print(f"change {number + 1} of {count}", file=sys.stderr)
        cpu = _cpu_seconds(server_pid)
        connection.send(("change", f"bench change {number + 1}"))
        delivery: Delivery = connection.recv()
        delivery.server_cpu = _cpu_seconds(server_pid) - cpu
        deliveries.append(delivery)
    return deliveries


# --- wrk -------------------------------------------------------------------------------------


def _wrk_with_cpu(port: int, key: str, duration: int, server_pid: int) -> tuple[float, float]:
    """Requests/s, and the server's (process tree) CPU seconds per request: the second depends
    much less than the first on what else the shared machine is doing."""
    cpu = _cpu_seconds(server_pid)
    rate = _wrk(port, key, duration)
    return rate, (_cpu_seconds(server_pid) - cpu) / (rate * duration)


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


# --- One process -------------------------------------------------------------------------------


@dataclass
class Report:
    streams: int
    open_seconds: float
    rss_before_kib: int
    rss_with_kib: int
    deliveries: list[Delivery]
    without: list[float]
    with_streams: list[float]
    cpu_without: list[float]
    cpu_with: list[float]
    fd_limit: int
    load: tuple[float, float, float]


def _bench(options: Options) -> Report:
    env = _environment(options)
    print(f"seeding {options.scratch}", file=sys.stderr)
    keys = _seed(env)
    log = options.scratch / "server.log"
    with serving(_serve_command(), env=env, cwd=ROOT, log=log, ready_path=READY) as (
        port,
        process,
    ):
        if options.runs:
            _wrk(port, keys["client_key"], 2)  # warm-up: snapshot built, caches filled
        rss_before = _rss_kib(process.pid)
        without: list[float] = []
        with_streams: list[float] = []
        cpu_without: list[float] = []  # the server's CPU time per request of each run
        cpu_with: list[float] = []
        with _stream_client(port, port, keys) as client:
            print(f"opening {options.streams} streams", file=sys.stderr)
            client.send(("open", options.streams))
            open_seconds = client.recv()
            time.sleep(2)
            rss_with = _rss_kib(process.pid)
            deliveries = _changes(client, options.changes, process.pid)
            # Throughput in adjacent pairs: with the streams open, then right after closing them,
            # then open again for the next pair. A drift of the shared machine hits both runs of
            # a pair alike, so each pair's ratio is the streams' cost at that moment.
            for number in range(options.runs):
                print(f"wrk pair {number + 1} of {options.runs}", file=sys.stderr)
                if number:
                    client.send(("open", options.streams))
                    client.recv()
                    time.sleep(2)
                rate, cpu = _wrk_with_cpu(port, keys["client_key"], options.duration, process.pid)
                with_streams.append(rate)
                cpu_with.append(cpu)
                client.send(("drop", None))
                client.recv()
                time.sleep(2)
                rate, cpu = _wrk_with_cpu(port, keys["client_key"], options.duration, process.pid)
                without.append(rate)
                cpu_without.append(cpu)
    return Report(
        options.streams,
        open_seconds,
        rss_before,
        rss_with,
        deliveries,
        without,
        with_streams,
        cpu_without,
        cpu_with,
        resource.getrlimit(resource.RLIMIT_NOFILE)[0],
        os.getloadavg(),
    )


READY = "/health/liveness/"


def _serve_command() -> list[str]:
    return [str(BIN / "vexil"), "serve", "--port", "{port}", "--workers", "1", "--no-migrate"]


# --- Two processes -----------------------------------------------------------------------------


@dataclass
class CrossReport:
    via: str
    streams: int
    refresh_seconds: str
    deliveries: list[Delivery]
    load: tuple[float, float, float]


def _bench_cross(options: Options) -> CrossReport:
    env = _environment(options)
    print(f"seeding {options.scratch}", file=sys.stderr)
    keys = _seed(env)
    refresh = options.refresh_seconds
    with ExitStack() as stack:
        if options.cross == "redis":
            refresh = REDIS_POLLER_SECONDS
            env.update(REDIS_URL=stack.enter_context(_redis(options.scratch)))
        env.update(VEXIL_SDK_REFRESH_SECONDS=refresh)
        a_port, _ = stack.enter_context(
            serving(
                _serve_command(), env=env, cwd=ROOT, log=options.scratch / "a.log", ready_path=READY
            )
        )
        b_port, b_process = stack.enter_context(
            serving(
                _serve_command(), env=env, cwd=ROOT, log=options.scratch / "b.log", ready_path=READY
            )
        )
        with _stream_client(b_port, a_port, keys) as client:
            print(f"opening {options.streams} streams on B", file=sys.stderr)
            client.send(("open", options.streams))
            client.recv()
            time.sleep(2)
            deliveries = _changes(client, options.changes, b_process.pid)
    return CrossReport(options.cross or "", options.streams, refresh, deliveries, os.getloadavg())


@contextmanager
def _redis(scratch: Path) -> Iterator[str]:
    """A throwaway ``redis-server`` on a free loopback port, no persistence."""
    port = free_port()
    command = [
        "redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
        "--appendonly", "no", "--dir", str(scratch),
    ]  # fmt: skip
    with (scratch / "redis.log").open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 10
        while (
            subprocess.run(
                ["redis-cli", "-p", str(port), "ping"], capture_output=True, check=False
            ).stdout.strip()
            != b"PONG"
        ):
            if time.monotonic() > deadline or process.poll() is not None:
                raise SystemExit(
                    f"redis-server did not start: {(scratch / 'redis.log').read_text()}"
                )
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)


# --- Reports -----------------------------------------------------------------------------------


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def _delivery_rows(deliveries: list[Delivery], streams: int) -> list[str]:
    """One row per change: streams reached, p50 / p99 / max after the PATCH, first to last."""
    rows = []
    for number, delivery in enumerate(deliveries, 1):
        arrivals = delivery.arrivals
        if not arrivals:
            rows.append(f"| change {number} | 0 of {streams:,} streams |")
            continue
        rows.append(
            f"| change {number}: streams reached; p50 / p99 / max after the `PATCH`; "
            f"`PATCH` answered; first stream to last; CPU time of the stream server / the "
            f"client | {len(arrivals):,} of {streams:,}; "
            f"{_percentile(arrivals, 0.5) * 1000:.0f} / {_percentile(arrivals, 0.99) * 1000:.0f} / "
            f"{max(arrivals) * 1000:.0f} ms; {delivery.patch_seconds * 1000:.0f} ms; "
            f"{(max(arrivals) - min(arrivals)) * 1000:.0f} ms; "
            f"{delivery.server_cpu * 1000:.0f} / {delivery.client_cpu * 1000:.0f} ms |"
        )
    p99s = [_percentile(d.arrivals, 0.99) for d in deliveries if d.arrivals]
    if p99s:
        rows.append(
            f"| p99 delivery, median of the {len(p99s)} changes (worst) | "
            f"{statistics.median(p99s) * 1000:.0f} ms ({max(p99s) * 1000:.0f} ms) |"
        )
    return rows


def _load(label: str, load: tuple[float, float, float]) -> str:
    return (
        f"| machine load average {label} (1/5/15 min, 2 cores) | "
        f"{' / '.join(f'{v:.1f}' for v in load)} |"
    )


def _markdown(report: Report, load_before: tuple[float, float, float]) -> str:
    per_stream = (report.rss_with_kib - report.rss_before_kib) / max(report.streams, 1)
    lines = [
        f"| streams open on one process | {report.streams:,} "
        f"(opened in {report.open_seconds:.1f} s) |",
        f"| file-descriptor limit (soft = hard, per process) | {report.fd_limit:,} |",
        f"| server memory before / with the streams | {report.rss_before_kib / 1024:.0f} MiB / "
        f"{report.rss_with_kib / 1024:.0f} MiB |",
        f"| memory per open stream | {per_stream:.1f} KiB |",
        *_delivery_rows(report.deliveries, report.streams),
    ]
    if report.without and report.with_streams:
        base, loaded = statistics.median(report.without), statistics.median(report.with_streams)
        kept = [w / o for w, o in zip(report.with_streams, report.without, strict=True)]
        lines += [
            f"| `GET /api/v1/flags/` without streams (median of {len(report.without)}) | "
            f"{base:,.0f} requests/s ({', '.join(f'{v:,.0f}' for v in report.without)}) |",
            f"| `GET /api/v1/flags/` with the streams open (median of "
            f"{len(report.with_streams)}) | {loaded:,.0f} requests/s "
            f"({', '.join(f'{v:,.0f}' for v in report.with_streams)}) |",
            f"| throughput kept, each pair (with / without, adjacent runs) | "
            f"{', '.join(f'{ratio:.0%}' for ratio in kept)} |",
            f"| throughput kept, median of the pairs | {statistics.median(kept):.0%} |",
            f"| server CPU time per request without / with the streams (median) | "
            f"{statistics.median(report.cpu_without) * 1e6:.0f} µs "
            f"({', '.join(f'{v * 1e6:.0f}' for v in report.cpu_without)}) / "
            f"{statistics.median(report.cpu_with) * 1e6:.0f} µs "
            f"({', '.join(f'{v * 1e6:.0f}' for v in report.cpu_with)}) |",
        ]
    lines += [_load("at the start", load_before), _load("at the end", report.load)]
    return "| measure | value |\n|---|---|\n" + "\n".join(lines)


def _cross_markdown(report: CrossReport, load_before: tuple[float, float, float]) -> str:
    carrier = (
        f"Redis pub/sub (poller every {report.refresh_seconds} s)"
        if report.via == "redis"
        else f"the revision poller (every {report.refresh_seconds} s)"
    )
    lines = [
        f"| streams open on process B; changes through process A | {report.streams:,} |",
        f"| carried by | {carrier} |",
        *_delivery_rows(report.deliveries, report.streams),
        _load("at the start", load_before),
        _load("at the end", report.load),
    ]
    return "| measure | value |\n|---|---|\n" + "\n".join(lines)


if __name__ == "__main__":
    main()
