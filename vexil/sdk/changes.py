"""Change notifications for the SDK ASGI app: "environment N's document changed" as an async
stream, on the event loop, for any number of open connections (docs/realtime.md).

Both real-time channels use it: Flagsmith's ``/sse/environments/<key>/stream``
(vexil.sdk.stream) and OFREP's ``eventStreams`` channel (vexil.sdk.ofrep). Neither needs to know
where a change came from::

    with hub.subscribe(environment_id, idle=15.0) as updates:
        async for updated_at in updates:
            if updated_at is None:
                ...  # a keep-alive tick (every ``idle`` seconds while waiting)
            else:
                ...  # epoch seconds (float) of the environment document's ``updated_at``

The contract of ``subscribe``:

- with ``idle`` (seconds), ``None`` comes at the hub's keep-alive tick, every ``idle`` seconds
  while the subscriber waits (one timer for all subscribers with that interval);
- the first value is the environment's current ``updated_at``, then each new one; changes that
  land while the subscriber is busy are coalesced into the latest (a subscriber never falls
  behind, and never sees a value twice in a row);
- ``updated_at`` is exactly the document's (``EnvironmentSnapshot.updated_at_header`` is its
  ``repr``), so clients comparing it with the document they hold refetch only when needed;
- the iteration ends (``StopAsyncIteration``) when the environment is deleted, when the
  subscription is closed (``Subscription.close``, e.g. on a client disconnect) and when the hub
  closes (graceful shutdown: clients reconnect to another process);
- ``subscribe`` raises ``StreamLimitError`` beyond ``max_subscribers`` open subscriptions per
  process, ``LookupError`` for an environment the process does not know, and ``HubClosedError``
  once the hub has closed. Use it as a context manager, so the slot is freed whatever happens.

Where changes come from. The hub mirrors the registry's key index (vexil.sdk.registry): every
reload of the index reports each environment's ``updated_at`` to ``observe``, and the hub wakes
the subscribers of the environments whose value moved or that disappeared. The index is reloaded

- at once in the process that commits a change (the SDK app's revision listener);
- every ``VEXIL_SDK_REFRESH_SECONDS`` (0.5 s by default) by the registry's poller, so a change
  committed by ANY process (another ``vexil serve``, a worker, the CLI) reaches the subscribers of
  every process within that interval, without any other service;
- at once on every process when ``REDIS_URL`` is set: the committing process publishes the
  environment ids on a Redis channel (``RedisRelay``) and every process's relay wakes its poller.

``observe`` runs on whichever thread reloaded the index; subscribers live on the event loop that
first subscribed, and are woken with ``call_soon_threadsafe``: one future per waiting subscriber,
no thread, task or timer of the hub's own per stream.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any

import orjson
import redis

from vexil.evaluation.keys import EnvironmentRow

logger = logging.getLogger(__name__)

DEFAULT_MAX_SUBSCRIBERS = 10_000
REDIS_CHANNEL = "vexil:environments:updated"
MAX_QUEUED_PUBLISHES = 1000


class StreamLimitError(Exception):
    """This process already holds its maximum number of open subscriptions."""


class HubClosedError(Exception):
    """The process is shutting down; subscribe elsewhere."""


class _Topic:
    """The subscribers of one environment that are waiting for a change."""

    __slots__ = ("subscribers", "waiters")

    def __init__(self) -> None:
        self.subscribers = 0
        self.waiters: set[asyncio.Future[bool]] = set()

    def wake(self) -> None:
        for waiter in self.waiters:
            if not waiter.done():
                waiter.set_result(True)
        self.waiters.clear()


class ChangeHub:
    """Per process: the current ``updated_at`` of every environment, and who waits for a change."""

    def __init__(self, *, max_subscribers: int = DEFAULT_MAX_SUBSCRIBERS) -> None:
        self.max_subscribers = max_subscribers
        self._values: dict[int, float] = {}
        self._observe_lock = threading.Lock()
        self._topics: dict[int, _Topic] = {}
        self._open = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False
        self._drained: asyncio.Event | None = None
        # Keep-alive ticks: one timer per idle interval for all waiting subscribers (a timer per
        # subscriber per wait was half the cost of a fan-out to 10,000 streams)
        self._idle_waiters: dict[float, set[asyncio.Future[bool]]] = {}
        self._tickers: dict[float, tuple[asyncio.AbstractEventLoop, asyncio.TimerHandle]] = {}

    # --- fed by the registry (any thread) -------------------------------------------------
    def observe(self, environments: Mapping[int, EnvironmentRow]) -> None:
        """Record every environment's current ``updated_at``; wake the subscribers of those that
        changed or were deleted. Never raises (it runs inside the registry's refresh)."""
        try:
            with self._observe_lock:
                values = {id_: row.updated_at for id_, row in environments.items()}
                previous, self._values = self._values, values
                moved = [
                    id_
                    for id_ in self._topics.keys() & previous.keys()
                    if values.get(id_) != previous[id_]
                ]
            loop = self._loop
            if moved and loop is not None and not loop.is_closed():
                loop.call_soon_threadsafe(self._wake, moved)
        except Exception:
            logger.exception("Recording environment changes failed")

    def _wake(self, environment_ids: list[int]) -> None:
        for environment_id in environment_ids:
            topic = self._topics.get(environment_id)
            if topic is not None:
                topic.wake()

    def current(self, environment_id: int) -> float | None:
        """The environment's ``updated_at`` as last observed; None if it is not known."""
        return self._values.get(environment_id)

    # --- subscribers (on the event loop) --------------------------------------------------
    @property
    def open_subscriptions(self) -> int:
        return self._open

    def subscribe(self, environment_id: int, *, idle: float | None = None) -> Subscription:
        """Open a subscription to one environment's changes (see the module docstring)."""
        if self._closed:
            raise HubClosedError
        if self._open >= self.max_subscribers:
            raise StreamLimitError
        if environment_id not in self._values:
            raise LookupError(environment_id)
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            if self._open:
                raise RuntimeError("a ChangeHub serves the subscribers of one event loop")
            self._loop = loop
        topic = self._topics.get(environment_id)
        if topic is None:
            topic = self._topics[environment_id] = _Topic()
        topic.subscribers += 1
        self._open += 1
        return Subscription(self, environment_id, topic, idle)

    def _waiter(self, topic: _Topic, idle: float | None) -> asyncio.Future[bool]:
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[bool] = loop.create_future()
        topic.waiters.add(waiter)
        if idle is not None:
            self._idle_waiters.setdefault(idle, set()).add(waiter)
            ticker = self._tickers.get(idle)
            if ticker is None or ticker[0] is not loop:
                self._tickers[idle] = (loop, loop.call_later(idle, self._tick, idle))
        return waiter

    def _forget(self, topic: _Topic, waiter: asyncio.Future[bool], idle: float | None) -> None:
        topic.waiters.discard(waiter)
        if idle is not None:
            self._idle_waiters.get(idle, set()).discard(waiter)

    def _tick(self, idle: float) -> None:
        """Every ``idle`` seconds, tell each subscriber still waiting that nothing happened."""
        waiters = self._idle_waiters.pop(idle, set())
        for waiter in waiters:
            _resolve(waiter, False)
        loop = asyncio.get_running_loop()
        if waiters:
            self._tickers[idle] = (loop, loop.call_later(idle, self._tick, idle))
        else:
            self._tickers.pop(idle, None)

    def _release(self, environment_id: int, topic: _Topic) -> None:
        self._open -= 1
        topic.subscribers -= 1
        if topic.subscribers == 0 and self._topics.get(environment_id) is topic:
            del self._topics[environment_id]
        if self._open == 0 and self._drained is not None:
            self._drained.set()

    async def close(self, timeout: float = 5.0) -> None:
        """Refuse new subscriptions, end every open one, and wait up to ``timeout`` seconds for
        their holders to let go (graceful shutdown: streams end so clients reconnect)."""
        self._closed = True
        if self._open == 0:
            return
        self._drained = asyncio.Event()
        for topic in list(self._topics.values()):
            topic.wake()
        try:
            await asyncio.wait_for(self._drained.wait(), timeout)
        except TimeoutError:
            logger.warning("%d change subscriptions still open at shutdown", self._open)

    @property
    def closed(self) -> bool:
        return self._closed


class Subscription:
    """An async iterator of one environment's ``updated_at`` values (see ChangeHub.subscribe)."""

    __slots__ = ("_hub", "_topic", "_waiter", "closed", "environment_id", "idle", "last")

    def __init__(self, hub: ChangeHub, environment_id: int, topic: _Topic, idle: float | None):
        self._hub = hub
        self._topic = topic
        self._waiter: asyncio.Future[bool] | None = None
        self.environment_id = environment_id
        self.idle = idle
        self.last: float | None = None
        self.closed = False

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> float | None:
        while True:
            if self.closed or self._hub.closed:
                raise StopAsyncIteration
            value = self._hub.current(self.environment_id)
            if value is None:  # deleted
                raise StopAsyncIteration
            if value != self.last:
                self.last = value
                return value
            if not await self._wait():
                return None

    async def _wait(self) -> bool:
        """Wait for a change (or a close); False at the hub's next keep-alive tick instead."""
        waiter = self._waiter = self._hub._waiter(self._topic, self.idle)
        try:
            return await waiter
        finally:
            self._hub._forget(self._topic, waiter, self.idle)
            self._waiter = None

    def close(self) -> None:
        """End the iteration and free the slot; safe to call more than once, from the loop."""
        if self.closed:
            return
        self.closed = True
        if self._waiter is not None:
            _resolve(self._waiter, True)
        self._hub._release(self.environment_id, self._topic)

    def __enter__(self) -> Subscription:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def _resolve(waiter: asyncio.Future[Any], result: Any) -> None:
    if not waiter.done():
        waiter.set_result(result)


class RedisRelay:
    """Carries "these environments changed" between processes over Redis pub/sub.

    ``publish`` (from the thread that committed) only queues; one daemon thread per process
    publishes the queue and listens on ``REDIS_CHANNEL``, calling ``on_change`` for every message
    (the SDK app wakes its registry's poller, which reloads the index and so feeds the hub). When
    Redis is unreachable it logs once, retries every ``retry_seconds``, and the poller's interval
    still bounds how late a change can be.
    """

    def __init__(
        self, url: str, on_change: Callable[[], None], *, retry_seconds: float = 1.0
    ) -> None:
        self.url = url
        self.on_change = on_change
        self.retry_seconds = retry_seconds
        self._outbox: queue.SimpleQueue[list[int]] = queue.SimpleQueue()
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None
        self.connected = threading.Event()
        self._failing = False

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="vexil-sdk-redis", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def publish(self, environment_ids: list[int]) -> None:
        if self._outbox.qsize() < MAX_QUEUED_PUBLISHES:  # beyond it, Redis is down: the poller
            self._outbox.put(list(environment_ids))

    def _run(self) -> None:
        while not self._stopped.is_set():
            try:
                self._serve()
            except Exception as error:
                if not self._failing:
                    logger.warning(
                        "Redis change relay: %s: %s; retrying every %.1f s (the poller still "
                        "carries changes)",
                        type(error).__name__,
                        error,
                        self.retry_seconds,
                    )
                self._failing = True
                self._stopped.wait(self.retry_seconds)

    def _serve(self) -> None:
        client = redis.Redis.from_url(self.url, socket_connect_timeout=2, socket_timeout=2)
        pubsub = client.pubsub(ignore_subscribe_messages=True)
        try:
            pubsub.subscribe(REDIS_CHANNEL)
            self.connected.set()
            if self._failing:
                logger.warning("Redis change relay: connected again")
                self._failing = False
            self.on_change()  # whatever was published while this process was not listening
            while not self._stopped.is_set():
                self._flush(client)
                message = pubsub.get_message(timeout=0.05)
                if message is not None and message.get("type") == "message":
                    self.on_change()
        finally:
            self.connected.clear()
            pubsub.close()
            client.close()

    def _flush(self, client: Any) -> None:
        while True:
            try:
                ids = self._outbox.get_nowait()
            except queue.Empty:
                return
            try:
                client.publish(
                    REDIS_CHANNEL, orjson.dumps({"environments": ids, "at": time.time()})
                )
            except Exception:
                self._outbox.put(ids)  # keep it for the reconnected client
                raise
