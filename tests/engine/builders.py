"""Small EvaluationContext builders shared by the engine unit tests."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

ENVIRONMENT = {"key": "env_key", "name": "Production"}


def context_with_condition(
    operator: str,
    value: Any,
    traits: dict[str, Any] | None = None,
    property_: str = "trait",
    identifier: str | None = "user_1",
) -> dict[str, Any]:
    """One segment `matching` with one condition; one feature it overrides."""
    context: dict[str, Any] = {
        "environment": ENVIRONMENT,
        "features": {"feature": feature("feature", value="default")},
        "segments": {
            "1": {
                "key": "1",
                "name": "matching",
                "rules": [
                    {
                        "type": "ALL",
                        "conditions": [
                            {"operator": operator, "property": property_, "value": value}
                        ],
                    }
                ],
                "overrides": [feature("feature", value="overridden", priority=0)],
            }
        },
    }
    if identifier is not None:
        context["identity"] = {"identifier": identifier, "traits": traits or {}}
    return context


def feature(name: str, value: Any = None, **extra: Any) -> dict[str, Any]:
    return {"key": "1", "name": name, "enabled": True, "value": value, **extra}


def matches(context: dict[str, Any]) -> bool:
    """Whether the `matching` segment of a `context_with_condition` context matches."""
    from vexil.engine import get_evaluation_result

    return [segment["name"] for segment in get_evaluation_result(context)["segments"]] == [
        "matching"
    ]


def ordered(flags: Mapping[str, Mapping[str, Any]]) -> list[tuple[str, list[tuple[str, Any]]]]:
    """Flags as nested item lists, so that comparing them also compares every key order."""
    return [(name, list(flag.items())) for name, flag in flags.items()]
