"""Percentage bucketing (protocol §2.6)."""

from __future__ import annotations

import pytest

from vexil.engine import hashed_percentage
from vexil.engine.hashing import PrefixHasher

# md5("12,user_16559") % 9999 == 9998, i.e. exactly 100%: the one input class that is rehashed.
TOP_BUCKET_TAIL = "user_16559"


def test_hashed_percentage__protocol_worked_example__is_75_655_percent() -> None:
    # md5("12,abcEnvKey_user_1") = b2dc5302...: 7564 % 9999 -> 7564 / 9998 * 100
    assert hashed_percentage(["12", "abcEnvKey_user_1"]) == pytest.approx(75.65513102620524)
    assert hashed_percentage(["12", "abcEnvKey_user_1"]) == 7564 / 9998 * 100


def test_hashed_percentage__bucket_of_exactly_100__rehashes_with_ids_repeated() -> None:
    # md5("12,user_16559,12,user_16559") % 9999 == 7879
    assert hashed_percentage(["12", TOP_BUCKET_TAIL]) == 7879 / 9998 * 100


@pytest.mark.parametrize("tail", ["abcEnvKey_user_1", TOP_BUCKET_TAIL, 12, True, 1.5, "é"])
def test_prefix_hasher__any_tail__equals_hashed_percentage(tail: object) -> None:
    assert PrefixHasher("12").percentage(tail) == hashed_percentage(["12", tail])


def test_hashed_percentage__non_string_ids__are_str_ed() -> None:
    assert hashed_percentage([12, True]) == hashed_percentage(["12", "True"])
