"""Change notifications for the SDK ASGI app: "environment N's document changed", written to any
number of open streams from the event loop (docs/realtime.md).

Both real-time channels use it: Flagsmith's ``/sse/environments/<key>/stream``
(vexil.sdk.stream) and OFREP's ``eventStreams`` channel (vexil.sdk.ofrep_events). Neither needs
to know where a change came from::

    with hub.subscribe(environment_id, idle=15.0) as subscription:  # the slot, or a refusal
        await send(response_start)
        await subscription.run(send, render)  # until the stream ends; then the body's end

``render(updated_at)`` turns a change into the stream's event bytes; the hub calls it once per
change for all the streams that share it. The contract:

- ``run`` writes ``first`` (by default ``render`` of the environment's current ``updated_at``),
  then ``render(updated_at)`` for each change and ``KEEP_ALIVE`` at the hub's keep-alive tick,
  every ``idle`` seconds (one timer for all the streams with that interval). Changes that land
  while a stream's previous write is still pending are merged into the latest (a stream never
  falls behind, and never gets the same value twice in a row);
- ``updated_at`` is exactly the document's (``EnvironmentSnapshot.updated_at_header`` is its
  ``repr``), so clients comparing it with the document they hold refetch only when needed;
- ``run`` returns when the environment is deleted and when the hub closes (graceful shutdown:
  clients reconnect to another process), after ending the body (``more_body: False``); and
  when the subscription is closed (``Subscription.close``, on a client disconnect) or a write
  fails, without writing more;
- ``subscribe`` raises ``StreamLimitError`` beyond ``max_subscribers`` open subscriptions per
  process, ``LookupError`` for an environment the process does not know, and ``HubClosedError``
  once the hub has closed. Use it as a context manager, so the slot is freed whatever happens.

Why the hub writes, rather than each stream's coroutine: a change to an environment with 10,000
open streams is one loop callback that calls each stream's ASGI ``send`` in turn, in the order
the streams connected, with one event body and one message shared by all. Under granian,
``send`` of a body chunk hands the bytes to the server at once and returns an awaitable that is
already complete, so nothing is awaited and no coroutine is woken. Waking a coroutine per stream
(a future each, a task step, the send, a new future) cost about five times as much and missed
the issue's one-second fan-out to 10,000 streams (docs/performance.md, "Real-time streams"). A
``send`` that does not complete at once (another ASGI server, a client that does not read) is
finished by a task of its own, and the stream takes the changes it missed meanwhile once it is
done.

Where changes come from. The hub mirrors the registry's key index (vexil.sdk.registry): every
reload of the index reports each environment's ``updated_at`` to ``observe``, and the hub writes
to the streams of the environments whose value moved or that disappeared. The index is reloaded

- at once in the process that commits a change (the SDK app's revision listener);
- every ``VEXIL_SDK_REFRESH_SECONDS`` (0.5 s by default) by the registry's poller, so a change
  committed by ANY process (another ``vexil serve``, a worker, the CLI) reaches the streams of
  every process within that interval, without any other service;
- at once on every process when ``REDIS_URL`` is set: the committing process publishes the
  environment ids on a Redis channel (``RedisRelay``) and every process's relay wakes its poller.

``observe`` runs on whichever thread reloaded the index and hands the changed ids to the event
loop that serves the streams (``call_soon_threadsafe``).
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
import types
from collections.abc import Awaitable, Callable, Generator, Iterator, Mapping
from types import TracebackType
from typing import Any

import orjson
import redis

from vexil.evaluation.keys import EnvironmentRow

logger = logging.getLogger(__name__)

DEFAULT_MAX_SUBSCRIBERS = 10_000
REDIS_CHANNEL = "vexil:environments:updated"
MAX_QUEUED_PUBLISHES = 1000
KEEP_ALIVE = b": keep-alive\n\n"  # an SSE comment: both SDKs and every EventSource skip it

Message = Mapping[str, Any]
Send = Callable[[Message], Awaitable[None]]
Render = Callable[[float], bytes]


class StreamLimitError(Exception):
    """This process already holds its maximum number of open subscriptions."""


class HubClosedError(Exception):
    """The process is shutting down; subscribe elsewhere."""


def _body(chunk: bytes) -> Message:
    return {"type": "http.response.body", "body": chunk, "more_body": True}


_KEEP_ALIVE_MESSAGE = _body(KEEP_ALIVE)
_END_MESSAGE = {"type": "http.response.body", "body": b"", "more_body": False}


class ChangeHub:
    """Per process: the current ``updated_at`` of every environment, and the streams to tell."""

    def __init__(self, *, max_subscribers: int = DEFAULT_MAX_SUBSCRIBERS) -> None:
        self.max_subscribers = max_subscribers
        self._values: dict[int, float] = {}
        self._observe_lock = threading.Lock()
        # The running streams of each environment, in the order they connected (a dict is an
        # ordered set that forgets a member in O(1))
        self._topics: dict[int, dict[Subscription, None]] = {}
        self._idle: dict[float, dict[Subscription, None]] = {}
        self._tickers: dict[float, asyncio.TimerHandle] = {}
        self._open = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False
        self._drained: asyncio.Event | None = None

    # --- fed by the registry (any thread) -------------------------------------------------
    def observe(self, environments: Mapping[int, EnvironmentRow]) -> None:
        """Record every environment's current ``updated_at``; have the streams of those that
        changed or were deleted told. Never raises (it runs inside the registry's refresh)."""
        try:
            with self._observe_lock:
                values = {id_: row.updated_at for id_, row in environments.items()}
                previous, self._values = self._values, values
                moved = [id_ for id_, value in previous.items() if values.get(id_) != value]
            loop = self._loop
            if moved and loop is not None and not loop.is_closed():
                loop.call_soon_threadsafe(self._broadcast, moved)
        except Exception:
            logger.exception("Recording environment changes failed")

    def current(self, environment_id: int) -> float | None:
        """The environment's ``updated_at`` as last observed; None if it is not known."""
        return self._values.get(environment_id)

    # --- on the event loop ----------------------------------------------------------------
    def _broadcast(self, environment_ids: list[int]) -> None:
        """Write each changed environment's new value to its streams (or end them, deleted)."""
        for environment_id in environment_ids:
            topic = self._topics.get(environment_id)
            if not topic:
                continue
            value = self._values.get(environment_id)
            messages: dict[Render, Message] = {}  # one body per kind of stream, not per stream
            for subscription in list(topic):
                if value is None:
                    subscription._end()
                elif (
                    subscription.last != value
                    and subscription.pending is None  # else it catches up once that is done
                    and not subscription.ended
                ):
                    subscription.last = value
                    render = subscription.render
                    message = messages.get(render)
                    if message is None:
                        message = messages[render] = _body(render(value))
                    subscription._write(message)

    def _tick(self, idle: float) -> None:
        """Every ``idle`` seconds, a keep-alive to each stream with that interval."""
        streams = self._idle.get(idle)
        if not streams:
            self._tickers.pop(idle, None)
            return
        for subscription in list(streams):
            if subscription.pending is None and not subscription.ended:
                subscription._write(_KEEP_ALIVE_MESSAGE)
        loop = asyncio.get_running_loop()
        self._tickers[idle] = loop.call_later(idle, self._tick, idle)

    def _listen(self, subscription: Subscription) -> None:
        environment_id, idle = subscription.environment_id, subscription.idle
        self._topics.setdefault(environment_id, {})[subscription] = None
        if idle is not None:
            self._idle.setdefault(idle, {})[subscription] = None
            if idle not in self._tickers:
                loop = asyncio.get_running_loop()
                self._tickers[idle] = loop.call_later(idle, self._tick, idle)

    def _unlisten(self, subscription: Subscription) -> None:
        topic = self._topics.get(subscription.environment_id)
        if topic is not None:
            topic.pop(subscription, None)
            if not topic:
                del self._topics[subscription.environment_id]
        if subscription.idle is not None:
            self._idle.get(subscription.idle, {}).pop(subscription, None)

    # --- subscriptions --------------------------------------------------------------------
    @property
    def open_subscriptions(self) -> int:
        return self._open

    def subscribe(self, environment_id: int, *, idle: float | None = None) -> Subscription:
        """Reserve a stream's slot for one environment's changes (see the module docstring)."""
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
        self._open += 1
        return Subscription(self, environment_id, idle)

    def _release(self, subscription: Subscription) -> None:
        self._unlisten(subscription)
        self._open -= 1
        if self._open == 0 and self._drained is not None:
            self._drained.set()

    async def close(self, timeout: float = 5.0) -> None:
        """Refuse new subscriptions, end every open one, and wait up to ``timeout`` seconds for
        their holders to let go (graceful shutdown: streams end so clients reconnect)."""
        self._closed = True
        for ticker in self._tickers.values():
            ticker.cancel()
        self._tickers.clear()
        if self._open == 0:
            return
        self._drained = asyncio.Event()
        for topic in list(self._topics.values()):
            for subscription in list(topic):
                subscription._end()
        try:
            await asyncio.wait_for(self._drained.wait(), timeout)
        except TimeoutError:
            logger.warning("%d change subscriptions still open at shutdown", self._open)

    @property
    def closed(self) -> bool:
        return self._closed


class Subscription:
    """One stream's slot in the hub; ``run`` serves it (see ChangeHub.subscribe)."""

    __slots__ = (
        "_ended",
        "_failed",
        "_hub",
        "_released",
        "_send",
        "ended",
        "environment_id",
        "idle",
        "last",
        "pending",
        "render",
    )

    def __init__(self, hub: ChangeHub, environment_id: int, idle: float | None) -> None:
        self._hub = hub
        self.environment_id = environment_id
        self.idle = idle
        self.last: float | None = None
        self.render: Render = _unset_render
        self.pending: asyncio.Task[None] | None = None  # a write the server did not finish at once
        self.ended = False
        self._ended: asyncio.Future[None] | None = None
        self._send: Send | None = None
        self._failed = False
        self._released = False

    async def run(self, send: Send, render: Render, *, first: bytes | None = None) -> None:
        """Write ``first`` (default: the current value), then every change and keep-alive until
        the stream ends; then end the body, unless the client left or a write failed."""
        hub = self._hub
        value = hub.current(self.environment_id)
        self._ended = asyncio.get_running_loop().create_future()
        self._send, self.render, self.last = send, render, value
        if value is None or hub.closed or self.ended:
            self._end()
        else:
            hub._listen(self)
            self._write(_body(render(value) if first is None else first))
        await self._ended
        if self.pending is not None:
            await asyncio.wait([self.pending])
        if not (self._released or self._failed):
            try:
                await send(_END_MESSAGE)
            except Exception as error:  # the client went away meanwhile; nothing to tell it
                logger.debug("Stream ended by the connection: %s", error)

    def _write(self, message: Message) -> None:
        """Hand one body chunk to the server; finish it on a task only if it did not at once."""
        assert self._send is not None
        try:
            step = self._send(message).__await__()
            waiting = next(step)
        except StopIteration:
            return  # written: granian's send always comes here
        except Exception as error:
            self._fail(error)
            return
        self.pending = asyncio.get_running_loop().create_task(_resume(step, waiting))
        self.pending.add_done_callback(self._written)

    def _written(self, task: asyncio.Task[None]) -> None:
        self.pending = None
        error = None if task.cancelled() else task.exception()
        if task.cancelled() or error is not None:
            self._fail(error)
            return
        if self.ended:
            return
        value = self._hub.current(self.environment_id)
        if value is None:
            self._end()
        elif value != self.last:  # changes that came while the write was pending
            self.last = value
            self._write(_body(self.render(value)))

    def _fail(self, error: BaseException | None) -> None:
        logger.debug("Stream ended by the connection: %s", error)
        self._failed = True
        self._end()

    def _end(self) -> None:
        """Stop writing to this stream and let ``run`` return (it keeps its slot until closed)."""
        self.ended = True
        if self._ended is not None and not self._ended.done():
            self._ended.set_result(None)
        self._hub._unlisten(self)

    def close(self) -> None:
        """End the stream without another write and free the slot; safe to call more than
        once, from the loop (a client disconnect, or leaving the ``with`` block)."""
        if self._released:
            return
        self._released = True
        self._end()
        self._hub._release(self)

    def __enter__(self) -> Subscription:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def _unset_render(updated_at: float) -> bytes:
    raise RuntimeError("Subscription.run has not started")


@types.coroutine
def _resume(step: Iterator[Any], waiting: Any) -> Generator[Any, None, None]:
    """Finish an awaitable that ``Subscription._write`` started and that yielded ``waiting``
    (the future it waits for): yield that to the task, then drive the rest of it."""
    yield waiting
    yield from step


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
