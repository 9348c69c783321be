"""OFREP single, OFREP bulk and ``/api/v1/identities/`` agree for 500 random identities."""

from __future__ import annotations

import random
from typing import Any

from tests.ofrep.conftest import BULK, FLAG, Flags, SDKClient
from vexil.audit.services import Actor
from vexil.features.services import segment_override_create
from vexil.identities.models import Identity
from vexil.projects.models import Project
from vexil.sdk.ofrep import typed_value
from vexil.segments.services import segment_create

IDENTITIES = 500
ABSENT = object()


def _expected(flag: dict[str, Any]) -> object:
    """The documented value mapping applied to an ``/identities/`` flag."""
    value = flag["feature_state_value"]
    if not flag["enabled"]:
        return False if value is None else ABSENT
    return True if value is None else typed_value(value)


def _random_context(rng: random.Random, number: int) -> dict[str, Any]:
    context: dict[str, Any] = {"targetingKey": f"diff-{number}-{rng.randrange(10**9)}"}
    if rng.random() < 0.8:
        context["orders"] = rng.randrange(0, 25)
    if rng.random() < 0.8:
        context["plan"] = rng.choice(["free", "pro", "team"])
    if rng.random() < 0.5:
        context["score"] = round(rng.uniform(0, 10), 2)
    if rng.random() < 0.5:
        context["beta"] = rng.random() < 0.5
    return context


def test_differential__random_identities__single_bulk_and_identities_agree(
    sdk: SDKClient, flags: Flags, project: Project, actor: Actor
) -> None:
    # Given: a second segment on a string trait, overriding with a value of another type
    pro = segment_create(
        project=project, name="pro_plan",
        rules=[{"type": "ALL", "rules": [{"type": "ANY", "conditions": [
            {"operator": "EQUAL", "property": "plan", "value": "pro"}]}]}],
        actor=actor,
    )  # fmt: skip
    segment_override_create(
        feature=flags.features["ratio"], segment=pro, environment=flags.environment,
        enabled=False, value="0.75", actor=actor,
    )  # fmt: skip
    segment_override_create(
        feature=flags.features["dark_mode"], segment=pro, environment=flags.environment,
        enabled=False, value=None, actor=actor,
    )  # fmt: skip
    rng = random.Random(20261202)
    headers = {"Authorization": f"Bearer {flags.server_key}"}
    names = sorted(flags.features)
    compared = 0
    for number in range(IDENTITIES):
        context = _random_context(rng, number)
        # When
        traits = [
            {"trait_key": k, "trait_value": v, "transient": True}
            for k, v in context.items()
            if k != "targetingKey"
        ]
        remote = sdk.post(
            "/api/v1/identities/", key=flags.server_key,
            json={"identifier": context["targetingKey"], "traits": traits, "transient": True},
        )  # fmt: skip
        bulk = sdk.post(BULK, json={"context": context}, headers=headers)
        # Then
        assert (remote.status, bulk.status) == (200, 200)
        expected = {f["feature"]["name"]: _expected(f) for f in remote.json()["flags"]}
        from_bulk = {f["key"]: f.get("value", ABSENT) for f in bulk.json()["flags"]}
        assert from_bulk == expected, context
        for name in names:
            single = sdk.post(FLAG + name, json={"context": context}, headers=headers)
            assert single.status == 200
            assert single.json().get("value", ABSENT) == expected[name], (name, context)
            compared += 1
    assert compared == len(names) * IDENTITIES
    assert not Identity.objects.filter(environment=flags.environment).exists()
