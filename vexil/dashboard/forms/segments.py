"""The segment form and its rule builder: nested ALL / ANY / NONE groups of conditions, without
JavaScript.

The builder is plain form fields named by position (``g0_1-type`` is the type of the second
group inside the first; ``g0_1_c2-operator`` the operator of that group's third condition).
Buttons named ``builder`` add or remove a group or a condition: the page comes back with the
tree changed and nothing saved. Each condition shows the inputs its operator takes (a
percentage, a divisor and a remainder, a list, a version, none for IS_SET / IS_NOT_SET); a
changed operator shows its inputs after "Update the form". Every condition is checked by the
segment service's own rule (``condition_problem``), and its problem is shown beside it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.http import QueryDict

from vexil.dashboard.forms import DashboardForm
from vexil.segments.models import Operator, RuleType
from vexil.segments.services import condition_problem

OPERATOR_LABELS = {
    Operator.EQUAL: "equals",
    Operator.NOT_EQUAL: "does not equal",
    Operator.GREATER_THAN: "is greater than",
    Operator.GREATER_THAN_INCLUSIVE: "is greater than or equal to",
    Operator.LESS_THAN: "is less than",
    Operator.LESS_THAN_INCLUSIVE: "is less than or equal to",
    Operator.CONTAINS: "contains",
    Operator.NOT_CONTAINS: "does not contain",
    Operator.REGEX: "matches the regular expression",
    Operator.PERCENTAGE_SPLIT: "is in the percentage split",
    Operator.MODULO: "modulo",
    Operator.IS_SET: "is set",
    Operator.IS_NOT_SET: "is not set",
    Operator.IN: "is one of",
}
RULE_TYPE_LABELS = {
    RuleType.ALL: "All of these match",
    RuleType.ANY: "Any of these matches",
    RuleType.NONE: "None of these matches",
}
#: Operators whose value can be compared as a semantic version (``1.2.3:semver``).
SEMVER_OPERATORS = frozenset(
    {
        Operator.EQUAL,
        Operator.NOT_EQUAL,
        Operator.GREATER_THAN,
        Operator.GREATER_THAN_INCLUSIVE,
        Operator.LESS_THAN,
        Operator.LESS_THAN_INCLUSIVE,
    }
)
NO_VALUE_OPERATORS = frozenset({Operator.IS_SET, Operator.IS_NOT_SET})
_SEMVER_SUFFIX = ":semver"
_VALUE_HELP: dict[str, str] = {
    Operator.PERCENTAGE_SPLIT: "A percentage from 0 to 100 of identities, chosen by identity "
    "(the trait may stay empty).",
    Operator.IN: "Values separated by commas: free, pro, team.",
    Operator.REGEX: "A regular expression, matched from the start of the trait.",
}
_GROUP = re.compile(r"g([0-9]+(?:_[0-9]+)*)-type")
_CONDITION = re.compile(r"g([0-9]+(?:_[0-9]+)*)_c([0-9]+)-(\w+)")
MAX_GROUPS = 100


@dataclass
class ConditionInput:
    operator: str = Operator.EQUAL
    trait: str = ""  # the condition's property
    value: str = ""
    divisor: str = ""
    remainder: str = ""
    semver: bool = False
    error: str | None = None

    @property
    def takes_value(self) -> bool:
        return self.operator not in NO_VALUE_OPERATORS

    @property
    def takes_semver(self) -> bool:
        return self.operator in SEMVER_OPERATORS

    @property
    def is_modulo(self) -> bool:
        return self.operator == Operator.MODULO

    @property
    def is_percentage(self) -> bool:
        return self.operator == Operator.PERCENTAGE_SPLIT

    @property
    def value_help(self) -> str:
        return _VALUE_HELP.get(self.operator, "")

    def spec(self) -> dict[str, Any]:
        """The condition as the segment service takes it."""
        if self.operator in NO_VALUE_OPERATORS:
            value: str | None = None
        elif self.operator == Operator.MODULO:
            value = f"{self.divisor.strip()}|{self.remainder.strip()}"
        elif self.operator in SEMVER_OPERATORS and self.semver:
            value = f"{self.value.strip()}{_SEMVER_SUFFIX}"
        else:
            value = self.value
        return {"operator": self.operator, "property": self.trait.strip(), "value": value}

    @classmethod
    def of(cls, stored: Mapping[str, Any]) -> ConditionInput:
        operator = stored.get("operator") or Operator.EQUAL
        value = "" if stored.get("value") is None else str(stored["value"])
        condition = cls(operator=operator, trait=stored.get("property") or "")
        if operator == Operator.MODULO:
            condition.divisor, _, condition.remainder = value.partition("|")
        elif operator in SEMVER_OPERATORS and value.endswith(_SEMVER_SUFFIX):
            condition.value, condition.semver = value[: -len(_SEMVER_SUFFIX)], True
        else:
            condition.value = value
        return condition


@dataclass
class GroupInput:
    type: str = RuleType.ALL
    conditions: list[ConditionInput] = field(default_factory=list)
    groups: list[GroupInput] = field(default_factory=list)

    def spec(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "conditions": [c.spec() for c in self.conditions],
            "rules": [g.spec() for g in self.groups],
        }

    @classmethod
    def of(cls, stored: Mapping[str, Any]) -> GroupInput:
        return cls(
            type=stored.get("type") or RuleType.ALL,
            conditions=[ConditionInput.of(c) for c in stored.get("conditions") or ()],
            groups=[cls.of(g) for g in stored.get("rules") or ()],
        )


def groups_of_rules(rules: Sequence[Mapping[str, Any]]) -> list[GroupInput]:
    """The builder's form of a stored rule tree (``segment_rule_trees``)."""
    return [GroupInput.of(rule) for rule in rules]


