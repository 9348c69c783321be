"""`CompiledEnvironment.evaluate_flags`: exactly `evaluate(...)["flags"]`, in the same order, while
evaluating a segment at most once per call and only when some flag still depends on it."""

from __future__ import annotations

import copy
import math
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.engine.builders import ENVIRONMENT, feature, ordered
from tests.engine.strategies import FEATURE_NAMES, environments, feature_contexts, identities
from vexil.engine import compile_environment

# Python's regex parser warns about `[[` (a possible future nested set); the engine parses it.
pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning")


@st.composite
def identity_overrides(draw: st.DrawFn) -> list[dict[str, Any]]:
    """An identity's own overrides: names may repeat (the last wins) or be unknown."""
    names = draw(st.lists(st.sampled_from([*FEATURE_NAMES, "unknown"]), max_size=4))
    return [draw(feature_contexts(name, is_override=False)) for name in names]


@st.composite
def environments_with_nan_priorities(draw: st.DrawFn) -> dict[str, Any]:
    """NaN orders with nothing, so no ranking can be precomputed for it."""
    environment = copy.deepcopy(draw(environments()))
    for segment in environment["segments"].values():
        for override in segment["overrides"]:
            if draw(st.booleans()):
                override["priority"] = math.nan
    return environment


def _assert_flags_equal_evaluate(
    environment: dict[str, Any],
    identity: dict[str, Any] | None,
    overrides: list[dict[str, Any]],
) -> None:
    compiled = compile_environment(environment)
    flags = compiled.evaluate_flags(identity, overrides)
    assert ordered(flags) == ordered(compiled.evaluate(identity, overrides)["flags"])


@given(environment=environments(), identity=identities(), overrides=identity_overrides())
def test_evaluate_flags__random_context__equals_evaluate_flags_in_order(
    environment: dict[str, Any], identity: dict[str, Any] | None, overrides: list[dict[str, Any]]
) -> None:
    # Each example both without and with identity overrides: generating it is the costly part.
    _assert_flags_equal_evaluate(environment, identity, [])
    _assert_flags_equal_evaluate(environment, identity, overrides)


# Only a fallback to `evaluate` is under test here, so fewer examples do.
@settings(max_examples=200)
@given(
    environment=environments_with_nan_priorities(),
    identity=identities(),
    overrides=identity_overrides(),
)
def test_evaluate_flags__nan_override_priority__equals_evaluate_flags_in_order(
    environment: dict[str, Any], identity: dict[str, Any] | None, overrides: list[dict[str, Any]]
) -> None:
    _assert_flags_equal_evaluate(environment, identity, overrides)


def _matching_everyone(name: str, priority: float) -> dict[str, Any]:
    condition = {"operator": "IS_NOT_SET", "property": "missing", "value": None}
    return {
        "key": name,
        "name": name,
        "rules": [{"type": "ALL", "conditions": [condition]}],
        "overrides": [feature("f", value=name, priority=priority)],
    }


def test_evaluate_flags__nan_between_priorities__same_winner_as_evaluate() -> None:
    # Given: no ranking of [1, NaN, 0] agrees with "strictly lower replaces the first seen",
    # which gives 0 here (1 first; NaN < 1 is false; 0 < 1)
    context = {
        "environment": ENVIRONMENT,
        "features": {"f": feature("f", value="default")},
        "segments": {
            name: _matching_everyone(name, priority)
            for name, priority in [("one", 1), ("nan", math.nan), ("zero", 0)]
        },
    }
    compiled = compile_environment(context)

    # When
    flags = compiled.evaluate_flags({"identifier": "alice"})

    # Then
    assert flags["f"]["value"] == "zero"
    assert ordered(flags) == ordered(compiled.evaluate({"identifier": "alice"})["flags"])


class _ReadCountingIdentity(dict[str, Any]):
    """An identity that counts reads of each of its members. Every segment below reads its own
    member (`$.identity.probe_<segment>`) and nothing else does, so the counts tell which
    segments were evaluated, however often the engine reads a member per evaluation."""

    def __init__(self, members: dict[str, Any]) -> None:
        super().__init__(members)
        self.reads: Counter[str] = Counter()

    def __contains__(self, key: object) -> bool:
        self.reads[str(key)] += 1
        return super().__contains__(key)

    def __getitem__(self, key: str) -> Any:
        self.reads[str(key)] += 1
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:
        self.reads[str(key)] += 1
        return super().get(key, default)


