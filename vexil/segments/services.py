"""Writes for segments and their rule trees.

Rules arrive as plain data in Flagsmith's shape::

    {"type": "ALL", "rules": [...],
     "conditions": [{"operator", "property", "value", "description"}]}

An update replaces the whole tree in one transaction. Every write advances the revision of all the
project's environments (segments are part of every environment document).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from vexil.audit.models import AuditAction
from vexil.audit.services import Actor, audit_record
from vexil.engine import validate_regex
from vexil.environments.services import project_environments_revision_bump
from vexil.features.models import Feature
from vexil.projects.models import Project
from vexil.segments.models import (
    CONDITION_VALUE_MAX_LENGTH,
    SEGMENT_CONDITIONS_LIMIT,
    Condition,
    Operator,
    RuleType,
    Segment,
    SegmentRule,
)
from vexil.segments.selectors import segment_rule_trees

RuleSpec = Mapping[str, Any]


def _invalid(field: str, message: str) -> ValidationError:
    return ValidationError({field: [message]})


def condition_problem(condition: Mapping[str, Any]) -> str | None:
    """Why a condition cannot be saved, or None: the rule every write of a segment applies,
    exposed so that a form can show it beside the condition."""
    operator = condition.get("operator")
    if operator not in Operator.values:
        return f"Unknown operator {operator!r}."
    value = condition.get("value")
    value = "" if value is None else str(value)
    if len(value) > CONDITION_VALUE_MAX_LENGTH:
        return f"Condition values must be at most {CONDITION_VALUE_MAX_LENGTH} characters."
    if operator == Operator.REGEX:
        problem = validate_regex(value)
        if problem is not None:
            return f"Invalid regular expression {value!r}: {problem}"
    if operator == Operator.PERCENTAGE_SPLIT:
        try:
            percentage = float(value)
        except ValueError:
            percentage = -1
        if not 0 <= percentage <= 100:
            return "A percentage split needs a value between 0 and 100."
    if operator == Operator.MODULO:
        divisor, _, remainder = value.partition("|")
        try:
            valid = float(divisor) != 0 and float(remainder) is not None
        except ValueError:
            valid = False
        if not valid:
            return "A modulo condition needs a value 'divisor|remainder'."
    return None


def _condition_validate(condition: Mapping[str, Any]) -> None:
    problem = condition_problem(condition)
    if problem is not None:
        raise _invalid("rules", problem)


def _rules_validate(rules: Sequence[RuleSpec]) -> None:
    count = 0
    pending = list(rules)
    while pending:
        rule = pending.pop()
        if rule.get("type") not in RuleType.values:
            raise _invalid("rules", f"Unknown rule type {rule.get('type')!r}.")
        for condition in rule.get("conditions") or ():
            _condition_validate(condition)
            count += 1
        pending.extend(rule.get("rules") or ())
    if count > SEGMENT_CONDITIONS_LIMIT:
        raise _invalid(
            "rules", f"A segment may have at most {SEGMENT_CONDITIONS_LIMIT} conditions."
        )


def _rules_create(segments_rules: Sequence[tuple[Segment, Sequence[RuleSpec]]]) -> None:
    """Write rule trees level by level: one insert per depth, then one for all conditions."""
    level: list[tuple[SegmentRule, RuleSpec]] = [
        (SegmentRule(segment=segment, type=spec["type"]), spec)
        for segment, rules in segments_rules
        for spec in rules
    ]
    conditions: list[Condition] = []
    while level:
        SegmentRule.objects.bulk_create([rule for rule, _ in level])
        children: list[tuple[SegmentRule, RuleSpec]] = []
        for rule, spec in level:
            conditions += [
                Condition(
                    rule=rule,
                    operator=c["operator"],
                    property=c.get("property") or None,
                    value="" if c.get("value") is None else str(c["value"]),
                    description=c.get("description") or "",
                )
                for c in spec.get("conditions") or ()
            ]
            children += [
                (SegmentRule(rule=rule, type=child["type"]), child)
                for child in spec.get("rules") or ()
            ]
        level = children
    Condition.objects.bulk_create(conditions)


def _feature_validate(project: Project, feature: Feature | None) -> None:
    if feature is not None and feature.project_id != project.pk:
        raise _invalid("feature", "The feature must belong to the segment's project.")


def _segment_audit(segment: Segment, actor: Actor, action: AuditAction, **states: Any) -> None:
    audit_record(
        actor=actor,
        action=action,
        resource_type="segment",
        resource_id=segment.pk,
        log=f"Segment {segment.name!r} {action.label.lower()}",
        organisation_id=segment.project.organisation_id,
        project=segment.project,
        **states,
    )


def _snapshot(segment: Segment, rules: Sequence[RuleSpec]) -> dict[str, Any]:
    return {
        "name": segment.name,
        "description": segment.description,
        "feature": segment.feature_id,
        "rules": [dict(rule) for rule in rules],
    }


@transaction.atomic
def segment_create(
    *,
    project: Project,
    name: str,
    actor: Actor,
    rules: Sequence[RuleSpec] = (),
    description: str = "",
    feature: Feature | None = None,
) -> Segment:
    if not name.strip():
        raise _invalid("name", "Segment names cannot be blank.")
    _feature_validate(project, feature)
    _rules_validate(rules)
    segment = Segment.objects.create(
        project=project, name=name, description=description, feature=feature
    )
    _rules_create([(segment, rules)])
    project_environments_revision_bump(project_id=project.pk)
    _segment_audit(segment, actor, AuditAction.CREATE, after=_snapshot(segment, rules))
    return segment


def segments_bulk_create(
    *, project: Project, specs: Sequence[Mapping[str, Any]], actor: Actor
) -> list[Segment]:
    """Many segments at once (seeding, imports); queries grow with rule depth, not with count.

    Each spec holds ``name`` and ``rules`` and optionally ``description``.
    """
    with transaction.atomic():
        for spec in specs:
            _rules_validate(spec.get("rules") or ())
        segments = Segment.objects.bulk_create(
            Segment(project=project, name=spec["name"], description=spec.get("description", ""))
            for spec in specs
        )
        _rules_create(
            [
                (segment, spec.get("rules") or ())
                for segment, spec in zip(segments, specs, strict=True)
            ]
        )
        project_environments_revision_bump(project_id=project.pk)
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            resource_type="segment",
            resource_id=f"{segments[0].pk}..{segments[-1].pk}" if segments else "",
            log=f"{len(segments)} segments created",
            organisation_id=project.organisation_id,
            project=project,
            after={"names": [s.name for s in segments]},
        )
        return segments


_UNCHANGED: Any = object()


@transaction.atomic
def segment_update(
    *,
    segment: Segment,
    actor: Actor,
    name: str | None = None,
    description: str | None = None,
    feature: Feature | None = _UNCHANGED,
    rules: Sequence[RuleSpec] | None = None,
) -> Segment:
    """Change a segment; given ``rules`` replace the whole tree atomically."""
    before: dict[str, Any] = {"name": segment.name, "description": segment.description}
    if rules is not None:
        # Both sides as stored, so the audit diff shows what changed, not how it was sent.
        before["rules"] = _stored_rules(segment)
    fields = ["updated_at"]
    if name is not None:
        if not name.strip():
            raise _invalid("name", "Segment names cannot be blank.")
        segment.name = name
        fields.append("name")
    if description is not None:
        segment.description = description
        fields.append("description")
    if feature is not _UNCHANGED:
        _feature_validate(segment.project, feature)
        segment.feature = feature
        fields.append("feature")
    if rules is not None:
        _rules_validate(rules)
        SegmentRule.objects.filter(segment=segment).delete()
        _rules_create([(segment, rules)])
    segment.save(update_fields=fields)
    project_environments_revision_bump(project_id=segment.project_id)
    after: dict[str, Any] = {"name": segment.name, "description": segment.description}
    if rules is not None:
        after["rules"] = _stored_rules(segment)
    _segment_audit(segment, actor, AuditAction.UPDATE, before=before, after=after)
    return segment


@transaction.atomic
def segment_delete(*, segment: Segment, actor: Actor) -> None:
    """Delete a segment, its rules and every override that used it."""
    before = {"name": segment.name, "description": segment.description}
    segment_id = segment.pk
    segment.delete()
    segment.pk = segment_id
    project_environments_revision_bump(project_id=segment.project_id)
    _segment_audit(segment, actor, AuditAction.DELETE, before=before)


def _stored_rules(segment: Segment) -> list[RuleSpec]:
    return _rule_specs(segment_rule_trees([segment])[segment.pk])


def _rule_specs(tree: Sequence[Mapping[str, Any]]) -> list[RuleSpec]:
    """A rule tree as read by the selector, without its ids: the input of :func:`segment_create`."""
    return [
        {
            "type": rule["type"],
            "rules": _rule_specs(rule["rules"]),
            "conditions": [
                {key: condition[key] for key in ("operator", "property", "value", "description")}
                for condition in rule["conditions"]
            ],
        }
        for rule in tree
    ]


@transaction.atomic
def segment_clone(*, segment: Segment, name: str, actor: Actor) -> Segment:
    """A new segment of the same project with ``segment``'s description, feature and rules.

    Overrides that use ``segment`` are not copied: the clone starts unused.
    """
    tree = segment_rule_trees([segment])[segment.pk]
    return segment_create(
        project=segment.project,
        name=name,
        actor=actor,
        rules=_rule_specs(tree),
        description=segment.description,
        feature=segment.feature,
    )
