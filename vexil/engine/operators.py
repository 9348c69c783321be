"""Segment condition operators (protocol §2.5), compiled into predicates over a `Subject`.

Everything that depends only on the condition (the IN set, the regex, the semver value, the
modulo divisor, the typed forms of the comparison value) is computed here, once. Every
predicate is total: bad input makes the condition false, it never raises out of the engine.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any, Final

import semver

from vexil.engine.context_values import Subject, ValueGetter, compile_value_getter
from vexil.engine.hashing import PrefixHasher
from vexil.engine.safe_regex import compile_regex
from vexil.engine.types import ContextValue

Predicate = Callable[[Subject], bool]
Comparison = Callable[[Any, Any], bool]

_SEMVER_SUFFIX: Final = ":semver"
_FALSE_STRINGS: Final = ("False", "false")
_COMPARISONS: Final[dict[str, Comparison]] = {
    "EQUAL": operator.eq,
    "NOT_EQUAL": operator.ne,
    "GREATER_THAN": operator.gt,
    "GREATER_THAN_INCLUSIVE": operator.ge,
    "LESS_THAN": operator.lt,
    "LESS_THAN_INCLUSIVE": operator.le,
    "CONTAINS": operator.contains,
}


class _Invalid:
    """Marks a condition value that cannot be cast to the context value's type."""


_INVALID: Final = _Invalid()


def compile_condition(
    condition: Mapping[str, Any], segment_key: object, static_document: Mapping[str, Any]
) -> Predicate:
    """Compile one condition of the segment keyed `segment_key` into a predicate."""
    operator_name = condition.get("operator")
    value = condition.get("value")
    getter = compile_value_getter(
        condition.get("property"), operator_name == "PERCENTAGE_SPLIT", static_document
    )
    if operator_name in _COMPARISONS:
        return _typed_comparison(getter, _COMPARISONS[operator_name], value)
    builder = _BUILDERS.get(operator_name)  # type: ignore[arg-type]
    if builder is None:
        return _never
    return builder(getter, value, segment_key)


def _never(subject: Subject) -> bool:
    return False


def _is_set(getter: ValueGetter, value: Any, segment_key: object) -> Predicate:
    return lambda subject: getter(subject) is not None


def _is_not_set(getter: ValueGetter, value: Any, segment_key: object) -> Predicate:
    return lambda subject: getter(subject) is None


def _in(getter: ValueGetter, value: Any, segment_key: object) -> Predicate:
    members = parse_in_values(value)

    def is_in(subject: Subject) -> bool:
        context_value = getter(subject)
        if type(context_value) is int:
            # Ints compare by their digits; bools and floats never match a string member.
            return str(context_value) in members
        return context_value in members

    return is_in


def parse_in_values(value: Any) -> frozenset[str]:
    """The IN members: a JSON array, a string holding a JSON array, or comma-separated text.

    Non-string members are `str()`-ed (`true` -> `"True"`); comma-split parts keep their spaces.
    """
    if isinstance(value, list):
        return frozenset(_member_text(member) for member in value)
    if not isinstance(value, str):
        return frozenset() if value is None else frozenset(str(value).split(","))
    if value.startswith("["):
        try:
            parsed = json.loads(value)
        except (ValueError, RecursionError):
            return frozenset(value.split(","))
        return frozenset(_member_text(member) for member in parsed)
    return frozenset(value.split(","))


def _member_text(member: Any) -> str:
    return member if type(member) is str else str(member)


def _percentage_split(getter: ValueGetter, value: Any, segment_key: object) -> Predicate:
    try:
        threshold = float(value)
    except (TypeError, ValueError):
        return _never
    hasher = PrefixHasher(segment_key)

    def in_split(subject: Subject) -> bool:
        context_value = getter(subject)
        if context_value is None:
            return False
        return hasher.percentage(context_value) <= threshold

    return in_split


def _not_contains(getter: ValueGetter, value: Any, segment_key: object) -> Predicate:
    needle = str(value)

    def lacks(subject: Subject) -> bool:
        context_value = getter(subject)
        return isinstance(context_value, str) and needle not in context_value

    return lacks


def _regex(getter: ValueGetter, value: Any, segment_key: object) -> Predicate:
    matches = compile_regex(str(value))

    def regex_matches(subject: Subject) -> bool:
        context_value = getter(subject)
        return context_value is not None and matches(str(context_value))

    return regex_matches


