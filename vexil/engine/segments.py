"""Segment and rule matching (protocol §2.3), compiled into predicates over a `Subject`."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from vexil.engine.context_values import Subject
from vexil.engine.operators import Predicate, compile_condition


def compile_segment_rules(
    rules: Sequence[Mapping[str, Any]] | None,
    segment_key: object,
    static_document: Mapping[str, Any],
) -> Predicate:
    """A segment matches iff it has rules and all of them match (an implicit top-level ALL)."""
    if not rules:
        return _never
    return _all_of(_conjuncts_of(rules, segment_key, static_document))


def _conjuncts_of(
    rules: Sequence[Mapping[str, Any]], segment_key: object, static_document: Mapping[str, Any]
) -> list[Predicate]:
    """Predicates that all hold iff all `rules` match, in the order they are checked.

    An ALL rule contributes its conditions and its sub-rules' conjuncts in place, so nested ALL
    rules run as one flat loop: same checks in the same order, fewer calls per evaluation.
    """
    conjuncts: list[Predicate] = []
    for rule in rules:
        if rule.get("type") == "ALL":
            conjuncts += _compile_conditions(rule, segment_key, static_document)
            conjuncts += _conjuncts_of(rule.get("rules") or (), segment_key, static_document)
        else:
            conjuncts.append(_compile_rule(rule, segment_key, static_document))
    return conjuncts


def _compile_rule(
    rule: Mapping[str, Any], segment_key: object, static_document: Mapping[str, Any]
) -> Predicate:
    conditions = _compile_conditions(rule, segment_key, static_document)
    sub_rules = [
        _all_of(_conjuncts_of([sub_rule], segment_key, static_document))
        for sub_rule in rule.get("rules") or ()
    ]
    quantifier = _QUANTIFIERS.get(rule.get("type"))  # type: ignore[arg-type]
    if quantifier is None:
        # Flagsmith raises on an unknown rule type; here it simply cannot match, unless it
        # has nothing to quantify over (then Flagsmith never looks at the type either).
        return _always if not conditions and not sub_rules else _never
    # Conditions and sub-rules are quantified separately; each empty part counts as true.
    parts = [quantifier(part) for part in (conditions, sub_rules) if part]
    return _all_of(parts)


def _compile_conditions(
    rule: Mapping[str, Any], segment_key: object, static_document: Mapping[str, Any]
) -> list[Predicate]:
    return [
        compile_condition(condition, segment_key, static_document)
        for condition in rule.get("conditions") or ()
    ]


def _all_of(predicates: list[Predicate]) -> Predicate:
    if not predicates:
        return _always
    if len(predicates) == 1:
        return predicates[0]
    frozen = tuple(predicates)

    # An explicit loop, not all(<generator>): this runs for every rule of every segment on
    # every identity request, and skipping the generator frame is measurably faster.
    def all_match(subject: Subject) -> bool:
        for predicate in frozen:  # noqa: SIM110
            if not predicate(subject):
                return False
        return True

    return all_match


def _any_of(predicates: list[Predicate]) -> Predicate:
    if len(predicates) == 1:
        return predicates[0]
    frozen = tuple(predicates)

    def any_match(subject: Subject) -> bool:
        for predicate in frozen:  # noqa: SIM110 (see all_match)
            if predicate(subject):
                return True
        return False

    return any_match


def _none_of(predicates: list[Predicate]) -> Predicate:
    matches_any = _any_of(predicates)
    return lambda subject: not matches_any(subject)


def _always(subject: Subject) -> bool:
    return True


def _never(subject: Subject) -> bool:
    return False


_QUANTIFIERS: Final[dict[str, Callable[[list[Predicate]], Predicate]]] = {
    "ALL": _all_of,
    "ANY": _any_of,
    "NONE": _none_of,
}
