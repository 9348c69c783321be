"""Remote evaluation equals the Python SDK's local evaluation of Vexil's own document.

Over the ``vexil seed-demo`` dataset (100 features, 20 of them multivariate, 50 segments with
overrides), 1,000 random identities with random traits get the same flags from
``POST /api/v1/identities/`` on the live server as from the ``flagsmith`` SDK evaluating
``/environment-document/`` locally: enabled, value and variant, feature by feature.

The traits are drawn from the values the seeded segments test (each condition's value, its
neighbours, members of its lists), so many identities match many segments and every operator
sees both sides of its boundary. The requests are ``transient``, so nothing is stored.
"""

from __future__ import annotations

import io
import json
import random
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from django.core.management import call_command
from flagsmith import Flagsmith

from tests.sdk_clients.conftest import LiveServer, wait_until_served

IDENTITIES = 1_000
SEED = 20_261_121
EMAIL_DOMAINS = ["example.com", "example.org", "example.net", "other.io"]
Result = tuple[bool, Any, Any]


@pytest.fixture
def seeded(transactional_db: None, server: LiveServer) -> dict[str, str]:
    """``vexil seed-demo --features 100 --segments 50 --identities 0``: one environment's keys."""
    output = io.StringIO()
    call_command("seed_demo", features=100, segments=50, identities=0, json=True, stdout=output)
    environment: dict[str, str] = json.loads(output.getvalue())["environments"][1]
    wait_until_served(server, environment["client_key"], environment["server_key"])
    return environment


@pytest.fixture
def local_sdk(server: LiveServer, seeded: dict[str, str]) -> Iterator[Flagsmith]:
    client = Flagsmith(
        environment_key=seeded["server_key"],
        api_url=server.api_url,
        enable_local_evaluation=True,
        environment_refresh_interval_seconds=60,
    )
    yield client
    client.environment_data_polling_manager_thread.stop()


def _conditions(document: dict[str, Any]) -> Iterator[dict[str, Any]]:
    def walk(rule: dict[str, Any]) -> Iterator[dict[str, Any]]:
        yield from rule["conditions"]
        for child in rule["rules"]:
            yield from walk(child)

    for segment in document["project"]["segments"]:
        for rule in segment["rules"]:
            yield from walk(rule)


def _candidates(condition: dict[str, Any]) -> list[Any]:
    """Values of the condition's property that fall on either side of it."""
    operator, value = condition["operator"], condition["value"]
    if operator in ("GREATER_THAN", "GREATER_THAN_INCLUSIVE", "LESS_THAN", "LESS_THAN_INCLUSIVE"):
        if value.endswith(":semver"):
            major, minor, patch = (int(part) for part in value.removesuffix(":semver").split("."))
            return [f"{major}.{minor}.{patch}", f"{major}.{minor}.{patch + 1}", f"{major - 1}.9.9"]
        number = int(value)
        return [number - 1, number, number + 1, str(number + 1)]
    if operator == "MODULO":
        divisor = int(value.split("|")[0])
        return [divisor * 3, divisor * 3 + 1, float(divisor * 2)]
    if operator == "IN":
        return [*value.split(","), "XX"]
    if operator in ("EQUAL", "NOT_EQUAL"):
        return [value, value.upper()]
    if operator == "IS_SET":
        return [True, False]
    if operator == "IS_NOT_SET":
        return ["2026-01-01"]
    return []


def _trait_space(document: dict[str, Any]) -> dict[str, list[Any]]:
    space: dict[str, list[Any]] = {}
    for condition in _conditions(document):
        if condition["property_"]:
            space.setdefault(condition["property_"], []).extend(_candidates(condition))
    space["email"] = [f"user{n}@{domain}" for n in range(5) for domain in EMAIL_DOMAINS]
    return {key: values for key, values in sorted(space.items()) if values}


def _random_traits(rng: random.Random, space: dict[str, list[Any]]) -> dict[str, Any]:
    return {key: rng.choice(values) for key, values in space.items() if rng.random() < 0.8}


def _remote(session: requests.Session, server: LiveServer, identifier: str, traits: dict) -> dict:
    body = {
        "identifier": identifier,
        "traits": [{"trait_key": key, "trait_value": value} for key, value in traits.items()],
        "transient": True,
    }
    reply = session.post(f"{server.api_url}identities/", json=body, timeout=10)
    assert reply.status_code == 200, reply.text
    return {
        flag["feature"]["name"]: (flag["enabled"], flag["feature_state_value"], flag["variant"])
        for flag in reply.json()["flags"]
    }


def _local(client: Flagsmith, identifier: str, traits: dict) -> dict[str, Result]:
    flags = client.get_identity_flags(identifier, traits).all_flags()
    return {flag.feature_name: (flag.enabled, flag.value, flag.variant) for flag in flags}


def test_identities__1000_random_identities__remote_equals_sdk_local_evaluation(
    server: LiveServer, seeded: dict[str, str], local_sdk: Flagsmith
) -> None:
    # Given
    session = requests.Session()
    session.headers["X-Environment-Key"] = seeded["server_key"]
    document = session.get(f"{server.api_url}environment-document/", timeout=10).json()
    space = _trait_space(document)
    rng = random.Random(SEED)
    overridden = 0
    # When / Then
    for index in range(IDENTITIES):
        identifier = f"diff-{index}-{rng.getrandbits(32):08x}"
        traits = _random_traits(rng, space)
        remote = _remote(session, server, identifier, traits)
        local = _local(local_sdk, identifier, traits)
        assert remote == local, (identifier, traits)
        overridden += any(str(value).endswith("-override") for _, value, _ in remote.values())
    # The traits reach the segments: most identities get at least one segment override
    assert overridden > IDENTITIES // 2, overridden
    assert len(local) == 100
