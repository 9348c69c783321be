"""Vexil's engine against Flagsmith's reference engine (flagsmith-flag-engine 11.x) on random input.

Engine 11 reports STATIC where the v3.9.0 conformance data (and Vexil) says DEFAULT; that one
reason is normalised before comparing. Input classes the reference cannot handle are excluded
in `strategies.py` (see REFERENCE_ENGINE_EXCLUSIONS).
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from flag_engine.engine import get_evaluation_result as reference_evaluation_result
from hypothesis import example, given
from hypothesis import strategies as st

from tests.engine.strategies import environments, identities
from vexil.engine import compile_environment, get_evaluation_result

# Python's regex parser warns about `[[` (a possible future nested set); both engines parse it.
pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning")


def _reference(context: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = copy.deepcopy(reference_evaluation_result(copy.deepcopy(context)))  # type: ignore[arg-type]
    for flag in result["flags"].values():
        if flag["reason"] == "STATIC":
            flag["reason"] = "DEFAULT"
    return result


def _with_identity(environment: dict[str, Any], identity: dict[str, Any] | None) -> dict[str, Any]:
    context = dict(environment)
    if identity is not None:
        context["identity"] = identity
    return context


REGRESSION_CONTEXT: dict[str, Any] = {
    "environment": {"key": "env_key", "name": "Production"},
    "features": {"f0": {"key": "1", "name": "f0", "enabled": True, "value": None}},
    "segments": {},
}


@given(environment=environments(), identity=identities())
@example(environment=REGRESSION_CONTEXT, identity=None)
def test_get_evaluation_result__random_context__equals_reference_engine(
    environment: dict[str, Any], identity: dict[str, Any] | None
) -> None:
    # Given
    context = _with_identity(environment, identity)

    # When
    result = get_evaluation_result(context)

    # Then
    assert result == _reference(context)


@given(environment=environments(), identities_=st.lists(identities(), min_size=2, max_size=4))
def test_compiled_environment__many_identities__each_equals_reference_engine(
    environment: dict[str, Any], identities_: list[dict[str, Any] | None]
) -> None:
    # Given: one compiled environment reused for several identities, as the server does
    compiled = compile_environment(environment)

    # When
    results = [compiled.evaluate(identity) for identity in identities_]
    flags = [compiled.evaluate_flags(identity) for identity in identities_]

    # Then
    expected = [_reference(_with_identity(environment, identity)) for identity in identities_]
    assert results == expected
    assert flags == [result["flags"] for result in expected]
