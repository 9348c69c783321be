"""The Python ``flagsmith`` SDK (the real package) over HTTP against a live ``vexil serve``."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flagsmith import Flagsmith
from flagsmith.exceptions import FlagsmithFeatureDoesNotExistError
from flagsmith.models import DefaultFlag, Flag, Flags
from flagsmith.offline_handlers import LocalFileHandler
from flagsmith.types import TraitMapping
from urllib3 import Retry

from tests.processes import free_port, wait_for
from tests.sdk_clients.conftest import JSON_CONFIG, LiveServer, World
from vexil.analytics.models import FeatureEvaluationCount
from vexil.identities.models import Identity

POWER_BANNER = "Welcome back, power user!"
# The SDK polls the document this often in these tests; the server refreshes every 0.2 s.
SDK_REFRESH_SECONDS = 0.2

MakeClient = Callable[..., Flagsmith]


@pytest.fixture
def make_client(server: LiveServer) -> Iterator[MakeClient]:
    """Build SDK clients pointed at the live server; stop their polling threads afterwards."""
    clients: list[Flagsmith] = []

    def make(key: str, **options: Any) -> Flagsmith:
        options.setdefault("api_url", server.api_url)
        client = Flagsmith(environment_key=key, **options)
        clients.append(client)
        return client

    yield make
    for client in clients:
        poller = getattr(client, "environment_data_polling_manager_thread", None)
        if poller is not None:
            poller.stop()
            poller.join(timeout=5)


def _values(flags: Flags) -> dict[str, tuple[bool, Any]]:
    return {flag.feature_name: (flag.enabled, flag.value) for flag in flags.all_flags()}


def _stored_traits(world: World, identifier: str) -> dict[str, Any]:
    identity = Identity.objects.get(environment=world.environment, identifier=identifier)
    return {trait.trait_key: trait.trait_value for trait in identity.identity_traits.all()}


ENVIRONMENT_DEFAULTS = {
    "banner_text": (True, "Hello"),
    "max_items": (True, 10),
    "dark_mode": (True, None),
    "checkout_config": (True, JSON_CONFIG),
    "beta_search": (False, None),
    "checkout_button": (True, "blue"),
}


# --- Remote evaluation ----------------------------------------------------------------------------
def test_environment_flags__client_key__defaults_without_server_only_features(
    world: World, make_client: MakeClient
) -> None:
    flags = make_client(world.client_key).get_environment_flags()
    assert _values(flags) == ENVIRONMENT_DEFAULTS


def test_environment_flags__server_key__server_only_feature_included(
    world: World, make_client: MakeClient
) -> None:
    flags = make_client(world.server_key).get_environment_flags()
    assert _values(flags) == {**ENVIRONMENT_DEFAULTS, "internal_limits": (True, 5)}


def test_get_flag__by_name__value_enabled_and_feature_id(
    world: World, make_client: MakeClient
) -> None:
    flags = make_client(world.client_key).get_environment_flags()
    flag = flags.get_flag("max_items")
    assert isinstance(flag, Flag)
    assert (flag.enabled, flag.value, flag.feature_id, flag.feature_name) == (
        True,
        10,
        world.features["max_items"].pk,
        "max_items",
    )
    assert flags.is_feature_enabled("dark_mode") is True
    assert flags.get_feature_value("banner_text") == "Hello"
    with pytest.raises(FlagsmithFeatureDoesNotExistError):
        flags.get_flag("no_such_feature")


def test_identity_flags__traits__persisted_and_segment_override_applied(
    world: World, make_client: MakeClient
) -> None:
    # When
    flags = make_client(world.client_key).get_identity_flags(
        "alice@example.com", traits={"orders": 12, "plan": "pro", "beta": True}
    )
    # Then: the power_users override (orders >= 10) wins, and the traits are stored
    assert flags.get_feature_value("banner_text") == POWER_BANNER
    assert flags.is_feature_enabled("beta_search") is True
    assert _stored_traits(world, "alice@example.com") == {"orders": 12, "plan": "pro", "beta": True}


def test_identity_flags__stored_traits__used_on_next_call_without_traits(
    world: World, make_client: MakeClient
) -> None:
    client = make_client(world.client_key)
    client.get_identity_flags("bob", traits={"orders": 30})
    # When: no traits sent; the stored orders=30 still puts bob in power_users
    flags = client.get_identity_flags("bob")
    # Then
    assert flags.get_feature_value("banner_text") == POWER_BANNER


def test_identity_flags__trait_none__deletes_stored_trait(
    world: World, make_client: MakeClient
) -> None:
    client = make_client(world.client_key)
    client.get_identity_flags("carol", traits={"orders": 30, "plan": "team"})
    # When
    flags = client.get_identity_flags("carol", traits={"orders": None})
    # Then
    assert _stored_traits(world, "carol") == {"plan": "team"}
    assert flags.get_feature_value("banner_text") == "Hello"


def test_identity_flags__transient_identity__evaluated_and_not_persisted(
    world: World, make_client: MakeClient
) -> None:
    flags = make_client(world.client_key).get_identity_flags(
        "ghost", traits={"orders": 50}, transient=True
    )
    assert flags.get_feature_value("banner_text") == POWER_BANNER
    assert not Identity.objects.filter(identifier="ghost").exists()


def test_identity_flags__transient_trait__evaluated_and_not_stored(
    world: World, make_client: MakeClient
) -> None:
    flags = make_client(world.client_key).get_identity_flags(
        "dave", traits={"plan": "free", "orders": {"value": 99, "transient": True}}
    )
    assert flags.get_feature_value("banner_text") == POWER_BANNER
    assert _stored_traits(world, "dave") == {"plan": "free"}


def test_identity_flags__client_key__server_only_feature_omitted(
    world: World, make_client: MakeClient
) -> None:
    client_flags = make_client(world.client_key).get_identity_flags("erin")
    server_flags = make_client(world.server_key).get_identity_flags("erin")
    assert "internal_limits" not in _values(client_flags)
    assert server_flags.get_feature_value("internal_limits") == 5


# --- Local evaluation -----------------------------------------------------------------------------
def _identity_results(flags: Flags) -> dict[str, tuple[bool, Any, str | None]]:
    return {f.feature_name: (f.enabled, f.value, f.variant) for f in flags.all_flags()}


def test_local_evaluation__server_key__same_flags_as_remote(
    world: World, make_client: MakeClient
) -> None:
    # Given
    remote = make_client(world.server_key)
    local = make_client(
        world.server_key,
        enable_local_evaluation=True,
        environment_refresh_interval_seconds=SDK_REFRESH_SECONDS,
    )
    traits: TraitMapping = {"orders": 11, "plan": "pro"}
    # Then: environment flags, and identity flags including the multivariate variant
    assert _values(local.get_environment_flags()) == _values(remote.get_environment_flags())
    for identifier in ("frank", "grace", "heidi", "ivan", "judy"):
        local_flags = _identity_results(local.get_identity_flags(identifier, traits))
        remote_flags = _identity_results(
            remote.get_identity_flags(identifier, traits, transient=True)
        )
        assert local_flags == remote_flags, identifier
        assert local_flags["banner_text"] == (True, POWER_BANNER, None)


def test_local_evaluation__feature_state_changed_through_api__picked_up_by_polling(
    world: World, server: LiveServer, make_client: MakeClient
) -> None:
    # Given
    local = make_client(
        world.server_key,
        enable_local_evaluation=True,
        environment_refresh_interval_seconds=SDK_REFRESH_SECONDS,
    )
    assert local.get_environment_flags().get_feature_value("banner_text") == "Hello"
    state = world.state(world.features["banner_text"])
    # When
    world.management(
        server,
        "PATCH",
        f"/api/v1/environments/{world.client_key}/featurestates/{state.pk}/",
        {"feature_state_value": "Spring sale", "enabled": True},
    )
    changed_at = time.monotonic()
    # Then: within the server's refresh plus one SDK poll (bounded at 5 s)
    wait_for(
        lambda: (
            local.get_environment_flags().get_feature_value("banner_text") == "Spring sale" or None
        ),
        timeout=5,
        what="the local evaluation to see the new value",
    )
    assert time.monotonic() - changed_at < 5
    assert local.get_identity_flags("kim").get_feature_value("banner_text") == "Spring sale"


# --- Offline mode and defaults --------------------------------------------------------------------
def test_offline_mode__document_downloaded_from_vexil__evaluates_without_server(
    world: World, server: LiveServer, tmp_path: Path
) -> None:
    # Given: the document saved to a file, as an operator would for offline use
    status, document = server.sdk("GET", "/api/v1/environment-document/", world.server_key)
    assert status == 200
    path = tmp_path / "environment.json"
    path.write_text(json.dumps(document))
    # When: no API URL and no key; the SDK never makes a request
    client = Flagsmith(offline_mode=True, offline_handler=LocalFileHandler(str(path)))
    # Then
    assert _values(client.get_environment_flags()) == {
        **ENVIRONMENT_DEFAULTS,
        "internal_limits": (True, 5),
    }
    power = client.get_identity_flags("offline-user", traits={"orders": 10})
    assert power.get_feature_value("banner_text") == POWER_BANNER
    other = client.get_identity_flags("offline-user", traits={"orders": 9})
    assert other.get_feature_value("banner_text") == "Hello"


def test_default_flag_handler__vexil_unreachable__defaults_served(
    world: World, make_client: MakeClient
) -> None:
    # Given: a port nothing listens on
    closed = f"http://127.0.0.1:{free_port()}/api/v1/"

    def default(name: str) -> DefaultFlag:
        return DefaultFlag(enabled=False, value=f"default-{name}")

    client = make_client(
        world.client_key,
        api_url=closed,
        default_flag_handler=default,
        retries=Retry(total=0),
        request_timeout_seconds=2,
    )
    # When
    environment_flags = client.get_environment_flags()
    identity_flags = client.get_identity_flags("lee", traits={"orders": 12})
    # Then
    assert environment_flags.get_feature_value("banner_text") == "default-banner_text"
    assert environment_flags.is_feature_enabled("banner_text") is False
    assert identity_flags.get_feature_value("max_items") == "default-max_items"


# --- Analytics ------------------------------------------------------------------------------------
def _counts(world: World) -> dict[str, int]:
    rows = FeatureEvaluationCount.objects.filter(environment=world.environment)
    return {row.feature.name: row.count for row in rows.select_related("feature")}


def test_analytics__sdk_flush__counts_stored_and_served_by_management_api(
    world: World, server: LiveServer, make_client: MakeClient
) -> None:
    # Given
    client = make_client(world.client_key, enable_analytics=True)
    flags = client.get_environment_flags()
    for _ in range(3):
        flags.is_feature_enabled("banner_text")
    flags.get_feature_value("max_items")
    flags.get_flag("max_items")
    processor = client._analytics_processor
    assert processor is not None
    # When: what the SDK does by itself after 10 s, forced now
    processor.flush()
    # Then: stored once the server's buffer is flushed (every 0.2 s here)
    expected = {"banner_text": 3, "max_items": 2}
    wait_for(lambda: _counts(world) == expected or None, timeout=10, what=f"the counts {expected}")
    feature = world.features["banner_text"]
    reply = world.management(
        server,
        "GET",
        f"/api/v1/projects/{world.project.pk}/features/{feature.pk}/evaluation-data/"
        f"?environment_id={world.environment.pk}&period=1",
    )
    assert reply == [{"day": datetime.now(UTC).date().isoformat(), "count": 3}]
