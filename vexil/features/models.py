"""Features, their multivariate options, and the feature states that say what each one serves.

A :class:`FeatureState` is one of three things, told apart by its two optional links:

* the **environment default** (``identity`` and ``feature_segment`` both null): exactly one per
  feature and environment;
* a **segment override** (``feature_segment`` set): one per :class:`FeatureSegment`;
* an **identity override** (``identity`` set): one per feature and identity.

States are updated in place and never re-created, so a state's primary key is a stable integer:
it is the multivariate hashing seed and the ``django_id`` of the environment document
(protocol §1.9, §2.7). Multivariate options are ordered by the ascending ids of the
:class:`MultivariateFeatureStateValue` rows.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from vexil.environments.models import Environment
from vexil.projects.models import Project
from vexil.tags.models import Tag

STRING_VALUE_MAX_LENGTH = 20_000
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1

FeatureValue = str | int | bool | None


class FeatureType(models.TextChoices):
    STANDARD = "STANDARD", "Standard"
    MULTIVARIATE = "MULTIVARIATE", "Multivariate"


class ValueType(models.TextChoices):
    """Flagsmith's names for the type of a stored value."""

    STRING = "unicode", "String"
    INTEGER = "int", "Integer"
    BOOLEAN = "bool", "Boolean"


class InvalidValueError(ValueError):
    """A feature value of the wrong type, out of range or too long; the message says which."""


def value_type_of(value: FeatureValue) -> ValueType:
    """The stored type of a JSON value; raise :class:`InvalidValueError` for anything else."""
    if isinstance(value, bool):
        return ValueType.BOOLEAN
    if isinstance(value, int):
        if not INT32_MIN <= value <= INT32_MAX:
            raise InvalidValueError("Integer values must fit in 32 bits.")
        return ValueType.INTEGER
    if value is None or isinstance(value, str):
        if value is not None and len(value) > STRING_VALUE_MAX_LENGTH:
            raise InvalidValueError(
                f"String values must be at most {STRING_VALUE_MAX_LENGTH} characters."
            )
        return ValueType.STRING
    raise InvalidValueError("Values must be a string, an integer, a boolean or null.")


_INTEGER = re.compile(r"-?[0-9]+")


def value_from_text(text: str | None) -> FeatureValue:
    """Flagsmith's auto-typing of a feature's ``initial_value`` string.

    ``"true"``/``"false"`` (any case) become booleans, a whole number that fits in 32 bits an
    integer, anything else stays a string.
    """
    if text is None:
        return None
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    if _INTEGER.fullmatch(text) and INT32_MIN <= int(text) <= INT32_MAX:
        return int(text)
    return text


class TypedValue(models.Model):
    """A value stored as Flagsmith stores it: a type and one column per type."""

    type = models.CharField(max_length=10, choices=ValueType.choices, default=ValueType.STRING)
    string_value = models.CharField(  # noqa: DJ001 (null is a wire value)
        max_length=STRING_VALUE_MAX_LENGTH, null=True, blank=True, default=None
    )
    integer_value = models.IntegerField(null=True, blank=True)
    boolean_value = models.BooleanField(null=True, blank=True)

    VALUE_FIELDS = ("type", "string_value", "integer_value", "boolean_value")

    class Meta:
        abstract = True

    @property
    def value(self) -> FeatureValue:
        if self.type == ValueType.INTEGER:
            return self.integer_value
        if self.type == ValueType.BOOLEAN:
            return self.boolean_value
        return self.string_value

    def set_value(self, value: FeatureValue) -> None:
        """Store a value (validated by :func:`value_type_of`) in the column of its type."""
        self.type = value_type_of(value)
        self.string_value = value if self.type == ValueType.STRING else None
        self.integer_value = value if self.type == ValueType.INTEGER else None
        self.boolean_value = value if self.type == ValueType.BOOLEAN else None  # type: ignore[assignment]


