"""Identities (the users of the customer's product, per environment) and their traits.

An identity's overrides are :class:`vexil.features.models.FeatureState` rows with ``identity``
set (related name ``identity_features``).
"""

from __future__ import annotations

import uuid

from django.db import models

from vexil.environments.models import Environment

IDENTIFIER_MAX_LENGTH = 2_000
TRAIT_KEY_MAX_LENGTH = 200
TRAIT_STRING_MAX_LENGTH = 2_000
# Stored traits per identity: every identify call reads and evaluates all of them
# (docs/sdk.md, "Limits").
MAX_TRAITS_PER_IDENTITY = 2_000

TraitValue = str | int | float | bool


class TraitValueType(models.TextChoices):
    STRING = "unicode", "String"
    INTEGER = "int", "Integer"
    FLOAT = "float", "Float"
    BOOLEAN = "bool", "Boolean"


class InvalidTraitValueError(ValueError):
    """A trait value of an unsupported type, or too long; the message says which."""


class Identity(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    environment = models.ForeignKey(
        Environment, on_delete=models.CASCADE, related_name="identities"
    )
    identifier = models.CharField(max_length=IDENTIFIER_MAX_LENGTH)
    # Flagsmith's id of this identity, kept by `vexil import-flagsmith`: an environment that does
    # not hash on the composite key hashes on it; null: this identity's own id.
    hashing_id = models.PositiveBigIntegerField(null=True, blank=True, editable=False)
    created_date = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("id",)
        verbose_name_plural = "identities"
        constraints = [
            models.UniqueConstraint(
                fields=["environment", "identifier"], name="unique_identifier_per_environment"
            )
        ]

    def __str__(self) -> str:
        return self.identifier

    @property
    def hashing_key(self) -> int:
        """The id hashed where the environment does not hash on the composite key."""
        return self.pk if self.hashing_id is None else self.hashing_id


class Trait(models.Model):
    identity = models.ForeignKey(Identity, on_delete=models.CASCADE, related_name="identity_traits")
    trait_key = models.CharField(max_length=TRAIT_KEY_MAX_LENGTH)
    value_type = models.CharField(
        max_length=10, choices=TraitValueType.choices, default=TraitValueType.STRING
    )
    string_value = models.CharField(max_length=TRAIT_STRING_MAX_LENGTH, null=True, blank=True)  # noqa: DJ001 (null is a wire value)
    integer_value = models.IntegerField(null=True, blank=True)
    float_value = models.FloatField(null=True, blank=True)
    boolean_value = models.BooleanField(null=True, blank=True)
    created_date = models.DateTimeField(auto_now_add=True)

    VALUE_FIELDS = ("value_type", "string_value", "integer_value", "float_value", "boolean_value")

    class Meta:
        ordering = ("id",)
        constraints = [
            models.UniqueConstraint(fields=["identity", "trait_key"], name="unique_trait_key")
        ]

    def __str__(self) -> str:
        return f"{self.trait_key}={self.trait_value!r}"

    @property
    def trait_value(self) -> TraitValue | None:
        return {
            TraitValueType.INTEGER: self.integer_value,
            TraitValueType.FLOAT: self.float_value,
            TraitValueType.BOOLEAN: self.boolean_value,
        }.get(TraitValueType(self.value_type), self.string_value)

    def set_value(self, value: TraitValue) -> None:
        """Store a value in the column of its type; raise :class:`InvalidTraitValueError`."""
        self.value_type = trait_value_type_of(value)
        self.string_value = value if self.value_type == TraitValueType.STRING else None  # type: ignore[assignment]
        self.integer_value = value if self.value_type == TraitValueType.INTEGER else None
        self.float_value = value if self.value_type == TraitValueType.FLOAT else None
        self.boolean_value = value if self.value_type == TraitValueType.BOOLEAN else None  # type: ignore[assignment]


def trait_value_type_of(value: object) -> TraitValueType:
    if isinstance(value, bool):
        return TraitValueType.BOOLEAN
    if isinstance(value, int):
        if not -(2**31) <= value <= 2**31 - 1:
            raise InvalidTraitValueError("Integer trait values must fit in 32 bits.")
        return TraitValueType.INTEGER
    if isinstance(value, float):
        return TraitValueType.FLOAT
    if isinstance(value, str):
        if len(value) > TRAIT_STRING_MAX_LENGTH:
            raise InvalidTraitValueError(
                f"Value string is too long. Must be less than {TRAIT_STRING_MAX_LENGTH} character"
            )
        return TraitValueType.STRING
    raise InvalidTraitValueError("Trait values must be a string, an integer, a float or a boolean.")
