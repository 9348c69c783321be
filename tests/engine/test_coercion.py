"""Trait value coercion (protocol §2.4 step 4)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from vexil.engine.coercion import to_context_value


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("007", 7),
        ("-12", -12),
        ("1.50", 1.5),
        ("-0.5", -0.5),
        ("+5", "+5"),
        ("1e3", "1e3"),
        (" 5", " 5"),
        (".5", ".5"),
        ("5.", "5."),
        ("1_000", "1_000"),
        ("\u0661\u0662", "\u0661\u0662"),  # only ASCII digits make a number
        ("", ""),
        ("-", "-"),
        ("9" * 5000, "9" * 5000),  # beyond Python's int parsing limit: stays text
        (True, True),
        (3, 3),
        (2.5, 2.5),
        (None, None),
        (Decimal("2"), 2),
        (Decimal("2.50"), 2.5),
        ([1, 2], "[1, 2]"),
    ],
)
def test_to_context_value__raw_value__coerced_as_flagsmith_does(raw: Any, expected: Any) -> None:
    result = to_context_value(raw)
    assert result == expected
    assert type(result) is type(expected)
