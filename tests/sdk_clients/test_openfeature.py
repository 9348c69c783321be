"""OpenFeature (``openfeature-sdk``) with the Flagsmith provider, against a live Vexil."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flagsmith import Flagsmith
from openfeature import api
from openfeature.client import OpenFeatureClient
from openfeature.evaluation_context import EvaluationContext
from openfeature.exception import ErrorCode
from openfeature.flag_evaluation import Reason
from openfeature_flagsmith.provider import FlagsmithProvider

from tests.sdk_clients.conftest import LiveServer, World
from vexil.identities.models import Identity

DOMAIN = "vexil-sdk-clients"


@pytest.fixture
def client(server: LiveServer, world: World) -> Iterator[OpenFeatureClient]:
    flagsmith = Flagsmith(environment_key=world.client_key, api_url=server.api_url)
    api.set_provider(FlagsmithProvider(client=flagsmith), domain=DOMAIN)
    yield api.get_client(DOMAIN)
    api.clear_providers()


def test_resolve__each_type__values_from_vexil(client: OpenFeatureClient) -> None:
    assert client.get_boolean_value("dark_mode", False) is True
    assert client.get_string_value("banner_text", "default") == "Hello"
    assert client.get_integer_value("max_items", 0) == 10
    # Flagsmith has no object type: a JSON string value, parsed by the provider
    assert client.get_object_value("checkout_config", {}) == {"currency": "EUR", "steps": 3}


def test_resolve__disabled_flag__boolean_false(client: OpenFeatureClient) -> None:
    details = client.get_boolean_details("beta_search", True)
    assert (details.value, details.error_code) == (False, None)


def test_resolve__missing_flag__default_with_flag_not_found(client: OpenFeatureClient) -> None:
    details = client.get_string_details("no_such_flag", "fallback")
    assert (details.value, details.reason, details.error_code) == (
        "fallback",
        Reason.ERROR,
        ErrorCode.FLAG_NOT_FOUND,
    )


def test_resolve__wrong_type__default_with_type_mismatch(client: OpenFeatureClient) -> None:
    details = client.get_integer_details("banner_text", 7)
    assert (details.value, details.error_code) == (7, ErrorCode.TYPE_MISMATCH)


def test_resolve__targeting_key_and_attributes__segment_override_applies(
    client: OpenFeatureClient, world: World
) -> None:
    # Given: orders >= 10 puts the identity in power_users
    power = EvaluationContext(targeting_key="of-alice", attributes={"orders": 12, "plan": "pro"})
    casual = EvaluationContext(targeting_key="of-bob", attributes={"orders": 2})
    # Then
    assert client.get_string_value("banner_text", "", power) == "Welcome back, power user!"
    assert client.get_boolean_value("beta_search", False, power) is True
    assert client.get_string_value("banner_text", "", casual) == "Hello"
    assert client.get_boolean_value("beta_search", True, casual) is False
    # The attributes were sent as the identity's traits
    identity = Identity.objects.get(environment=world.environment, identifier="of-alice")
    assert {t.trait_key: t.trait_value for t in identity.identity_traits.all()} == {
        "orders": 12,
        "plan": "pro",
    }
