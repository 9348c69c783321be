"""The OpenFeature Python SDK with ``openfeature-provider-ofrep`` against a live Vexil."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from openfeature import api
from openfeature.client import OpenFeatureClient
from openfeature.contrib.provider.ofrep import OFREPProvider
from openfeature.evaluation_context import EvaluationContext
from openfeature.exception import ErrorCode
from openfeature.flag_evaluation import Reason

from tests.ofrep.conftest import Flags, LiveServer

DOMAIN = "vexil-ofrep"


@pytest.fixture
def client(server: LiveServer, served_flags: Flags) -> Iterator[OpenFeatureClient]:
    key = served_flags.client_key
    provider = OFREPProvider(server.url, headers_factory=lambda: {"Authorization": f"Bearer {key}"})
    api.set_provider(provider, domain=DOMAIN)
    yield api.get_client(DOMAIN)
    api.clear_providers()


def test_resolve__each_type__values_from_vexil(client: OpenFeatureClient) -> None:
    assert client.get_boolean_value("dark_mode", False) is True
    assert client.get_string_value("banner_text", "default") == "Hello"
    assert client.get_integer_value("max_items", 0) == 10
    assert client.get_float_value("ratio", 0.0) == 2.5
    assert client.get_object_value("checkout_config", {}) == {"currency": "EUR", "steps": 3}


def test_resolve__disabled_flags__false_or_code_default(client: OpenFeatureClient) -> None:
    details = client.get_boolean_details("beta_search", True)
    assert (details.value, details.reason, details.error_code) == (False, Reason.DISABLED, None)
    # A disabled flag with a value: the code default, without error
    text = client.get_string_details("old_banner", "fallback")
    assert (text.value, text.reason, text.error_code) == ("fallback", Reason.DISABLED, None)


def test_resolve__missing_flag__default_with_flag_not_found(client: OpenFeatureClient) -> None:
    details = client.get_string_details("no_such_flag", "fallback")
    assert (details.value, details.reason, details.error_code) == (
        "fallback",
        Reason.ERROR,
        ErrorCode.FLAG_NOT_FOUND,
    )


def test_resolve__targeting_key_and_attributes__segment_and_split(
    client: OpenFeatureClient,
) -> None:
    power = EvaluationContext(targeting_key="of-alice", attributes={"orders": 12, "plan": "pro"})
    details = client.get_string_details("banner_text", "", power)
    assert (details.value, details.reason) == ("Welcome back, power user!", "TARGETING_MATCH")
    split = client.get_string_details("checkout_button", "", power)
    assert split.value in ("green", "red")
    assert (split.reason, split.variant is not None) == ("SPLIT", True)


def test_resolve__bad_context__invalid_context(client: OpenFeatureClient) -> None:
    nested = EvaluationContext(targeting_key="of-alice", attributes={"address": {"city": "Oslo"}})
    details = client.get_integer_details("max_items", 3, nested)
    assert (details.value, details.error_code) == (3, ErrorCode.INVALID_CONTEXT)
