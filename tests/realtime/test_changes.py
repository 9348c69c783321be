"""The change hub (vexil.sdk.changes) on its own: plain rows in, body chunks out.

No database and no server: the rows are what the registry's key index would report, and each
stream's ASGI ``send`` is a recorder. Three kinds of ``send`` stand for the servers the hub
meets: one whose awaitable is complete when returned (granian's), a coroutine that completes
without suspending, and one that suspends until the test lets it go (a client not reading).
Each test runs its own event loop, as a server process has one.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Generator, Mapping
from typing import Any, TypeVar

import pytest

from vexil.evaluation.keys import EnvironmentRow
from vexil.sdk.changes import (
    KEEP_ALIVE,
    ChangeHub,
    HubClosedError,
    StreamLimitError,
    Subscription,
)
from vexil.sdk.registry import Registry

T = TypeVar("T")
WAIT = 2.0  # seconds a test waits for something that should happen at once
END = b"<end>"  # what the recorder writes down for the body's end (more_body False)


def rows(**updated: float) -> Mapping[int, EnvironmentRow]:
    """Index rows keyed by id, from ``e<id>=updated_at``."""
    found = {}
    for name, updated_at in updated.items():
        id_ = int(name.removeprefix("e"))
        found[id_] = EnvironmentRow(id_, f"key{id_}", 1, True, True, updated_at)
    return found


def run(test: Callable[[], Awaitable[T]]) -> T:
    return asyncio.run(asyncio.wait_for(test(), 10))


def render(updated_at: float) -> bytes:
    return b"v=%r" % updated_at


class _Complete:
    """An awaitable that is already complete (what granian's ``send`` returns)."""

    def __await__(self) -> Generator[Any, None, None]:
        yield from ()  # finishes at the first step, as granian's does


class Recorder:
    """A stream's ``send``: records each chunk; ``kind`` picks how the awaitable behaves."""

    def __init__(self, kind: str = "complete") -> None:
        self.kind = kind
        self.chunks: list[bytes] = []
        self.changed = asyncio.Event()
        self.release = asyncio.Event()  # kind "suspending": lets the pending write finish
        self.fail = False

    def __call__(self, message: Mapping[str, Any]) -> Awaitable[None]:
        if self.fail:
            raise OSError("connection reset")
        self.chunks.append(message["body"] if message["more_body"] else END)
        self.changed.set()
        if self.kind == "complete":
            return _Complete()
        if self.kind == "coroutine":
            return self._nothing()
        return self.release.wait()  # type: ignore[return-value]

    async def _nothing(self) -> None:
        pass

    async def until(self, count: int) -> list[bytes]:
        """The chunks, once there are at least ``count`` of them."""

        async def enough() -> None:
            while len(self.chunks) < count:
                self.changed.clear()
                await self.changed.wait()

        await asyncio.wait_for(enough(), WAIT)
        return self.chunks


async def start(
    hub: ChangeHub, environment_id: int, send: Recorder, **options: Any
) -> tuple[Subscription, asyncio.Task[None]]:
    """A stream served by the hub as vexil.sdk.stream serves one, once it has its first chunk."""
    subscription = hub.subscribe(environment_id, idle=options.pop("idle", None))

    async def serve() -> None:
        with subscription:
            await subscription.run(send, render, **options)

    task = asyncio.ensure_future(serve())
    await send.until(1)
    return subscription, task


def test_run__known_environment__current_value_first() -> None:
    hub = ChangeHub()
    hub.observe(rows(e1=100.5, e2=7.0))

    async def scenario() -> list[bytes]:
        send = Recorder()
        _, task = await start(hub, 1, send)
        task.cancel()
        return send.chunks

    assert run(scenario) == [b"v=100.5"]


def test_run__first_given__written_instead_of_the_current_value() -> None:
    hub = ChangeHub()
    hub.observe(rows(e1=1.0))

    async def scenario() -> list[bytes]:
        send = Recorder()
        _, task = await start(hub, 1, send, first=KEEP_ALIVE)
        hub.observe(rows(e1=2.0))
        chunks = await send.until(2)
        task.cancel()
        return chunks

    assert run(scenario) == [KEEP_ALIVE, b"v=2.0"]


@pytest.mark.parametrize("kind", ["complete", "coroutine"])
def test_observe__change_on_another_thread__new_value_written(kind: str) -> None:
    hub = ChangeHub()
    hub.observe(rows(e1=100.0, e2=5.0))

    async def scenario() -> list[bytes]:
        send = Recorder(kind)
        _, task = await start(hub, 1, send)
        # When the registry's poller thread reloads the index with a new updated_at
        threading.Thread(target=hub.observe, args=(rows(e1=101.25, e2=5.0),)).start()
        chunks = await send.until(2)
        task.cancel()
        return chunks

    assert run(scenario) == [b"v=100.0", b"v=101.25"]


def test_observe__many_streams__each_written_once_in_connection_order_one_render() -> None:
    hub = ChangeHub()
    hub.observe(rows(e1=1.0))
    written: list[int] = []
    renders: list[float] = []

    def counting_render(updated_at: float) -> bytes:
        renders.append(updated_at)
        return render(updated_at)

    async def scenario() -> None:
        tasks = []
        for number in range(5):
            subscription = hub.subscribe(1)

            def send(message: Mapping[str, Any], number: int = number) -> _Complete:
                written.append(number)
                return _Complete()

            async def serve(subscription: Subscription = subscription, send: Any = send) -> None:
                with subscription:
                    await subscription.run(send, counting_render)

            tasks.append(asyncio.ensure_future(serve()))
            await asyncio.sleep(0)
        written.clear()
        renders.clear()
        # When
        hub.observe(rows(e1=2.0))
        await asyncio.sleep(0.05)
        for task in tasks:
            task.cancel()

    run(scenario)
    # Then every stream got the change, in the order they connected, from one rendering
    assert written == [0, 1, 2, 3, 4]
    assert renders == [2.0]


def test_observe__other_environment_changes__nothing_written() -> None:
    hub = ChangeHub()
    hub.observe(rows(e1=1.0, e2=2.0))

    async def scenario() -> list[bytes]:
        send = Recorder()
        _, task = await start(hub, 1, send, idle=0.3)
        hub.observe(rows(e1=1.0, e2=3.0))
        chunks = await send.until(2)  # only the keep-alive tick
        task.cancel()
        return chunks

    assert run(scenario) == [b"v=1.0", KEEP_ALIVE]


def test_observe__changes_while_a_write_is_pending__latest_only_once_it_completes() -> None:
    hub = ChangeHub()
    hub.observe(rows(e1=1.0))

    async def scenario() -> tuple[list[bytes], list[bytes]]:
        send = Recorder("suspending")  # the client does not read: the first write waits
        _, task = await start(hub, 1, send)
        hub.observe(rows(e1=2.0))
        hub.observe(rows(e1=3.0))
        await asyncio.sleep(0.05)
        while_pending = list(send.chunks)
        # When the client reads again
        send.kind = "complete"
        send.release.set()
        chunks = await send.until(2)
        await asyncio.sleep(0.05)
        task.cancel()
        return while_pending, chunks

    while_pending, chunks = run(scenario)
    assert while_pending == [b"v=1.0"]
    assert chunks == [b"v=1.0", b"v=3.0"]


def test_run__idle__keep_alive_after_idle_seconds() -> None:
    hub = ChangeHub()
    hub.observe(rows(e1=1.0))

    async def scenario() -> tuple[list[bytes], float]:
        loop = asyncio.get_running_loop()
        send = Recorder()
        started = loop.time()
        _, task = await start(hub, 1, send, idle=0.2)
        chunks = await send.until(2)
        waited = loop.time() - started
        task.cancel()
        return chunks, waited

    chunks, waited = run(scenario)
    assert chunks == [b"v=1.0", KEEP_ALIVE]
    assert waited >= 0.19


def test_observe__environment_deleted__stream_ends_with_the_body_end() -> None:
    hub = ChangeHub()
    hub.observe(rows(e1=1.0, e2=2.0))

    async def scenario() -> list[bytes]:
        send = Recorder()
        _, task = await start(hub, 1, send)
        hub.observe(rows(e2=2.0))
        await asyncio.wait_for(task, WAIT)
        return send.chunks

    assert run(scenario) == [b"v=1.0", END]
    assert hub.open_subscriptions == 0


def test_subscribe__unknown_environment__lookup_error() -> None:
    hub = ChangeHub()
    hub.observe(rows(e1=1.0))

    async def scenario() -> None:
        hub.subscribe(2)

    with pytest.raises(LookupError):
        run(scenario)
    assert hub.open_subscriptions == 0


def test_subscribe__at_the_limit__refused_until_one_closes() -> None:
    hub = ChangeHub(max_subscribers=2)
    hub.observe(rows(e1=1.0, e2=2.0))

    async def scenario() -> list[bytes]:
        first = hub.subscribe(1)
        with hub.subscribe(2):
            with pytest.raises(StreamLimitError):
                hub.subscribe(1)
            assert hub.open_subscriptions == 2
        send = Recorder()
        _, task = await start(hub, 1, send)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        first.close()
        return send.chunks

    assert run(scenario) == [b"v=1.0"]
    assert hub.open_subscriptions == 0


def test_subscription_close__client_disconnected__run_returns_without_writing() -> None:
    hub = ChangeHub()
    hub.observe(rows(e1=1.0))

    async def scenario() -> list[bytes]:
        send = Recorder()
        subscription, task = await start(hub, 1, send)
        # When the client leaves (the stream's disconnect watcher closes the subscription)
        subscription.close()
        await asyncio.wait_for(task, WAIT)
        hub.observe(rows(e1=2.0))
        await asyncio.sleep(0.05)
        return send.chunks

    assert run(scenario) == [b"v=1.0"]
    assert hub.open_subscriptions == 0


def test_observe__a_write_fails__that_stream_ends_the_others_get_the_change() -> None:
    hub = ChangeHub()
    hub.observe(rows(e1=1.0))

    async def scenario() -> tuple[list[bytes], list[bytes]]:
        broken, healthy = Recorder(), Recorder()
        _, broken_task = await start(hub, 1, broken)
        _, healthy_task = await start(hub, 1, healthy)
        broken.fail = True
        hub.observe(rows(e1=2.0))
        await asyncio.wait_for(broken_task, WAIT)
        chunks = await healthy.until(2)
        healthy_task.cancel()
        return broken.chunks, chunks

    broken, healthy = run(scenario)
    assert broken == [b"v=1.0"]  # no body end written to a connection that failed
    assert healthy == [b"v=1.0", b"v=2.0"]
    assert hub.open_subscriptions == 0


def test_close__open_streams__all_end_with_the_body_end_and_new_ones_refused() -> None:
    hub = ChangeHub()
    hub.observe(rows(e1=1.0, e2=2.0))

    async def scenario() -> list[list[bytes]]:
        sends = [Recorder(), Recorder("coroutine"), Recorder()]
        tasks = [
            (await start(hub, environment_id, send))[1]
            for environment_id, send in zip((1, 1, 2), sends, strict=True)
        ]
        assert hub.open_subscriptions == 3
        await hub.close(timeout=WAIT)
        with pytest.raises(HubClosedError):
            hub.subscribe(1)
        await asyncio.gather(*tasks)
        return [send.chunks for send in sends]

    assert run(scenario) == [[b"v=1.0", END], [b"v=1.0", END], [b"v=2.0", END]]
    assert hub.open_subscriptions == 0


class _Loader:
    def __init__(self) -> None:
        self.environments_rows = list(rows(e1=1.0).values())

    def environments(self) -> list[EnvironmentRow]:
        return self.environments_rows

    def server_keys(self) -> list[Any]:
        return []

    def reset(self) -> None:
        pass


def test_registry_refresh__listener__sees_every_reload() -> None:
    # Given a hub fed by a registry, as the SDK context wires them
    loader = _Loader()
    registry: Registry[Any] = Registry(loader, lambda _id: None)
    hub = ChangeHub()
    registry.on_refresh(hub.observe)
    # When the index is reloaded, then reloaded after a change
    registry.refresh()
    assert hub.current(1) == 1.0
    loader.environments_rows = list(rows(e1=2.5, e3=3.0).values())
    registry.refresh()
    # Then the hub holds the new values
    assert (hub.current(1), hub.current(3)) == (2.5, 3.0)
