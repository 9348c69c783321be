"""The change-notification hub (vexil.sdk.changes) on its own: plain rows in, values out.

No database: the rows are what the registry's key index would report. Each test runs its own
event loop, as a server process has one.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

import pytest

from vexil.evaluation.keys import EnvironmentRow
from vexil.sdk.changes import ChangeHub, HubClosedError, StreamLimitError, Subscription
from vexil.sdk.registry import Registry

T = TypeVar("T")
WAIT = 2.0  # seconds a test waits for something that should happen at once


def rows(**updated: float) -> Mapping[int, EnvironmentRow]:
    """Index rows keyed by id, from ``e<id>=updated_at``."""
    found = {}
    for name, updated_at in updated.items():
        id_ = int(name.removeprefix("e"))
        found[id_] = EnvironmentRow(id_, f"key{id_}", 1, True, True, updated_at)
    return found


def run(test: Callable[[], Awaitable[T]]) -> T:
    return asyncio.run(asyncio.wait_for(test(), 10))


async def next_value(subscription: Subscription) -> float | None:
    return await asyncio.wait_for(anext(subscription), WAIT)


def test_subscribe__known_environment__current_value_first() -> None:
    hub = ChangeHub()
    hub.observe(rows(e1=100.5, e2=7.0))

    async def scenario() -> float | None:
        with hub.subscribe(1) as updates:
            return await next_value(updates)

    assert run(scenario) == 100.5


def test_subscribe__change_observed_on_another_thread__new_value_delivered() -> None:
    hub = ChangeHub()
    hub.observe(rows(e1=100.0, e2=5.0))

    async def scenario() -> list[float | None]:
        with hub.subscribe(1) as updates:
            seen = [await next_value(updates)]
            # When the registry's poller thread reloads the index with a new updated_at
            threading.Thread(target=hub.observe, args=(rows(e1=101.25, e2=5.0),)).start()
            seen.append(await next_value(updates))
            return seen

    assert run(scenario) == [100.0, 101.25]


def test_subscribe__other_environment_changes__not_woken() -> None:
    hub = ChangeHub()
    hub.observe(rows(e1=1.0, e2=2.0))

    async def scenario() -> list[float | None]:
        with hub.subscribe(1, idle=0.3) as updates:
            seen = [await next_value(updates)]
            hub.observe(rows(e1=1.0, e2=3.0))
            seen.append(await next_value(updates))  # only the idle tick
            return seen

    assert run(scenario) == [1.0, None]


def test_subscribe__two_changes_while_busy__latest_only() -> None:
    hub = ChangeHub()
    hub.observe(rows(e1=1.0))

    async def scenario() -> list[float | None]:
        with hub.subscribe(1, idle=0.3) as updates:
            seen = [await next_value(updates)]
            hub.observe(rows(e1=2.0))
            hub.observe(rows(e1=3.0))
            await asyncio.sleep(0)  # the wake-up runs on the loop
            seen.append(await next_value(updates))
            seen.append(await next_value(updates))
            return seen

    assert run(scenario) == [1.0, 3.0, None]


def test_subscribe__idle__none_after_idle_seconds() -> None:
    hub = ChangeHub()
    hub.observe(rows(e1=1.0))

    async def scenario() -> tuple[float | None, float | None, float]:
        loop = asyncio.get_running_loop()
        with hub.subscribe(1, idle=0.2) as updates:
            first = await next_value(updates)
            started = loop.time()
            tick = await next_value(updates)
            return first, tick, loop.time() - started

    first, tick, waited = run(scenario)
    assert (first, tick) == (1.0, None)
    assert waited >= 0.19


def test_subscribe__environment_deleted__iteration_ends() -> None:
    hub = ChangeHub()
    hub.observe(rows(e1=1.0, e2=2.0))

    async def scenario() -> list[float | None]:
        with hub.subscribe(1) as updates:
            seen = [await next_value(updates)]
            hub.observe(rows(e2=2.0))
            async for value in updates:
                seen.append(value)
            return seen

    assert run(scenario) == [1.0]
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

    async def scenario() -> float | None:
        first = hub.subscribe(1)
        with hub.subscribe(2):
            with pytest.raises(StreamLimitError):
                hub.subscribe(1)
            assert hub.open_subscriptions == 2
        with hub.subscribe(1) as again:
            value = await next_value(again)
        first.close()
        return value

    assert run(scenario) == 1.0
    assert hub.open_subscriptions == 0


def test_subscription_close__from_another_task__waiting_iteration_ends() -> None:
    hub = ChangeHub()
    hub.observe(rows(e1=1.0))

    async def scenario() -> list[float | None]:
        with hub.subscribe(1) as updates:
            seen = [value async for value in _closed_soon(updates)]
        return seen

    async def _closed_soon(updates: Subscription) -> Any:
        asyncio.get_running_loop().call_later(0.05, updates.close)
        async for value in updates:
            yield value

    assert run(scenario) == [1.0]
    assert hub.open_subscriptions == 0


def test_close__open_subscriptions__all_end_and_new_ones_refused() -> None:
    hub = ChangeHub()
    hub.observe(rows(e1=1.0, e2=2.0))

    async def consume(environment_id: int) -> list[float | None]:
        with hub.subscribe(environment_id) as updates:
            return [value async for value in updates]

    async def scenario() -> list[list[float | None]]:
        streams = [asyncio.ensure_future(consume(i)) for i in (1, 1, 2)]
        await asyncio.sleep(0.05)
        assert hub.open_subscriptions == 3
        await hub.close(timeout=WAIT)
        with pytest.raises(HubClosedError):
            hub.subscribe(1)
        return await asyncio.gather(*streams)

    assert run(scenario) == [[1.0], [1.0], [2.0]]
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
