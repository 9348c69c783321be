"""Segments: named sets of identities, defined by nested rules of conditions (protocol §2.3).

A segment holds top-level :class:`SegmentRule` rows (an implicit ALL over them); a rule holds
conditions and sub-rules, to any depth. Evaluation lives in ``vexil.engine``; these rows only
store the definition.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q

from vexil.features.models import Feature
from vexil.projects.models import Project

CONDITION_VALUE_MAX_LENGTH = 1_000
SEGMENT_CONDITIONS_LIMIT = 100


class RuleType(models.TextChoices):
    ALL = "ALL", "All"
    ANY = "ANY", "Any"
    NONE = "NONE", "None"


class Operator(models.TextChoices):
    EQUAL = "EQUAL"
    NOT_EQUAL = "NOT_EQUAL"
    GREATER_THAN = "GREATER_THAN"
    GREATER_THAN_INCLUSIVE = "GREATER_THAN_INCLUSIVE"
    LESS_THAN = "LESS_THAN"
    LESS_THAN_INCLUSIVE = "LESS_THAN_INCLUSIVE"
    CONTAINS = "CONTAINS"
    NOT_CONTAINS = "NOT_CONTAINS"
    REGEX = "REGEX"
    PERCENTAGE_SPLIT = "PERCENTAGE_SPLIT"
    MODULO = "MODULO"
    IS_SET = "IS_SET"
    IS_NOT_SET = "IS_NOT_SET"
    IN = "IN"


class Segment(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="segments")
    # A feature-specific segment: usable only in that feature's overrides.
    feature = models.ForeignKey(
        Feature, null=True, blank=True, on_delete=models.CASCADE, related_name="segments"
    )
    name = models.CharField(max_length=2000)
    description = models.TextField(blank=True, default="")
    # The id Flagsmith's percentage splits hashed this segment on, kept by
    # `vexil import-flagsmith` so every identity stays in or out; null: this segment's own id.
    hashing_id = models.PositiveBigIntegerField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("id",)

    def __str__(self) -> str:
        return self.name

    @property
    def hashing_key(self) -> int:
        """The id percentage splits hash on (the environment document's segment ``id``)."""
        return self.pk if self.hashing_id is None else self.hashing_id


class SegmentRule(models.Model):
    """A rule belongs either to a segment (top level) or to a parent rule, never both."""

    segment = models.ForeignKey(
        Segment, null=True, blank=True, on_delete=models.CASCADE, related_name="rules"
    )
    rule = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="rules"
    )
    type = models.CharField(max_length=4, choices=RuleType.choices)

    class Meta:
        ordering = ("id",)
        constraints = [
            models.CheckConstraint(
                condition=Q(segment__isnull=False, rule__isnull=True)
                | Q(segment__isnull=True, rule__isnull=False),
                name="rule_has_one_parent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type} rule {self.pk}"


class Condition(models.Model):
    rule = models.ForeignKey(SegmentRule, on_delete=models.CASCADE, related_name="conditions")
    operator = models.CharField(max_length=30, choices=Operator.choices)
    # Null only for legacy percentage splits on the identity key.
    property = models.CharField(max_length=1000, null=True, blank=True, default=None)  # noqa: DJ001 (null is a wire value)
    value = models.CharField(max_length=CONDITION_VALUE_MAX_LENGTH, blank=True, default="")
    description = models.TextField(blank=True, default="")

    class Meta:
        ordering = ("id",)

    def __str__(self) -> str:
        return f"{self.property} {self.operator} {self.value}"
