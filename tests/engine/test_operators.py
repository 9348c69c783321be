"""Condition operators and their coercions (protocol §2.5), through the public entry point."""

from __future__ import annotations

from typing import Any

import pytest

from tests.engine.builders import context_with_condition, matches
from vexil.engine import get_evaluation_result


@pytest.mark.parametrize(
    ("operator", "value", "trait", "expected"),
    [
        ("EQUAL", "true", True, True),
        ("EQUAL", "1", True, True),
        ("EQUAL", "0", True, True),  # any text but "False"/"false" is True
        ("EQUAL", "false", True, False),
        ("EQUAL", "007", "7", True),  # both sides numeric
        ("EQUAL", " 7 ", 7, True),  # Python int() tolerates spaces
        ("EQUAL", "1.5", 1, False),  # int("1.5") fails: no match
        ("NOT_EQUAL", "x", None, False),  # null never matches NOT_EQUAL
        ("GREATER_THAN", "1.2.3:semver", "1.10.0", True),
        ("LESS_THAN", "1.0.0:semver", "1.0.0-beta", True),
        ("EQUAL", "1.0.0:semver", "1.0.0+build", True),  # build metadata is ignored
        ("EQUAL", "1.0:semver", "1.0.0", False),  # not strict semver
        ("CONTAINS", "beta:semver", "1.0.0-beta", True),  # Flagsmith's `in` on a Version
        ("CONTAINS", "ell", "hello", True),
        ("CONTAINS", "1", 12, False),  # int context value: no substring test
        ("NOT_CONTAINS", "5", "123", False),  # "123" is an int by then
        ("NOT_CONTAINS", "x", "abc", True),
        ("REGEX", "b", "abc", False),  # anchored at the start
        ("REGEX", "Tr", True, True),  # str(True)
        ("REGEX", "[", "[", False),  # invalid pattern: no match, no error
        ("MODULO", "2|0", 4, True),
        ("MODULO", "2|0", "4", True),
        ("MODULO", "-3|-1", 5, True),  # the sign follows the divisor
        ("MODULO", "0|0", 4, False),  # no ZeroDivisionError
        ("MODULO", "2|0", True, False),  # True % 2 == 1
        ("MODULO", "2", 4, False),
        ("IN", "a, b", "b", False),  # no trimming
        ("IN", "a, b", " b", True),
        ("IN", "1,2", 2, True),
        ("IN", "1.5", "1.5", False),  # floats never match
        ("IN", '["True"]', True, False),  # bools never match
        ("IN", "[1, true]", "1", True),
        ("IN", "[bad,x", "x", True),  # invalid JSON: comma split
        ("IN", ["a", 1], 1, True),
        ("IS_SET", None, False, True),
        ("IS_NOT_SET", None, None, True),
        ("UNKNOWN_OPERATOR", "x", "x", False),
    ],
)
def test_condition__operator_and_trait__matches_as_flagsmith(
    operator: str, value: Any, trait: Any, expected: bool
) -> None:
    # Given
    context = context_with_condition(operator, value, traits={"trait": trait})

    # When / Then
    assert matches(context) is expected


def test_percentage_split__no_property__buckets_on_identity_key() -> None:
    # md5("1,env_key_user_1") lands at 49.04%: inside a 50% split, outside a 49% one.
    inside = context_with_condition("PERCENTAGE_SPLIT", "50", property_="")
    outside = context_with_condition("PERCENTAGE_SPLIT", "49", property_="")
    assert matches(inside) is True
    assert matches(outside) is False


def test_percentage_split__no_identity__never_matches() -> None:
    assert matches(context_with_condition("PERCENTAGE_SPLIT", "100", identifier=None)) is False


def test_is_not_set__no_identity__matches() -> None:
    assert matches(context_with_condition("IS_NOT_SET", None, identifier=None)) is True


def test_jsonpath__trait_named_like_the_path__wins() -> None:
    context = context_with_condition(
        "EQUAL",
        "alias",
        traits={"$.identity.identifier": "alias"},
        property_="$.identity.identifier",
    )
    assert matches(context) is True


def test_jsonpath__invalid_path__reads_the_trait_of_that_name() -> None:
    context = context_with_condition(
        "EQUAL", "x", traits={"$.not valid": "x"}, property_="$.not valid"
    )
    assert matches(context) is True


def test_segment_override__missing_priority__loses_to_any_explicit_priority() -> None:
    # Given: two matching segments; the first one's override has no priority
    context = context_with_condition("IS_NOT_SET", None)
    weak = dict(context["segments"]["1"], key="2", name="weak")
    weak["overrides"] = [{**weak["overrides"][0], "value": "weak"}]
    del weak["overrides"][0]["priority"]
    context["segments"] = {"2": weak, "1": context["segments"]["1"]}

    # When
    flag = get_evaluation_result(context)["flags"]["feature"]

    # Then
    assert (flag["value"], flag["reason"]) == ("overridden", "TARGETING_MATCH; segment=matching")