def _modulo(getter: ValueGetter, value: Any, segment_key: object) -> Predicate:
    parsed = _parse_modulo(value)
    if parsed is None:
        return _never
    divisor, remainder = parsed

    def has_remainder(subject: Subject) -> bool:
        context_value = getter(subject)
        if not isinstance(context_value, int | float):
            return False
        try:
            return bool(context_value % divisor == remainder)
        except (ZeroDivisionError, OverflowError):
            return False

    return has_remainder


def _parse_modulo(value: Any) -> tuple[float, float] | None:
    """`"divisor|remainder"` as two floats, or None if malformed."""
    if not value or not isinstance(value, str):
        return None
    parts = value.split("|")
    if len(parts) != 2:
        return None
    try:
        return float(parts[0]), float(parts[1])
    except ValueError:
        return None


_BUILDERS: Final[dict[str, Callable[[ValueGetter, Any, object], Predicate]]] = {
    "IS_SET": _is_set,
    "IS_NOT_SET": _is_not_set,
    "IN": _in,
    "PERCENTAGE_SPLIT": _percentage_split,
    "NOT_CONTAINS": _not_contains,
    "REGEX": _regex,
    "MODULO": _modulo,
}


class _TypedValues:
    """The condition value cast once to each type a context value can have (§2.5 (b))."""

    __slots__ = ("as_bool", "as_float", "as_int", "as_str")

    def __init__(self, value: Any) -> None:
        self.as_bool: bool = value not in _FALSE_STRINGS
        self.as_int: int | _Invalid = _cast(int, value)
        self.as_float: float | _Invalid = _cast(float, value)
        self.as_str: str = str(value)


def _cast(cast: Callable[[Any], Any], value: Any) -> Any:
    try:
        return cast(value)
    except (TypeError, ValueError, OverflowError):
        return _INVALID


def _typed_comparison(getter: ValueGetter, compare: Comparison, value: Any) -> Predicate:
    typed = _TypedValues(value)
    on_semver = _semver_comparison(compare, value)

    def matches(subject: Subject) -> bool:
        context_value = getter(subject)
        if context_value is None:
            return False
        value_type = type(context_value)
        if value_type is str:
            if on_semver is not None:
                return on_semver(context_value)  # type: ignore[arg-type]
            return _safe_compare(compare, context_value, typed.as_str)
        return _compare_non_string(compare, context_value, value_type, typed)

    return matches


def _compare_non_string(
    compare: Comparison, context_value: ContextValue, value_type: type, typed: _TypedValues
) -> bool:
    if value_type is bool:
        cast: Any = typed.as_bool
    elif value_type is int:
        cast = typed.as_int
    elif value_type is float:
        cast = typed.as_float
    else:  # a str subclass: Flagsmith compares it as a string
        cast = typed.as_str
    if cast is _INVALID:
        return False
    return _safe_compare(compare, context_value, cast)


def _safe_compare(compare: Comparison, left: Any, right: Any) -> bool:
    try:
        return bool(compare(left, right))
    except TypeError:  # CONTAINS on a number
        return False


def _semver_comparison(compare: Comparison, value: Any) -> Callable[[str], bool] | None:
    """A string context value against a `"<version>:semver"` value, or None if not semver."""
    if not isinstance(value, str) or not value.endswith(_SEMVER_SUFFIX):
        return None
    version_text = value[: -len(_SEMVER_SUFFIX)]
    if compare is operator.contains:
        return _semver_contains(version_text)
    target = _parse_semver(version_text)
    if target is None:
        return _never_str

    def compare_versions(context_value: str) -> bool:
        version = _parse_semver(context_value)
        return version is not None and bool(compare(version, target))

    return compare_versions


def _semver_contains(version_text: str) -> Callable[[str], bool]:
    # Flagsmith applies `in` to a parsed Version, which iterates (major, minor, patch,
    # prerelease, build): a text value can only equal the prerelease or build part.
    def contains(context_value: str) -> bool:
        version = _parse_semver(context_value)
        return version is not None and version_text in (version.prerelease, version.build)

    return contains


def _never_str(context_value: str) -> bool:
    return False


@lru_cache(maxsize=4096)
def _parse_semver(text: str) -> semver.Version | None:
    # Cached: identities share few distinct app versions, and parsing is the costly part.
    # lru_cache is thread-safe and Version objects are never mutated here.
    try:
        return semver.Version.parse(text)
    except (TypeError, ValueError):
        return None
