"""How Vexil's SDK endpoints behave through a PostgreSQL outage, and what the largest allowed
request to each costs (docs/reliability.md).

A scratch PostgreSQL cluster of its own (tests/resilience/cluster.py), ``vexil serve`` with two
workers on it, SDK traffic from a few client threads (``GET flags/``, identify calls, OFREP
with and without a targeting key) and two real-time streams held open; a flag is changed a
second before the database stops for ``--outage`` seconds, and again right after it is back.
Then the largest request each SDK endpoint allows, over HTTP. Prints Markdown.

    .venv/bin/python bench/outage.py                 # the 20 s outage
    .venv/bin/python bench/outage.py --outage 5      # quicker
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.serving import serving  # noqa: E402
from tests.resilience.cluster import ScratchCluster  # noqa: E402

BIN = ROOT / ".venv" / "bin"
MAX_TRAITS = 2_000
OFREP = "/ofrep/v1/evaluate/flags"
STREAMS = ["/sse/environments/{}/stream", "/ofrep/v1/events/{}"]
MARKERS = {STREAMS[0]: b"event: environment_updated", STREAMS[1]: b"refetchEvaluation"}


@dataclass
class Tally:
    statuses: dict[int, int] = field(default_factory=dict)
    seconds: list[float] = field(default_factory=list)
    wrong: int = 0

    def add(self, status: int, seconds: float, *, right: bool = True) -> None:
        self.statuses[status] = self.statuses.get(status, 0) + 1
        self.seconds.append(seconds)
        self.wrong += not right

    def row(self, name: str) -> str:
        total = len(self.seconds)
        ordered = sorted(self.seconds)
        p99 = ordered[min(total - 1, int(total * 0.99))] * 1000 if total else 0.0
        p50 = statistics.median(ordered) * 1000 if total else 0.0
        codes = ", ".join(f"{code}: {count}" for code, count in sorted(self.statuses.items()))
        answered = sum(n for code, n in self.statuses.items() if code > 0)
        return (
            f"| {name} | {total} | {answered / max(total, 1):.1%} | {codes} | {self.wrong} | "
            f"{p50:.1f} | {p99:.1f} | {max(ordered, default=0) * 1000:.0f} |"
        )


def request(
    url: str, key: str, body: object = None, method: str = "GET", timeout: float = 5
) -> tuple[int, object, float]:
    data = None if body is None else json.dumps(body).encode()
    headers = {"X-Environment-Key": key, "Content-Type": "application/json"}
    started = time.monotonic()
    try:
        call = urllib.request.Request(url, data=data, method=method, headers=headers)  # noqa: S310
        with urllib.request.urlopen(call, timeout=timeout) as response:  # noqa: S310
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    except (urllib.error.URLError, OSError):
        status, raw = 0, b""
    elapsed = time.monotonic() - started
    try:
        decoded = json.loads(raw) if raw else None
    except ValueError:
        decoded = None
    return status, decoded, elapsed


def banner(decoded: object) -> object:
    if isinstance(decoded, dict) and isinstance(decoded.get("flags"), list):  # OFREP
        return next((f.get("value") for f in decoded["flags"] if f["key"] == "banner"), None)
    if not isinstance(decoded, list):
        return None
    return next(
        (f["feature_state_value"] for f in decoded if f["feature"]["name"] == "banner"), None
    )


def world(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "tests.resilience.world", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return done.stdout


def load(stop: threading.Event, work: Callable[[], None]) -> threading.Thread:
    def run() -> None:
        while not stop.is_set():
            work()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


class Stream:
    """A real-time stream read on a thread: the chunks received and when."""

    def __init__(self, base: str, path: str) -> None:
        port = int(base.rsplit(":", 1)[1])
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=120)
        self.sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
        self.chunks: list[tuple[float, bytes]] = []
        self.closed_at: float | None = None
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        try:
            while chunk := self.sock.recv(65536):
                self.chunks.append((time.monotonic(), chunk))
        except OSError:
            pass
        self.closed_at = time.monotonic()

    def between(self, start: float, end: float) -> bytes:
        return b"".join(c for at, c in list(self.chunks) if start <= at < end)

    def first_after(self, start: float, marker: bytes) -> float:
        for at, chunk in list(self.chunks):
            if at >= start and marker in chunk:
                return at - start
        return float("inf")


def all_current(base: str, key: str, value: str) -> bool:
    return all(banner(request(base + "/api/v1/flags/", key)[1]) == value for _ in range(20))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--outage", type=float, default=20.0, help="seconds the database is down")
    options = parser.parse_args()
    cluster = ScratchCluster()
    scratch = Path(tempfile.mkdtemp(prefix="vexil-outage."))
    try:
        run(options.outage, cluster, scratch)
    finally:
        cluster.remove()


def run(outage: float, cluster: ScratchCluster, scratch: Path) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR")},
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": cluster.url,
        "VEXIL_DATA_DIR": str(scratch / "data"),
        "DJANGO_SECRET_KEY": "bench-only-secret-key-" + "x" * 40,
        "DJANGO_SETTINGS_MODULE": "vexil.settings",
        "LOG_LEVEL": "warning",
        "VEXIL_STREAMS_HEARTBEAT_SECONDS": "1",
    }
    subprocess.run([str(BIN / "vexil"), "migrate", "--verbosity", "0"], env=env, check=True)
    keys = json.loads(world(env, "seed"))
    command = [str(BIN / "vexil"), "serve", "--port", "{port}", "--workers", "2", "--no-migrate"]
    log = scratch / "server.log"
    with serving(command, env=env, cwd=ROOT, log=log, ready_path="/health/liveness/") as (port, _):
        base = f"http://127.0.0.1:{port}"
        measure(base, keys, env, cluster, outage)
        largest_requests(base, keys)
        print(f"\nserver log: {log}", file=sys.stderr)
    bulk_cost(env)


def measure(
    base: str, keys: dict[str, str], env: dict[str, str], cluster: ScratchCluster, outage: float
) -> None:
    client, server = keys["client_key"], keys["server_key"]
    flags, known, unknown = Tally(), Tally(), Tally()
    ofrep, ofrep_identity = Tally(), Tally()
    expected = ["v0"]
    counter = iter(range(10**9))
    kept = {"identifier": "kept", "traits": [{"trait_key": "plan", "trait_value": "pro"}]}

    def read_flags() -> None:
        status, decoded, seconds = request(base + "/api/v1/flags/", client)
        flags.add(status, seconds, right=status == 200 and banner(decoded) == expected[0])

    def identify_known() -> None:
        status, _, seconds = request(base + "/api/v1/identities/", server, kept, "POST")
        known.add(status, seconds)

    def identify_unknown() -> None:
        body = {"identifier": f"user-{next(counter)}"}
        status, _, seconds = request(base + "/api/v1/identities/", server, body, "POST")
        unknown.add(status, seconds)

    def ofrep_flags() -> None:
        status, decoded, seconds = request(base + OFREP, client, {"context": {}}, "POST")
        ofrep.add(status, seconds, right=status == 200 and banner(decoded) == expected[0])

    def ofrep_user() -> None:
        context = {"targetingKey": f"ofrep-{next(counter)}", "plan": "pro"}
        status, decoded, seconds = request(base + OFREP, client, {"context": context}, "POST")
        right = status != 200 or banner(decoded) == expected[0]
        ofrep_identity.add(status, seconds, right=right)

    # A change a second before the outage; the kept identity answered since
    world(env, "set", "banner", "v1")
    expected[0] = "v1"
    time.sleep(1)
    for _ in range(20):
        request(base + "/api/v1/identities/", server, kept, "POST")
    streams = [Stream(base, path.format(client)) for path in STREAMS]
    stop = threading.Event()
    threads = [load(stop, read_flags) for _ in range(3)]
    threads += [load(stop, identify_known), load(stop, identify_unknown)]
    threads += [load(stop, ofrep_flags), load(stop, ofrep_user)]
    time.sleep(0.5)
    cluster.stop()
    down = time.monotonic()
    time.sleep(outage)
    not_ready = request(base + "/health/readiness/", "")[0]
    stop.set()
    for thread in threads:
        thread.join()
    cluster.start()
    back = time.monotonic()
    ready_after = wait(lambda: request(base + "/health/readiness/", "")[0] == 200)
    requested = time.monotonic()  # the change commits inside the subprocess, before it returns
    world(env, "set", "banner", "v2")
    expected[0] = "v2"
    changed = time.monotonic()
    current_after = wait(lambda: all_current(base, client, "v2"))
    print(f"## PostgreSQL stopped for {outage:g} s under SDK traffic (2 workers)\n")
    print("| requests | sent | answered | statuses | wrong value | p50 ms | p99 ms | max ms |")
    print("|---|---|---|---|---|---|---|---|")
    print(flags.row("`GET flags/` (changed 1 s before the outage)"))
    print(known.row("`POST identities/`, an identity answered before"))
    print(unknown.row("`POST identities/`, new identities"))
    print(ofrep.row("OFREP bulk, no targeting key"))
    print(ofrep_identity.row("OFREP bulk, a new targeting key each"))
    print(f"\n* readiness at the end of the outage: {not_ready}")
    print(f"* readiness 200 again {ready_after:.2f} s after the database was back")
    print(
        f"* a change made {changed - back:.2f} s after the database was back was served by every "
        f"worker {current_after:.2f} s after it was made"
    )
    for path, stream in zip(STREAMS, streams, strict=True):
        alive = stream.between(down, back).count(b": keep-alive")
        told = stream.first_after(requested, MARKERS[path])
        closed = "closed" if stream.closed_at is not None else "open"
        print(
            f"* stream `{path.format('<key>')}`: {closed} after the outage, {alive} keep-alives "
            f"during it (1 s heartbeat), told of the change {told:.2f} s after it was asked for "
            f"(a child process that starts Django makes it: {changed - requested:.2f} s)"
        )
        stream.sock.close()


def largest_requests(base: str, keys: dict[str, str]) -> None:
    """The largest request each SDK endpoint allows, end to end over HTTP (median of 3)."""
    client, server = keys["client_key"], keys["server_key"]
    traits = [{"trait_key": f"t{i}", "trait_value": i} for i in range(MAX_TRAITS)]
    attributes = {f"a{i}": i for i in range(MAX_TRAITS)}
    counts = {f"feature-{i}": 1 for i in range(40_000)}  # ~0.9 MiB, the body cap is 1 MiB
    run = iter(range(10**6))

    def bulk(identities: int) -> Callable[[], object]:
        def body() -> object:
            prefix = f"largest-{next(run)}"
            return [
                {"identity": {"identifier": f"{prefix}-{i % identities}"}, "trait_key": f"k{i}",
                 "trait_value": i}
                for i in range(MAX_TRAITS)
            ]  # fmt: skip

        return body

    cases: list[tuple[str, str, str, str, Callable[[], object]]] = [
        ("`PUT traits/bulk/`, 2,000 items, 1 identity", "PUT", "/api/v1/traits/bulk/",
         server, bulk(1)),
        ("`PUT traits/bulk/`, 2,000 items, 2,000 new identities", "PUT", "/api/v1/traits/bulk/",
         server, bulk(MAX_TRAITS)),
        ("`POST identities/`, new identity, 2,000 traits", "POST", "/api/v1/identities/", server,
         lambda: {"identifier": f"largest-{next(run)}", "traits": traits}),
        ("`POST identities/`, same identity and traits again", "POST", "/api/v1/identities/",
         server, lambda: {"identifier": "largest-same", "traits": traits}),
        ("OFREP bulk, 2,000 context attributes", "POST", OFREP, client,
         lambda: {"context": {"targetingKey": f"largest-{next(run)}", **attributes}}),
        ("`POST analytics/flags/`, 40,000 counts (0.9 MiB)", "POST", "/api/v1/analytics/flags/",
         client, lambda: counts),
        ("`GET flags/`", "GET", "/api/v1/flags/", client, lambda: None),
    ]  # fmt: skip
    print("\n## The largest request each SDK endpoint allows, over HTTP\n")
    print("| request | status | median s | max s |")
    print("|---|---|---|---|")
    for name, method, path, key, body in cases:
        results = [request(base + path, key, body(), method, timeout=60) for _ in range(3)]
        seconds = sorted(r[2] for r in results)
        statuses = ", ".join(sorted({str(r[0]) for r in results}))
        print(f"| {name} | {statuses} | {seconds[1]:.3f} | {seconds[2]:.3f} |")


def wait(probe: Callable[[], bool], timeout: float = 60) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if probe():
            return time.monotonic() - started
        time.sleep(0.05)
    return float("inf")


def bulk_cost(env: dict[str, str]) -> None:
    """The largest allowed ``PUT traits/bulk/``, in-process on the scratch cluster."""
    done = subprocess.run(
        [sys.executable, __file__, "_bulk"], env=env, capture_output=True, text=True, check=True
    )
    print(done.stdout)


def _bulk() -> None:
    import django

    django.setup()
    from vexil.environments.models import Environment
    from vexil.identities.identify import TraitInput, traits_bulk_set

    environment = Environment.objects.get(name="Production")
    print(f"\n## Largest allowed `PUT traits/bulk/` ({MAX_TRAITS} items), service time\n")
    print("| items | identities | first write s | same again s |")
    print("|---|---|---|---|")
    for identities in (1, MAX_TRAITS):
        traits: dict[str, list[TraitInput]] = {}
        for i in range(MAX_TRAITS):
            traits.setdefault(f"bulk-{identities}-{i % identities}", []).append(
                TraitInput(f"k{i}", i)
            )
        times = []
        for _ in range(2):
            started = time.perf_counter()
            traits_bulk_set(environment_id=environment.pk, traits=traits)
            times.append(time.perf_counter() - started)
        print(f"| {MAX_TRAITS} | {identities} | {times[0]:.3f} | {times[1]:.3f} |")


if __name__ == "__main__":
    if sys.argv[1:] == ["_bulk"]:
        _bulk()
    else:
        main()
