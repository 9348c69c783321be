"""`CompiledEnvironment.explain`: every flag exactly as `evaluate_flags` serves it, with the reason
read from the engine's own decision (default, segment, identity override, split weight)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.engine.builders import ENVIRONMENT, feature, ordered
from tests.engine.strategies import FEATURE_NAMES, environments, feature_contexts, identities
from vexil.engine import (
    SOURCE_DEFAULT,
    SOURCE_IDENTITY_OVERRIDE,
    SOURCE_SEGMENT,
    FlagReason,
    compile_environment,
)

# Python's regex parser warns about `[[` (a possible future nested set); the engine parses it.
pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning")

EVERYONE = [{"type": "ALL", "conditions": [{"operator": "IS_NOT_SET", "property": "missing"}]}]
NOBODY = [{"type": "ALL", "conditions": [{"operator": "IS_SET", "property": "missing"}]}]


def _segment(key: str, name: str, rules: list[Any], overrides: list[Any]) -> dict[str, Any]:
    return {"key": key, "name": name, "rules": rules, "overrides": overrides}


def _reason(
    source: str,
    segment_key: str | None = None,
    segment_name: str | None = None,
    split_weight: float | None = None,
) -> FlagReason:
    return {
        "source": source,
        "segment_key": segment_key,
        "segment_name": segment_name,
        "split_weight": split_weight,
    }


@st.composite
def identity_overrides(draw: st.DrawFn) -> list[dict[str, Any]]:
    names = draw(st.lists(st.sampled_from([*FEATURE_NAMES, "unknown"]), max_size=4))
    return [draw(feature_contexts(name, is_override=False)) for name in names]


@given(environment=environments(), identity=identities(), overrides=identity_overrides())
def test_explain__random_context__flags_equal_evaluate_flags_and_reasons_agree(
    environment: dict[str, Any], identity: dict[str, Any] | None, overrides: list[dict[str, Any]]
) -> None:
    # Given
    compiled = compile_environment(environment)

    # When
    explained = compiled.explain(identity, overrides)

    # Then: the flags are the SDK's, key order included
    flags = {name: entry["flag"] for name, entry in explained.items()}
    assert ordered(flags) == ordered(compiled.evaluate_flags(identity, overrides))
    matched = {s["name"] for s in compiled.evaluate(identity, overrides)["segments"]}
    for entry in explained.values():
        flag, reason = entry["flag"], entry["reason"]
        assert (reason["split_weight"] is not None) == flag["reason"].startswith("SPLIT;")
        if reason["source"] == SOURCE_SEGMENT:
            assert reason["segment_name"] in matched
        if reason["source"] == SOURCE_IDENTITY_OVERRIDE:
            assert overrides
        if not flag["reason"].startswith("SPLIT;"):
            expected = {
                SOURCE_DEFAULT: "DEFAULT",
                SOURCE_SEGMENT: f"TARGETING_MATCH; segment={reason['segment_name']}",
                SOURCE_IDENTITY_OVERRIDE: "TARGETING_MATCH; segment=identity_overrides",
            }[reason["source"]]
            assert flag["reason"] == expected


def test_explain__no_segment_matches__default() -> None:
    # Given
    context = {
        "environment": ENVIRONMENT,
        "features": {"f": feature("f", value="default")},
        "segments": {"1": _segment("1", "nobody", NOBODY, [feature("f", value="x", priority=0)])},
    }

    # When
    explained = compile_environment(context).explain({"identifier": "alice"})

    # Then
    assert explained["f"]["flag"]["value"] == "default"
    assert explained["f"]["reason"] == _reason(SOURCE_DEFAULT)


def test_explain__best_placed_matching_segment__that_segment() -> None:
    # Given: two matching segments; the lower priority wins
    context = {
        "environment": ENVIRONMENT,
        "features": {"f": feature("f", value="default")},
        "segments": {
            "1": _segment("1", "weak", EVERYONE, [feature("f", value="weak", priority=5)]),
            "2": _segment("2", "strong", EVERYONE, [feature("f", value="strong", priority=1)]),
        },
    }

    # When
    explained = compile_environment(context).explain({"identifier": "alice"})

    # Then
    assert explained["f"]["flag"]["value"] == "strong"
    assert explained["f"]["reason"] == _reason(SOURCE_SEGMENT, "2", "strong")


def test_explain__identity_override__beats_segments_and_is_not_a_segment_named_alike() -> None:
    # Given: a real segment named like the SDKs' synthetic one overrides `g`
    context = {
        "environment": ENVIRONMENT,
        "features": {"f": feature("f", value="default"), "g": feature("g", value="default")},
        "segments": {
            "7": _segment(
                "7",
                "identity_overrides",
                EVERYONE,
                [feature("f", value="segment", priority=0), feature("g", value="segment")],
            )
        },
    }

    # When
    explained = compile_environment(context).explain(
        {"identifier": "alice"}, [feature("f", value="own")]
    )

    # Then
    assert explained["f"]["flag"]["value"] == "own"
    assert explained["f"]["reason"] == _reason(SOURCE_IDENTITY_OVERRIDE)
    assert explained["g"]["flag"]["value"] == "segment"
    assert explained["g"]["reason"] == _reason(SOURCE_SEGMENT, "7", "identity_overrides")


def test_explain__variant_chosen__split_weight() -> None:
    # Given: everyone falls in the 100% variant
    variants = [{"value": "blue", "weight": 100, "priority": 1, "key": "b"}]
    context = {
        "environment": ENVIRONMENT,
        "features": {"f": feature("f", value="control", variants=variants)},
    }

    # When
    explained = compile_environment(context).explain({"identifier": "alice"})

    # Then
    assert explained["f"]["flag"]["value"] == "blue"
    assert explained["f"]["flag"]["variant"] == "b"
    assert explained["f"]["reason"] == _reason(SOURCE_DEFAULT, split_weight=100)


def test_explain__split_in_a_segment_override__segment_and_weight() -> None:
    # Given
    variants = [
        {"value": "never", "weight": 0, "priority": 1},
        {"value": "blue", "weight": 100, "priority": 2},
    ]
    override = feature("f", value="control", priority=0, variants=variants)
    context = {
        "environment": ENVIRONMENT,
        "features": {"f": feature("f", value="default")},
        "segments": {"3": _segment("3", "beta", EVERYONE, [override])},
    }

    # When
    explained = compile_environment(context).explain({"identifier": "alice"})

    # Then
    assert explained["f"]["flag"]["value"] == "blue"
    assert explained["f"]["reason"] == _reason(SOURCE_SEGMENT, "3", "beta", split_weight=100)


def test_explain__percentage_past_every_variant__control_without_split() -> None:
    # Given: the variants share 0%, so every identity keeps the control value
    variants = [{"value": "blue", "weight": 0, "priority": 1}]
    context = {
        "environment": ENVIRONMENT,
        "features": {"f": feature("f", value="control", variants=variants)},
    }

    # When
    explained = compile_environment(context).explain({"identifier": "alice"})

    # Then
    assert explained["f"]["flag"]["value"] == "control"
    assert explained["f"]["flag"]["variant"] == "control"
    assert explained["f"]["reason"] == _reason(SOURCE_DEFAULT)


def test_explain__no_identity__defaults_without_split() -> None:
    # Given
    variants = [{"value": "blue", "weight": 100, "priority": 1}]
    context = {
        "environment": ENVIRONMENT,
        "features": {"f": feature("f", value="control", variants=variants)},
        "segments": {"1": _segment("1", "nobody", NOBODY, [feature("f", value="x")])},
    }

    # When
    explained = compile_environment(context).explain(None)

    # Then
    assert explained["f"]["flag"]["value"] == "control"
    assert explained["f"]["reason"] == _reason(SOURCE_DEFAULT)
