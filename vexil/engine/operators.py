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
from typing import Any, Final, NamedTuple

import semver

from vexil.engine.context_values import Subject, ValueGetter, compile_value_getter
from vexil.engine.hashing import PrefixHasher
from vexil.engine.safe_regex import compile_regex

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


@lru_cache(maxsize=4096)
def _cached_regex(pattern: str) -> Callable[[str], bool]:
    # Segments are recompiled for every environment revision (and on every one-shot
    # get_evaluation_result call) but their patterns rarely change; the predicates are pure.
    return compile_regex(pattern)


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
    matches = _cached_regex(str(value))

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


class _TypedValues(NamedTuple):
    """The condition value cast once to each type a context value can have (§2.5 (b))."""

    as_str: str
    as_bool: bool
    as_int: int | _Invalid
    as_float: float | _Invalid


def _typed_values(value: Any) -> _TypedValues:
    return _TypedValues(
        as_str=str(value),
        as_bool=value not in _FALSE_STRINGS,
        as_int=_cast(int, value),
        as_float=_cast(float, value),
    )


def _cast(cast: Callable[[Any], Any], value: Any) -> Any:
    try:
        return cast(value)
    except (TypeError, ValueError, OverflowError):
        return _INVALID


def _typed_comparison(getter: ValueGetter, compare: Comparison, value: Any) -> Predicate:
    if compare is operator.contains:
        return _contains(getter, value)
    typed = _typed_values(value)
    on_semver = _semver_comparison(compare, value)
    as_str, as_bool, as_int, as_float = typed.as_str, typed.as_bool, typed.as_int, typed.as_float

    # One closure per condition, branching on the context value's type in the order of how
    # often each type occurs. Same-type comparisons of str/int/float/bool cannot raise.
    def matches(subject: Subject) -> bool:
        context_value = getter(subject)
        value_type = type(context_value)
        if value_type is str:
            if on_semver is not None:
                return on_semver(context_value)  # type: ignore[arg-type]
            return bool(compare(context_value, as_str))
        if value_type is int:
            return as_int is not _INVALID and bool(compare(context_value, as_int))
        if value_type is float:
            return as_float is not _INVALID and bool(compare(context_value, as_float))
        if value_type is bool:
            return bool(compare(context_value, as_bool))
        return False  # null never matches

    return matches


def _contains(getter: ValueGetter, value: Any) -> Predicate:
    # Only text contains anything: Flagsmith's `in` on a number or bool raises, i.e. no match.
    needle = str(value)
    on_semver = _semver_comparison(operator.contains, value)

    def contains(subject: Subject) -> bool:
        context_value = getter(subject)
        if type(context_value) is not str:
            return False
        if on_semver is not None:
            return on_semver(context_value)
        return needle in context_value

    return contains


def _semver_comparison(compare: Comparison, value: Any) -> Callable[[str], bool] | None:
    """A string context value against a `"<version>:semver"` value, or None if not semver."""
    if not isinstance(value, str) or not value.endswith(_SEMVER_SUFFIX):
        return None
    version_text = value[: -len(_SEMVER_SUFFIX)]
    if compare is operator.contains:
        return _semver_contains(version_text)
    target = parse_semver(version_text)
    if target is None:
        return _never_str
    target_key = target.precedence

    def compare_versions(context_value: str) -> bool:
        version = parse_semver(context_value)
        return version is not None and bool(compare(version.precedence, target_key))

    return compare_versions


def _semver_contains(version_text: str) -> Callable[[str], bool]:
    # Flagsmith applies `in` to a parsed Version, which iterates (major, minor, patch,
    # prerelease, build): a text value can only equal the prerelease or build part.
    def contains(context_value: str) -> bool:
        version = parse_semver(context_value)
        return version is not None and version_text in (version.prerelease, version.build)

    return contains


def _never_str(context_value: str) -> bool:
    return False


class ParsedVersion(NamedTuple):
    """A strict SemVer 2.0 version with a tuple that orders like SemVer precedence."""

    precedence: tuple[Any, ...]
    prerelease: str | None
    build: str | None


@lru_cache(maxsize=4096)
def parse_semver(text: str) -> ParsedVersion | None:
    """Parse `text` as strict SemVer 2.0 (None if it is not), cached.

    Identities share few distinct app versions, and parsing is the costly part; comparing the
    precomputed precedence tuples is then plain tuple comparison. lru_cache is thread-safe.
    """
    try:
        version = semver.Version.parse(text)
    except (TypeError, ValueError):
        return None
    # A release sorts after all its pre-releases; build metadata never counts (SemVer §10-11).
    release_rank = (1,) if not version.prerelease else (0, _prerelease_key(version.prerelease))
    precedence = (version.major, version.minor, version.patch, release_rank)
    return ParsedVersion(precedence, version.prerelease, version.build)


def _prerelease_key(prerelease: str) -> tuple[tuple[int, int, str], ...]:
    # Numeric identifiers sort numerically and before alphanumeric ones, which sort as ASCII;
    # a shorter list of equal identifiers sorts first (tuple comparison does exactly that).
    return tuple(_identifier_key(identifier) for identifier in prerelease.split("."))


def _identifier_key(identifier: str) -> tuple[int, int, str]:
    if not identifier.isdigit():
        return (1, 0, identifier)
    digits = identifier.lstrip("0") or "0"
    return (0, len(digits), digits)
