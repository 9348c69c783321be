"""Flagsmith's engine-test-data v3.9.0: every case must evaluate to exactly its expected result.

The cases are read from outside the repository at test time (they carry no licence).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyjson5
import pytest

from tests.engine.builders import ordered
from tests.engine.conftest import RUNNING_IN_CI, engine_test_data_dir
from vexil.engine import compile_environment, get_evaluation_result

EXPECTED_CASE_COUNT = 199


def _case_files() -> list[Path]:
    directory = engine_test_data_dir()
    if not directory.is_dir():
        return []
    return sorted(path for path in directory.iterdir() if path.suffix in (".json", ".jsonc"))


CASE_FILES = _case_files()


def _load(path: Path) -> dict[str, Any]:
    case: dict[str, Any] = pyjson5.decode(path.read_text(encoding="utf-8"))
    return case


def _require_test_data() -> None:
    message = f"engine test data not found at {engine_test_data_dir()} (VEXIL_ENGINE_TEST_DATA)"
    if RUNNING_IN_CI:
        pytest.fail(message)
    pytest.skip(message)


def test_conformance_corpus__present__has_every_case() -> None:
    if not CASE_FILES:
        _require_test_data()
    assert len(CASE_FILES) == EXPECTED_CASE_COUNT


@pytest.mark.parametrize("case_file", CASE_FILES, ids=[path.stem for path in CASE_FILES])
def test_get_evaluation_result__conformance_case__equals_expected_result(case_file: Path) -> None:
    # Given
    case = _load(case_file)

    # When
    result = get_evaluation_result(case["context"])

    # Then
    assert result == case["result"]


@pytest.mark.parametrize("case_file", CASE_FILES, ids=[path.stem for path in CASE_FILES])
def test_compiled_environment__conformance_case__equals_one_shot_result(case_file: Path) -> None:
    # Given: the environment compiled without its identity, as the server does
    case = _load(case_file)
    context = case["context"]
    compiled = compile_environment({k: v for k, v in context.items() if k != "identity"})

    # When: the same compiled environment evaluates the identity twice
    first = compiled.evaluate(context.get("identity"))
    second = compiled.evaluate(context.get("identity"))

    # Then
    assert first == case["result"]
    assert second == first


@pytest.mark.parametrize("case_file", CASE_FILES, ids=[path.stem for path in CASE_FILES])
def test_evaluate_flags__conformance_case__equals_evaluate_flags_in_order(case_file: Path) -> None:
    # Given
    case = _load(case_file)
    context = case["context"]
    compiled = compile_environment({k: v for k, v in context.items() if k != "identity"})

    # When
    flags = compiled.evaluate_flags(context.get("identity"))

    # Then: the same flags as the full result, in the same order, each with the same key order
    expected = compiled.evaluate(context.get("identity"))["flags"]
    assert flags == case["result"]["flags"]
    assert ordered(flags) == ordered(expected)


@pytest.mark.parametrize("case_file", CASE_FILES, ids=[path.stem for path in CASE_FILES])
def test_explain__conformance_case__flags_equal_expected_in_order(case_file: Path) -> None:
    # Given
    case = _load(case_file)
    context = case["context"]
    compiled = compile_environment({k: v for k, v in context.items() if k != "identity"})

    # When
    explained = compiled.explain(context.get("identity"))

    # Then: the reasons ride beside flags equal to the expected ones, key order included
    flags = {name: entry["flag"] for name, entry in explained.items()}
    assert flags == case["result"]["flags"]
    assert ordered(flags) == ordered(compiled.evaluate_flags(context.get("identity")))
