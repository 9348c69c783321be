"""Freshness across processes: a change committed through the management API on one
``vexil serve`` is served by ``/api/v1/flags/`` of another, on the same database, within one
second; with Redis as the cache and without it (issue 5, "caching that is always coherent")."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

from tests.sdk_clients.conftest import LiveServer, World, serving_all, wait_until_served

BOUND_SECONDS = 1.0


@pytest.fixture(
    params=[
        pytest.param("", id="no-redis"),
        pytest.param("redis", id="redis", marks=pytest.mark.redis),
    ]
)
def two_servers(
    request: pytest.FixtureRequest, world: World, tmp_path: Path
) -> Iterator[tuple[LiveServer, LiveServer]]:
    """Processes A and B on the test database, both with the test Redis or neither."""
    # The production refresh interval, not the tests' shorter one: the bound is the real one.
    environment = {"VEXIL_SDK_REFRESH_SECONDS": str(settings.VEXIL_SDK_REFRESH_SECONDS)}
    if request.param == "redis":
        environment["REDIS_URL"] = request.getfixturevalue("redis_url")
    with serving_all([tmp_path / "a", tmp_path / "b"], **environment) as (a, b):
        for live in (a, b):
            wait_until_served(live, world.client_key)
        yield a, b


def _banner(server: LiveServer, world: World) -> str:
    status, flags = server.sdk("GET", "/api/v1/flags/", world.client_key)
    assert status == 200, flags
    return next(f["feature_state_value"] for f in flags if f["feature"]["name"] == "banner_text")


def _seconds_until_served(server: LiveServer, world: World, value: str, since: float) -> float:
    """Poll until ``server`` serves ``value``; fail once the bound has passed."""
    while _banner(server, world) != value:
        if time.monotonic() - since > BOUND_SECONDS:
            raise AssertionError(f"{server.url} still serves the old value after 1 s")
        time.sleep(0.01)
    return time.monotonic() - since


def test_flags__change_committed_on_process_a__served_by_process_b_within_one_second(
    two_servers: tuple[LiveServer, LiveServer], world: World
) -> None:
    a, b = two_servers
    state = world.state(world.features["banner_text"])
    assert (_banner(a, world), _banner(b, world)) == ("Hello", "Hello")
    for value in ("first change", "second change", "third change"):
        # When
        world.management(
            a,
            "PATCH",
            f"/api/v1/environments/{world.client_key}/featurestates/{state.pk}/",
            {"feature_state_value": value},
        )
        committed = time.monotonic()
        # Then
        assert _seconds_until_served(b, world, value, committed) < BOUND_SECONDS
        assert _seconds_until_served(a, world, value, committed) < BOUND_SECONDS
