"""Reads of segments with their rule trees in a fixed number of queries per page.

Rules nest to any depth, so a tree is read level by level: one query per depth plus one for all
conditions, however many segments are on the page.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import Count, QuerySet

from vexil.environments.models import Environment
from vexil.features.models import FeatureSegment
from vexil.projects.models import Project
from vexil.segments.models import Condition, Segment, SegmentRule

RuleTree = list[dict[str, Any]]


def _condition(condition: Condition) -> dict[str, Any]:
    return {
        "id": condition.pk,
        "operator": condition.operator,
        "property": condition.property,
        "value": condition.value,
        "description": condition.description,
    }


def segment_rule_trees(segments: Sequence[Segment]) -> dict[int, RuleTree]:
    """Each segment's rules in Flagsmith's nested shape, keyed by segment id."""
    trees: dict[int, RuleTree] = {segment.pk: [] for segment in segments}
    nodes: dict[int, dict[str, Any]] = {}
    level = list(SegmentRule.objects.filter(segment__in=segments).order_by("id"))
    while level:
        for rule in level:
            node = {"id": rule.pk, "type": rule.type, "rules": [], "conditions": []}
            nodes[rule.pk] = node
            parent = trees[rule.segment_id] if rule.segment_id else nodes[rule.rule_id]["rules"]  # type: ignore[index]
            parent.append(node)
        level = list(SegmentRule.objects.filter(rule__in=level).order_by("id"))
    for condition in Condition.objects.filter(rule_id__in=nodes).order_by("id"):
        nodes[condition.rule_id]["conditions"].append(_condition(condition))
    return trees


def segment_overrides_of(
    segment: Segment, environments: QuerySet[Environment]
) -> QuerySet[FeatureSegment]:
    """The segment overrides that use ``segment``, in the given (visible) environments."""
    return (
        FeatureSegment.objects.filter(segment=segment, environment__in=environments)
        .select_related("feature", "segment", "environment")
        .order_by("environment_id", "feature_id", "id")
    )


def segments_search(project: Project, query: str = "") -> QuerySet[Segment]:
    """The project's segments by name, each with ``override_count`` (how many segment
    overrides use it, in every environment): one query per page."""
    segments = Segment.objects.filter(project=project)
    if query:
        segments = segments.filter(name__icontains=query)
    return segments.annotate(override_count=Count("feature_segments")).order_by("name", "id")


def segment_of_project(project: Project, segment_id: int) -> Segment | None:
    return Segment.objects.filter(project=project, pk=segment_id).select_related("feature").first()