def _probed_segment(name: str, overrides: list[dict[str, Any]]) -> dict[str, Any]:
    """A segment that matches an identity whose `probe_<name>` member is "yes"."""
    condition = {"operator": "EQUAL", "property": f"$.identity.probe_{name}", "value": "yes"}
    rules = [{"type": "ALL", "conditions": [condition]}]
    return {"key": name, "name": name, "rules": rules, "overrides": overrides}


PROBED_CONTEXT: dict[str, Any] = {
    "environment": ENVIRONMENT,
    "features": {
        name: feature(name, value="default")
        for name in ["shared_a", "shared_b", "decided", "own", "plain"]
    },
    "segments": {
        # Listed before `winner` but ranked after it (priority 1 > 0), so never needed.
        "beaten": _probed_segment("beaten", [feature("decided", value="beaten", priority=1)]),
        "winner": _probed_segment("winner", [feature("decided", value="winner", priority=0)]),
        # Needed by two features and does not match: evaluated once, not twice.
        "shared": _probed_segment(
            "shared",
            [feature("shared_a", value="shared", priority=0), feature("shared_b", value="shared")],
        ),
        # Overrides only a feature the identity overrides itself.
        "own_only": _probed_segment("own_only", [feature("own", value="segment", priority=0)]),
        "no_overrides": _probed_segment("no_overrides", []),
    },
}
PROBES = ["probe_beaten", "probe_winner", "probe_shared", "probe_own_only", "probe_no_overrides"]


def _probing_identity() -> _ReadCountingIdentity:
    members = dict.fromkeys(PROBES, "yes") | {"probe_shared": "no"}
    return _ReadCountingIdentity({"identifier": "alice", "key": "alice-key", **members})


def test_evaluate_flags__segments_no_flag_needs__evaluated_never_and_others_once() -> None:
    # Given: the reads of one evaluation of each segment (`evaluate` runs every segment once)
    compiled = compile_environment(PROBED_CONTEXT)
    own_override = [feature("own", value="just for alice")]
    evaluated_once = _probing_identity()
    expected = compiled.evaluate(evaluated_once, own_override)["flags"]
    once = {probe: evaluated_once.reads[probe] for probe in PROBES}
    assert all(reads > 0 for reads in once.values())

    # When
    identity = _probing_identity()
    flags = compiled.evaluate_flags(identity, own_override)

    # Then
    assert ordered(flags) == ordered(expected)
    assert {name: flag["value"] for name, flag in flags.items()} == {
        "shared_a": "default",
        "shared_b": "default",
        "decided": "winner",
        "own": "just for alice",
        "plain": "default",
    }
    assert {probe: identity.reads[probe] for probe in PROBES} == {
        "probe_beaten": 0,
        "probe_winner": once["probe_winner"],
        "probe_shared": once["probe_shared"],
        "probe_own_only": 0,
        "probe_no_overrides": 0,
    }


def test_evaluate_flags__no_segment_overrides__evaluates_no_segment() -> None:
    # Given
    context = {**PROBED_CONTEXT, "segments": {"no_overrides": _probed_segment("no_overrides", [])}}
    identity = _probing_identity()

    # When
    flags = compile_environment(context).evaluate_flags(identity)

    # Then
    assert [flag["reason"] for flag in flags.values()] == ["DEFAULT"] * 5
    assert identity.reads["probe_no_overrides"] == 0


DUPLICATE_NAMES_CONTEXT: dict[str, Any] = {
    "environment": ENVIRONMENT,
    "features": {
        "1": feature("dup", value="first"),
        "2": feature("other", value="other"),
        "3": feature("dup", value="second"),
    },
    "segments": {"1": _probed_segment("winner", [feature("dup", value="segment", priority=0)])},
}


@pytest.mark.parametrize("overrides", [[], [feature("dup", value="own")]])
@pytest.mark.parametrize("probe", ["yes", "no"])
def test_evaluate_flags__two_features_one_name__same_single_flag_as_evaluate(
    overrides: list[dict[str, Any]], probe: str
) -> None:
    # Given
    compiled = compile_environment(DUPLICATE_NAMES_CONTEXT)
    identity = {"identifier": "alice", "probe_winner": probe}

    # When
    flags = compiled.evaluate_flags(identity, overrides)

    # Then
    assert ordered(flags) == ordered(compiled.evaluate(identity, overrides)["flags"])


def test_evaluate_flags__concurrent_threads__each_gets_the_sequential_result() -> None:
    # Given
    compiled = compile_environment(PROBED_CONTEXT)
    identities_ = [
        {"identifier": f"user_{n}", "probe_winner": "yes" if n % 2 else "no"} for n in range(200)
    ]
    expected = [compiled.evaluate(identity)["flags"] for identity in identities_]

    # When
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(compiled.evaluate_flags, identities_))

    # Then
    assert results == expected
