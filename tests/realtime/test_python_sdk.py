"""The real Python ``flagsmith`` SDK with real-time updates against a live ``vexil serve``.

Its polling interval is an hour, so only the stream can tell it about a change.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from flagsmith import Flagsmith

from tests.processes import wait_for
from tests.realtime.conftest import DELIVERY_SECONDS, set_banner
from tests.sdk_clients.conftest import LiveServer, World

AN_HOUR = 3600


@pytest.fixture
def realtime_client(server: LiveServer, world: World) -> Iterator[Flagsmith]:
    client = Flagsmith(
        environment_key=world.server_key,
        api_url=server.api_url,
        enable_local_evaluation=True,
        enable_realtime_updates=True,
        realtime_api_url=server.url + "/",
        environment_refresh_interval_seconds=AN_HOUR,
    )
    yield client
    client.event_stream_thread.stop()


def _banner(client: Flagsmith) -> Any:
    return client.get_environment_flags().get_feature_value("banner_text")


def test_python_sdk__realtime__change_seen_within_a_second(
    server: LiveServer, world: World, realtime_client: Flagsmith
) -> None:
    # Given an SDK that evaluates locally and listens to the stream
    assert _banner(realtime_client) == "Hello"
    assert not hasattr(realtime_client, "environment_data_polling_manager_thread")
    wait_for(
        lambda: realtime_client.event_stream_thread.is_alive() or None,
        timeout=5,
        what="the SDK's stream thread",
    )
    # When the flag changes through the management API
    set_banner(world, server, "Spring sale")
    changed = time.monotonic()
    # Then local evaluation gives the new value within a second
    wait_for(
        lambda: _banner(realtime_client) == "Spring sale" or None,
        timeout=DELIVERY_SECONDS,
        what="the SDK to see the change",
    )
    assert time.monotonic() - changed <= DELIVERY_SECONDS
    # And again for a second change on the same stream
    set_banner(world, server, "Summer sale")
    wait_for(
        lambda: _banner(realtime_client) == "Summer sale" or None,
        timeout=DELIVERY_SECONDS,
        what="the SDK to see the second change",
    )