def groups_of_post(data: QueryDict) -> list[GroupInput]:
    """The tree the builder's fields describe, in position order (gaps are closed)."""
    groups: dict[tuple[int, ...], GroupInput] = {}
    for name in data:
        found = _GROUP.fullmatch(name)
        if found is not None and len(groups) < MAX_GROUPS:
            path = _path(found.group(1))
            kind = data.get(name, "")
            groups[path] = GroupInput(type=kind if kind in RuleType.values else RuleType.ALL)
    conditions: dict[tuple[tuple[int, ...], int], ConditionInput] = {}
    for name in data:
        found = _CONDITION.fullmatch(name)
        if found is None:
            continue
        path, index, part = _path(found.group(1)), int(found.group(2)), found.group(3)
        if path not in groups:
            continue
        condition = conditions.setdefault((path, index), ConditionInput())
        text = data.get(name, "")
        if part == "semver":
            condition.semver = text == "on"
        elif part in ("operator", "property", "value", "divisor", "remainder"):
            setattr(condition, "trait" if part == "property" else part, text)
    for (path, _), condition in sorted(conditions.items()):
        groups[path].conditions.append(condition)
    roots: list[GroupInput] = []
    for path in sorted(groups):
        parent = groups.get(path[:-1]) if len(path) > 1 else None
        if len(path) > 1 and parent is None:
            continue  # an orphan: its parent group is gone
        (parent.groups if parent else roots).append(groups[path])
    return roots


def _path(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("_"))


def apply_builder_action(groups: list[GroupInput], action: str) -> bool:
    """Add or remove a group or a condition; False if ``action`` names nothing."""
    verb, _, where = action.partition(":")
    if verb == "add-group" and where == "":
        groups.append(GroupInput(conditions=[ConditionInput()]))
        return True
    target = _find(groups, where.partition("_c")[0])
    if target is None:
        return False
    group, siblings, index = target
    if verb == "add-condition":
        group.conditions.append(ConditionInput())
    elif verb == "add-group":
        group.groups.append(GroupInput(type=RuleType.ANY, conditions=[ConditionInput()]))
    elif verb == "remove-group":
        del siblings[index]
    elif verb == "remove-condition":
        position = int(where.partition("_c")[2] or -1)
        if not 0 <= position < len(group.conditions):
            return False
        del group.conditions[position]
    else:
        return False
    return True


def _find(
    groups: list[GroupInput], path_text: str
) -> tuple[GroupInput, list[GroupInput], int] | None:
    try:
        path = _path(path_text)
    except ValueError:
        return None
    siblings = groups
    for depth, index in enumerate(path):
        if not 0 <= index < len(siblings):
            return None
        if depth == len(path) - 1:
            return siblings[index], siblings, index
        siblings = siblings[index].groups
    return None


def check_conditions(groups: list[GroupInput]) -> bool:
    """Mark each condition with the segment service's problem with it; True if none has one."""
    fine = True
    for group in groups:
        for condition in group.conditions:
            condition.error = condition_problem(condition.spec())
            fine = fine and condition.error is None
        fine = check_conditions(group.groups) and fine
    return fine


class SegmentForm(DashboardForm):
    name = forms.CharField(label="Name", max_length=2000)
    description = forms.CharField(
        label="Description", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class SegmentSearchForm(DashboardForm):
    q = forms.CharField(label="Search segments", required=False, max_length=2000)

    def query(self) -> str:
        return self.cleaned_data["q"].strip() if self.is_valid() else ""


@dataclass(frozen=True)
class GroupView:
    """A group as the template draws it: its field-name prefix and its position in words."""

    path: str
    label: str
    group: GroupInput
    conditions: list[tuple[str, str, ConditionInput]]  # (prefix, label, condition)
    groups: list[GroupView]


def builder_views(groups: list[GroupInput], path: str = "", label: str = "") -> list[GroupView]:
    views = []
    for index, group in enumerate(groups):
        group_path = f"{path}_{index}" if path else str(index)
        group_label = f"{label}.{index + 1}" if label else str(index + 1)
        views.append(
            GroupView(
                path=group_path,
                label=group_label,
                group=group,
                conditions=[
                    (f"g{group_path}_c{n}", f"{group_label}.{n + 1}", condition)
                    for n, condition in enumerate(group.conditions)
                ],
                groups=builder_views(group.groups, group_path, group_label),
            )
        )
    return views
