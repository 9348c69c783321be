"""REGEX conditions: Python `re.match` semantics, never catastrophic backtracking."""

from __future__ import annotations

import re
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vexil.engine import validate_regex
from vexil.engine.safe_regex import FALLBACK_TIMEOUT_SECONDS, compile_regex, regex_timeouts

pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning")

# Tokens chosen to hit every place where RE2 and Python read a pattern differently.
PATTERN_TOKENS = [
    "a", "b", "1", "é", " ", ".", r"\.", r"\d", r"\w", r"\s", r"\b", r"\B", "^", "$", r"\A",
    r"\Z", "(", ")", "(?:", "|", "*", "+", "?", "*?", "{2}", "{,2}", "[a-c]", "[^a]", r"[\d]",
    "[[:alpha:]]", "(?i)", r"\1", "(?=a)", "(?!a)", "(?<=a)", "(?>a)", "a++", "\n",
]  # fmt: skip
INPUT_ALPHABET = "ab1 é\n\x0b\u0661A._:"  # \u0661: ARABIC-INDIC DIGIT ONE


def _python_match(pattern: str, text: str) -> bool:
    return re.match(pattern, text) is not None


@given(
    tokens=st.lists(st.sampled_from(PATTERN_TOKENS), min_size=1, max_size=6),
    text=st.text(alphabet=INPUT_ALPHABET, max_size=8),
)
def test_compile_regex__random_pattern_and_input__agrees_with_python_re(
    tokens: list[str], text: str
) -> None:
    # Given: any pattern Python accepts (inputs are short, so Python's re cannot blow up here)
    pattern = "".join(tokens)
    if validate_regex(pattern) is not None:
        return

    # When
    matches = compile_regex(pattern)(text)

    # Then
    assert matches == _python_match(pattern, text)


@pytest.mark.parametrize(
    ("pattern", "text", "expected"),
    [
        ("b", "abc", False),  # anchored at the start
        ("a", "abc", True),  # ... but not at the end
        (r"\d+$", "12\n", True),  # Python's $ also matches before a final newline
        (r"\d+", "\u0661\u0662", True),  # Python's \d is Unicode-aware
        (r"\s", "\x0b", True),  # Python's \s includes the vertical tab
        ("a{,2}$", "aa", True),  # {,n} is {0,n} in Python
        ("[[:alpha:]]", ":]", True),  # a set then "]" in Python, not a POSIX class
        (r"(\w)\1", "xx", True),  # backreference: fallback engine
        (r"(?=a)a", "a", True),  # lookahead: fallback engine
    ],
)
def test_compile_regex__construct_read_differently_by_re2__follows_python(
    pattern: str, text: str, expected: bool
) -> None:
    assert compile_regex(pattern)(text) is expected
    assert _python_match(pattern, text) is expected


@pytest.mark.parametrize("pattern", ["(a+)+$", "(a|aa)+$", "(a*)*b", r"(a+)+\1$"])
def test_compile_regex__catastrophic_pattern_on_long_input__returns_quickly_without_match(
    pattern: str,
) -> None:
    # Given: an input on which Python's backtracking would take years
    matches = compile_regex(pattern)
    text = "a" * 5000 + "!"

    # When
    started = time.perf_counter()
    result = matches(text)
    elapsed = time.perf_counter() - started

    # Then: no match, within the fallback bound plus scheduling slack on a shared machine
    assert result is False
    assert elapsed < FALLBACK_TIMEOUT_SECONDS + 0.5


def test_regex_timeouts__fallback_out_of_time__counted() -> None:
    matches = compile_regex(r"(a+)+\1$")  # a backreference: RE2 cannot, the fallback runs
    before = regex_timeouts()
    assert matches("aaaa") is True
    assert regex_timeouts() == before
    assert matches("a" * 5000 + "!") is False
    assert regex_timeouts() == before + 1


def test_compile_regex__catastrophic_pattern_on_matching_input__still_matches() -> None:
    assert compile_regex("(a+)+$")("a" * 5000) is True


@pytest.mark.parametrize("pattern", ["[", "(", "a**", "(?P<x>a)(?P<x>b)", r"\p{L}", "(?<=a+)b"])
def test_validate_regex__invalid_pattern__returns_message(pattern: str) -> None:
    assert validate_regex(pattern) is not None


@pytest.mark.parametrize("pattern", ["[", "(", "a**", "(?<=a+)b"])
def test_compile_regex__invalid_pattern__never_matches(pattern: str) -> None:
    assert compile_regex(pattern)("[(a**") is False


@pytest.mark.parametrize("pattern", ["", r"^\d+$", r"(\w)\1", "(?i)abc"])
def test_validate_regex__valid_pattern__returns_none(pattern: str) -> None:
    assert validate_regex(pattern) is None


def test_compile_regex__lone_surrogate_input__does_not_raise() -> None:
    assert compile_regex("a")("a\ud800") is True
