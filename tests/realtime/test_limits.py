"""A stream server's limits: the per-process cap on open streams, and graceful shutdown."""

from __future__ import annotations

import contextlib
import signal
import time
from pathlib import Path

from tests.processes import (
    free_port,
    http_get,
    read_text,
    running,
    shared_database_url,
    vexil_command,
    vexil_environment,
    wait_for,
)
from tests.realtime.conftest import EventStream, stream_url
from tests.sdk_clients.conftest import World, serving

MANY = 40  # streams beyond the first two in the shutdown test


def test_stream__beyond_the_process_cap__503_with_retry_after(world: World, tmp_path: Path) -> None:
    with serving(tmp_path, VEXIL_STREAMS_MAX="1") as capped:
        first = EventStream(stream_url(capped, world.client_key))
        try:
            assert first.status == 200
            assert first.next_event() is not None
            # When a second client connects while the first holds the only slot
            second = EventStream(stream_url(capped, world.client_key))
            # Then it is refused clearly, and told when to retry
            assert second.status == 503
            assert second.headers["retry-after"] == "1"
            assert second.body() == {
                "detail": "This server holds its maximum of open streams; retry shortly.",
                "code": "service_unavailable",
            }
            # And OFREP's change channel counts against the same cap
            channel = EventStream(ofrep_events_url(capped.url, world.client_key))
            assert (channel.status, channel.headers["retry-after"]) == (503, "1")
            assert channel.body()["code"] == "service_unavailable"
            channel.close()
            # And once the first leaves, a new stream is admitted
            first.close()
            third = _wait_admitted(stream_url(capped, world.client_key))
            assert third.next_event() is not None
            third.close()
        finally:
            first.close()


def _wait_admitted(url: str, timeout: float = 5.0) -> EventStream:
    deadline = time.monotonic() + timeout
    while True:
        stream = EventStream(url)
        if stream.status == 200 or time.monotonic() > deadline:
            assert stream.status == 200
            return stream
        stream.close()
        time.sleep(0.05)


def test_streams__many_open__no_thread_each_and_all_end_on_shutdown(
    world: World, tmp_path: Path
) -> None:
    port = free_port()
    env = vexil_environment(
        DATABASE_URL=shared_database_url(), VEXIL_DATA_DIR=str(tmp_path / "data")
    )
    command = vexil_command("serve", "--port", str(port), "--workers", "1", "--no-migrate")
    with running(command, env=env, output=tmp_path / "server.log") as process:
        url = f"http://127.0.0.1:{port}"
        wait_for(lambda: http_get(url + "/health/liveness/"), timeout=60, what="the server")
        wait_for(
            lambda: EventStream(stream_url_at(url, world.client_key)).status == 200 or None,
            timeout=5,
            what="the server to know the key",
        )
        stream = EventStream(stream_url_at(url, world.client_key))
        channel = EventStream(ofrep_events_url(url, world.client_key))
        more: list[EventStream] = []
        try:
            assert stream.next_event() is not None
            assert channel.status == 200
            assert channel.next() is not None  # its opening keep-alive comment
            # Given many more streams: they wait on the event loop, not on a thread each
            threads = _threads(process.pid)
            for _ in range(MANY):
                more.append(EventStream(stream_url_at(url, world.client_key)))
                assert more[-1].next_event() is not None
            grown = _threads(process.pid) - threads
            assert grown < MANY // 4, f"{grown} more threads with {MANY} more streams"
            # When the server is asked to stop (SIGTERM, as an orchestrator does)
            process.send_signal(signal.SIGTERM)
            # Then both kinds of stream end with HTTP's terminating chunk, so clients reconnect
            ended = stream.next_event(timeout=5)
            assert ended is None, read_text(tmp_path / "server.log")
            assert channel.next_event(timeout=5) is None, read_text(tmp_path / "server.log")
            assert [other.next_event(timeout=5) for other in more] == [None] * MANY
        finally:
            for opened in [stream, channel, *more]:
                opened.close()
        assert process.wait(timeout=15) == 0, read_text(tmp_path / "server.log")


def _threads(pid: int) -> int:
    """Threads of a process and all its descendants (granian's workers are child processes)."""
    count, pending = 0, [pid]
    while pending:
        task = Path(f"/proc/{pending.pop()}/task")
        for thread in task.iterdir():
            count += 1
            with contextlib.suppress(FileNotFoundError):  # a thread that just ended
                pending.extend(int(c) for c in (thread / "children").read_text().split())
    return count


def stream_url_at(base: str, key: str) -> str:
    return f"{base}/sse/environments/{key}/stream"


def ofrep_events_url(base: str, key: str) -> str:
    return f"{base}/ofrep/v1/events/{key}"
