"""Identity overrides passed to `evaluate` behave exactly like the synthetic segment the SDKs
build from a document's identity overrides (protocol §2.1), so remote and local agree."""

from __future__ import annotations

import math
from typing import Any

from vexil.engine import compile_environment, get_evaluation_result

CONTEXT: dict[str, Any] = {
    "environment": {"key": "env-key", "name": "Production"},
    "features": {
        "banner": {
            "key": "1",
            "name": "banner",
            "enabled": False,
            "value": "default",
            "metadata": {"id": 1},
        },
        "colour": {
            "key": "2",
            "name": "colour",
            "enabled": True,
            "value": "blue",
            "metadata": {"id": 2},
            "variants": [{"value": "red", "weight": 50.0, "priority": 1}],
        },
    },
    "segments": {
        "10": {
            "key": "10",
            "name": "everyone",
            "rules": [
                {
                    "type": "ALL",
                    "conditions": [{"operator": "IS_NOT_SET", "property": "missing", "value": ""}],
                }
            ],
            "overrides": [
                {
                    "key": "3",
                    "name": "banner",
                    "enabled": True,
                    "value": "segment",
                    "priority": 0,
                    "metadata": {"id": 1},
                }
            ],
        }
    },
}
OVERRIDES = [
    {
        "key": "",
        "name": "banner",
        "enabled": True,
        "value": "just for alice",
        "metadata": {"id": 1},
    },
    {"key": "", "name": "colour", "enabled": False, "value": "green", "metadata": {"id": 2}},
]


def _sdk_style_context(identifier: str) -> dict[str, Any]:
    synthetic = {
        "key": "",
        "name": "identity_overrides",
        "rules": [
            {
                "type": "ALL",
                "conditions": [
                    {"property": "$.identity.identifier", "operator": "IN", "value": [identifier]}
                ],
            }
        ],
        "overrides": [{**o, "priority": -math.inf} for o in OVERRIDES],
    }
    return {
        **CONTEXT,
        "segments": {**CONTEXT["segments"], "identity_overrides": synthetic},
        "identity": {"identifier": identifier, "traits": {}},
    }


def test_evaluate__identity_overrides__same_as_sdk_synthetic_segment() -> None:
    # Given
    compiled = compile_environment(CONTEXT)
    # When
    remote = compiled.evaluate({"identifier": "alice", "traits": {}}, OVERRIDES)
    # Then
    assert remote == get_evaluation_result(_sdk_style_context("alice"))


def test_evaluate__identity_override__beats_segment_override_and_skips_split() -> None:
    compiled = compile_environment(CONTEXT)
    flags = compiled.evaluate({"identifier": "alice", "traits": {}}, OVERRIDES)["flags"]
    assert flags["banner"] == {
        "name": "banner",
        "enabled": True,
        "value": "just for alice",
        "reason": "TARGETING_MATCH; segment=identity_overrides",
        "variant": None,
        "metadata": {"id": 1},
    }
    assert flags["colour"]["value"] == "green"
    assert flags["colour"]["variant"] is None


def test_evaluate__no_identity_overrides__segment_override_wins() -> None:
    compiled = compile_environment(CONTEXT)
    flags = compiled.evaluate({"identifier": "bob", "traits": {}})["flags"]
    assert (flags["banner"]["value"], flags["banner"]["reason"]) == (
        "segment",
        "TARGETING_MATCH; segment=everyone",
    )
