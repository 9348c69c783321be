"""What the change hub (vexil.sdk.changes) costs per stream when a change fans out, on its own:
no server, no sockets, no client (docs/performance.md, "Real-time streams").

    .venv/bin/python bench/streams_hub.py                    # 10,000 streams, 20 changes
    .venv/bin/python bench/streams_hub.py --streams 2000 --changes 50

One event loop holds ``--streams`` subscriptions of one environment, each served by
``Subscription.run`` as vexil.sdk.stream serves one, with a ``send`` whose awaitable is already
complete (what granian's ``send`` of a body chunk returns). Each change is ``observe`` called from
another thread, as the registry's poller does; the time is from that call to the last stream's
``send``: wall time, and the CPU time of the loop's thread. What is left out is the server's own
work per chunk (granian writing it to the socket) and the client's.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Generator, Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


class _Complete:
    def __await__(self) -> Generator[Any, None, None]:
        yield from ()


COMPLETE = _Complete()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--streams", type=int, default=10_000)
    parser.add_argument("--changes", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="vexil-bench-hub-") as scratch:
        _setup_django(scratch)
        results = asyncio.run(_bench(args.streams, args.changes))
    wall = [seconds for seconds, _ in results]
    cpu = [seconds for _, seconds in results]
    per = 1e6 / args.streams
    print("| measure | value |\n|---|---|")
    print(f"| streams, changes | {args.streams:,}, {args.changes} |")
    print(
        f"| one change to every stream, wall: median / max | {statistics.median(wall) * 1000:.1f}"
        f" ms / {max(wall) * 1000:.1f} ms ({statistics.median(wall) * per:.2f} µs a stream) |"
    )
    print(
        f"| the same, CPU time of the loop's thread: median / max | "
        f"{statistics.median(cpu) * 1000:.1f} ms / {max(cpu) * 1000:.1f} ms "
        f"({statistics.median(cpu) * per:.2f} µs a stream) |"
    )
    load = os.getloadavg()
    print(f"| machine load average (1/5/15 min) | {' / '.join(f'{v:.1f}' for v in load)} |")


def _setup_django(scratch: str) -> None:
    """vexil.sdk imports the models' modules; nothing here touches a database."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vexil.settings")
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret-key-" + "x" * 40)
    os.environ.setdefault("VEXIL_DATA_DIR", scratch)
    import django

    django.setup()


async def _bench(streams: int, changes: int) -> list[tuple[float, float]]:
    from vexil.evaluation.keys import EnvironmentRow
    from vexil.sdk.changes import ChangeHub, Subscription
    from vexil.sdk.stream import event

    def rows(updated_at: float) -> dict[int, EnvironmentRow]:
        return {1: EnvironmentRow(1, "key", 1, True, True, updated_at)}

    hub = ChangeHub(max_subscribers=streams)
    hub.observe(rows(1.0))
    counter = _Counter()

    async def serve(subscription: Subscription) -> None:
        with subscription:
            await subscription.run(counter.send, event)

    tasks = [asyncio.ensure_future(serve(hub.subscribe(1, idle=15.0))) for _ in range(streams)]
    await counter.reached(streams)
    results = []
    for number in range(changes):
        loop_cpu = time.thread_time()
        started = time.perf_counter()
        threading.Thread(target=hub.observe, args=(rows(2.0 + number),)).start()
        await counter.reached(streams * (number + 2))
        results.append((time.perf_counter() - started, time.thread_time() - loop_cpu))
    await hub.close()
    await asyncio.gather(*tasks)
    return results


class _Counter:
    """Every stream's ``send``: counts chunks, and notes when a target count is reached."""

    def __init__(self) -> None:
        self.count = 0
        self.target = 0
        self.done = asyncio.Event()

    def send(self, message: Mapping[str, Any]) -> _Complete:
        self.count += 1
        if self.count == self.target:
            self.done.set()
        return COMPLETE

    async def reached(self, count: int) -> None:
        self.target = count
        if self.count < count:
            self.done.clear()
            await self.done.wait()


if __name__ == "__main__":
    main()