class Feature(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="features")
    name = models.CharField(max_length=2000)
    type = models.CharField(
        max_length=20, choices=FeatureType.choices, default=FeatureType.STANDARD
    )
    # A typed JSON value (string, 32-bit integer, boolean or null): what new states start with.
    initial_value = models.JSONField(null=True, blank=True, default=None)
    default_enabled = models.BooleanField(default=False)
    description = models.TextField(blank=True, default="")
    tags = models.ManyToManyField(Tag, blank=True, related_name="features")
    owners = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="owned_features"
    )
    is_archived = models.BooleanField(default=False)
    is_server_key_only = models.BooleanField(default=False)
    created_date = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("id",)
        constraints = [
            models.UniqueConstraint(
                "project", Lower("name"), name="unique_feature_name_per_project"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class MultivariateFeatureOption(TypedValue):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    feature = models.ForeignKey(
        Feature, on_delete=models.CASCADE, related_name="multivariate_options"
    )
    default_percentage_allocation = models.FloatField(default=100)
    key = models.CharField(max_length=200, null=True, blank=True, default=None)  # noqa: DJ001 (null is a wire value)

    class Meta:
        ordering = ("id",)
        constraints = [
            models.CheckConstraint(
                condition=Q(default_percentage_allocation__gte=0)
                & Q(default_percentage_allocation__lte=100),
                name="mv_option_default_allocation_0_100",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.feature_id}: {self.value!r}"


class FeatureSegment(models.Model):
    """A segment override's slot: which segment, for which feature, where, in what order.

    ``priority`` 0 is the strongest. Services keep priorities contiguous (0..n-1) per feature
    and environment.
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    feature = models.ForeignKey(Feature, on_delete=models.CASCADE, related_name="feature_segments")
    segment = models.ForeignKey(
        "segments.Segment", on_delete=models.CASCADE, related_name="feature_segments"
    )
    environment = models.ForeignKey(
        Environment, on_delete=models.CASCADE, related_name="feature_segments"
    )
    priority = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ("priority", "id")
        constraints = [
            models.UniqueConstraint(
                fields=["feature", "environment", "segment"], name="unique_segment_override"
            ),
            models.UniqueConstraint(
                fields=["feature", "environment", "priority"],
                name="unique_segment_override_priority",
            ),
        ]

    def __str__(self) -> str:
        return f"segment {self.segment_id} on {self.feature_id} in {self.environment_id}"


class FeatureState(TypedValue):
    featurestate_uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    feature = models.ForeignKey(Feature, on_delete=models.CASCADE, related_name="feature_states")
    environment = models.ForeignKey(
        Environment, on_delete=models.CASCADE, related_name="feature_states"
    )
    identity = models.ForeignKey(
        "identities.Identity",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="identity_features",
    )
    feature_segment = models.ForeignKey(
        FeatureSegment,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="feature_states",
    )
    enabled = models.BooleanField(default=False)
    # The multivariate hashing seed Flagsmith used for this state (its document's django_id),
    # kept by `vexil import-flagsmith` so every identity keeps its variant; null: this state's
    # own id is the seed.
    hashing_id = models.PositiveBigIntegerField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("id",)
        constraints = [
            models.UniqueConstraint(
                fields=["feature", "environment"],
                condition=Q(identity__isnull=True, feature_segment__isnull=True),
                name="one_environment_default_state",
            ),
            models.UniqueConstraint(
                fields=["feature", "identity"],
                condition=Q(identity__isnull=False),
                name="one_identity_override_per_feature",
            ),
            models.UniqueConstraint(
                fields=["feature_segment"],
                condition=Q(feature_segment__isnull=False),
                name="one_state_per_segment_override",
            ),
            models.CheckConstraint(
                condition=Q(identity__isnull=True) | Q(feature_segment__isnull=True),
                name="state_is_identity_or_segment_override",
            ),
        ]

    def __str__(self) -> str:
        return f"feature {self.feature_id} in {self.environment_id}"

    @property
    def django_id(self) -> int:
        """The stable multivariate hashing seed (``django_id`` in the environment document):
        the seed kept from Flagsmith for an imported state, else the state's own id."""
        return self.pk if self.hashing_id is None else self.hashing_id

    @property
    def is_environment_default(self) -> bool:
        return self.identity_id is None and self.feature_segment_id is None

    def snapshot(self) -> dict[str, Any]:
        """The audit view of the state."""
        return {"enabled": self.enabled, "feature_state_value": self.value}


class MultivariateFeatureStateValue(models.Model):
    mv_fs_value_uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    feature_state = models.ForeignKey(
        FeatureState, on_delete=models.CASCADE, related_name="multivariate_feature_state_values"
    )
    multivariate_feature_option = models.ForeignKey(
        MultivariateFeatureOption, on_delete=models.CASCADE, related_name="state_values"
    )
    percentage_allocation = models.FloatField(default=100)
    # Flagsmith's id of this allocation, kept by `vexil import-flagsmith`: variants are walked
    # in ascending order of it (see `hashing_order`); null: this row's own id.
    hashing_id = models.PositiveBigIntegerField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ("id",)
        constraints = [
            models.UniqueConstraint(
                fields=["feature_state", "multivariate_feature_option"],
                name="one_allocation_per_option_and_state",
            ),
            models.CheckConstraint(
                condition=Q(percentage_allocation__gte=0) & Q(percentage_allocation__lte=100),
                name="mv_allocation_0_100",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.multivariate_feature_option_id}: {self.percentage_allocation}%"

    @property
    def hashing_order(self) -> int:
        """The variant's place in the split (the document's ``id`` of the allocation)."""
        return self.pk if self.hashing_id is None else self.hashing_id
