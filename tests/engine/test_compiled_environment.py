"""The compiled environment as the server uses it: shared, reused, never mutated."""

from __future__ import annotations

import copy
from concurrent.futures import ThreadPoolExecutor

from tests.engine.builders import ENVIRONMENT, feature
from vexil.engine import compile_environment, get_evaluation_result

MV_FEATURE = feature(
    "mv",
    value="control",
    variants=[{"value": "green", "weight": 50, "priority": 1, "key": "green"}],
    metadata={"id": 7},
)
CONTEXT = {
    "environment": ENVIRONMENT,
    "features": {"plain": feature("plain", value="default"), "mv": MV_FEATURE},
    "segments": {
        "1": {
            "key": "1",
            "name": "no_identity",
            "rules": [
                {
                    "type": "ALL",
                    "conditions": [{"operator": "IS_NOT_SET", "property": "plan", "value": None}],
                }
            ],
            "overrides": [feature("plain", value="overridden", priority=0)],
        }
    },
}


def test_evaluate_defaults__segment_matching_without_identity__serves_defaults_only() -> None:
    # When
    result: dict[str, object] = dict(compile_environment(CONTEXT).evaluate_defaults())

    # Then: no segment applies and the multivariate flag stays on control, without a variant
    assert result == {
        "flags": {
            "plain": {
                "enabled": True,
                "name": "plain",
                "reason": "DEFAULT",
                "value": "default",
                "variant": None,
            },
            "mv": {
                "enabled": True,
                "name": "mv",
                "reason": "DEFAULT",
                "value": "control",
                "variant": None,
                "metadata": {"id": 7},
            },
        },
        "segments": [],
    }


def test_evaluate__no_identity__matches_segments_like_the_engine() -> None:
    result = compile_environment(CONTEXT).evaluate(None)
    assert result == get_evaluation_result(CONTEXT)
    assert result["flags"]["plain"]["value"] == "overridden"


def test_evaluate__many_identities__leaves_context_and_earlier_results_unchanged() -> None:
    # Given
    context = copy.deepcopy(CONTEXT)
    compiled = compile_environment(context)
    identity = {"identifier": "user_1", "traits": {"plan": "free"}}
    first = compiled.evaluate(identity)
    snapshot = copy.deepcopy(first)

    # When: a result is mutated by its caller and other identities are evaluated
    first["flags"]["plain"]["value"] = "mutated"
    for n in range(10):
        compiled.evaluate({"identifier": f"user_{n}"})

    # Then
    assert context == CONTEXT
    assert identity == {"identifier": "user_1", "traits": {"plan": "free"}}
    assert compiled.evaluate(identity) == snapshot


def test_evaluate__concurrent_threads__each_gets_the_sequential_result() -> None:
    # Given
    compiled = compile_environment(CONTEXT)
    identities = [{"identifier": f"user_{n}", "traits": {"n": n}} for n in range(200)]
    expected = [compiled.evaluate(identity) for identity in identities]

    # When
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(compiled.evaluate, identities))

    # Then
    assert results == expected
