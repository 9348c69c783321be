"""A change committed on one server process reaches the streams of another within a second:
through the database poller alone, and through Redis pub/sub when REDIS_URL is set."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.realtime.conftest import DELIVERY_SECONDS, EventStream, set_banner, stream_url
from tests.sdk_clients.conftest import World, _build_world, serving_all, wait_until_served


def _change_on_a_seen_on_b(world: World, tmp_path: Path, **environment: str) -> float:
    with serving_all([tmp_path / "a", tmp_path / "b"], **environment) as (a, b):
        wait_until_served(a, world.client_key)
        wait_until_served(b, world.client_key)
        stream = EventStream(stream_url(b, world.client_key))
        try:
            before = stream.next_event()
            assert before is not None
            # When the change is committed through process A
            set_banner(world, a, "Changed on A")
            changed = time.monotonic()
            # Then process B's stream says so
            after = stream.next_event(timeout=DELIVERY_SECONDS)
            elapsed = time.monotonic() - changed
            assert after is not None
            assert after.json()["updated_at"] > before.json()["updated_at"]
            return elapsed
        finally:
            stream.close()


def test_two_processes__database_poller__change_reaches_the_other_within_a_second(
    transactional_db: None, tmp_path: Path
) -> None:
    world = _build_world()
    elapsed = _change_on_a_seen_on_b(world, tmp_path, VEXIL_SDK_REFRESH_SECONDS="0.5")
    assert elapsed <= DELIVERY_SECONDS


@pytest.mark.redis
def test_two_processes__redis__change_reaches_the_other_at_once(
    transactional_db: None, tmp_path: Path, redis_url: str
) -> None:
    # The poller runs every 30 s here, so only Redis can carry the change within a second
    world = _build_world()
    elapsed = _change_on_a_seen_on_b(
        world, tmp_path, REDIS_URL=redis_url, VEXIL_SDK_REFRESH_SECONDS="30"
    )
    assert elapsed <= DELIVERY_SECONDS
