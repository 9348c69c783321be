from __future__ import annotations

from typing import Any

from rest_framework import serializers

from vexil.common.fields import (
    IdField,
    StrictBooleanField,
    StrictFloatField,
    StrictIntegerField,
    StrictStringField,
)
from vexil.features.models import FeatureState
from vexil.features.serializers import FeatureValueField, MultivariateStateValueSerializer
from vexil.identities.models import (
    IDENTIFIER_MAX_LENGTH,
    TRAIT_KEY_MAX_LENGTH,
    TRAIT_STRING_MAX_LENGTH,
    Identity,
    InvalidTraitValueError,
    Trait,
    TraitValueType,
    trait_value_type_of,
)

_TRAIT_COLUMNS = {
    TraitValueType.STRING: "string_value",
    TraitValueType.INTEGER: "integer_value",
    TraitValueType.FLOAT: "float_value",
    TraitValueType.BOOLEAN: "boolean_value",
}


class IdentitySerializer(serializers.ModelSerializer):
    identifier = serializers.CharField(max_length=IDENTIFIER_MAX_LENGTH)

    class Meta:
        model = Identity
        fields = ("id", "uuid", "identifier", "environment", "created_date")
        read_only_fields = ("uuid", "environment", "created_date")


class IdentityOverrideSerializer(serializers.ModelSerializer):
    feature_state_value = FeatureValueField(source="value", required=False)
    multivariate_feature_state_values = MultivariateStateValueSerializer(many=True, read_only=True)

    class Meta:
        model = FeatureState
        fields = (
            "id",
            "featurestate_uuid",
            "feature",
            "environment",
            "identity",
            "enabled",
            "feature_state_value",
            "multivariate_feature_state_values",
            "updated_at",
        )
        read_only_fields = ("featurestate_uuid", "environment", "identity", "updated_at")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The view resolves the feature within the identity's project.
        self.fields["feature"] = IdField(source="feature_id", read_only=self.instance is not None)


class TraitSerializer(serializers.ModelSerializer):
    trait_key = serializers.CharField(max_length=TRAIT_KEY_MAX_LENGTH)
    trait_value = serializers.JSONField(required=False)
    value_type = serializers.ChoiceField(choices=TraitValueType.choices, required=False)
    string_value = StrictStringField(
        required=False, allow_null=True, max_length=TRAIT_STRING_MAX_LENGTH
    )
    integer_value = StrictIntegerField(
        required=False, allow_null=True, min_value=-(2**31), max_value=2**31 - 1
    )
    float_value = StrictFloatField(required=False, allow_null=True)
    boolean_value = StrictBooleanField(required=False, allow_null=True)

    class Meta:
        model = Trait
        fields = (
            "id",
            "trait_key",
            "trait_value",
            "value_type",
            "string_value",
            "integer_value",
            "float_value",
            "boolean_value",
            "created_date",
        )
        read_only_fields = ("created_date",)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        """One value, of one type: ``trait_value`` (typed by its JSON type) or ``value_type``
        with its column; a type that disagrees with the value is refused, not converted."""
        kind = attrs.get("value_type")
        if "trait_value" not in attrs:
            columns = [c for c in _TRAIT_COLUMNS.values() if c in attrs]
            if kind is None and len(columns) == 1:
                kind = next(k for k, c in _TRAIT_COLUMNS.items() if c == columns[0])
            column = _TRAIT_COLUMNS[TraitValueType(kind or TraitValueType.STRING)]
            if column not in attrs:
                raise serializers.ValidationError({"trait_value": ["This field is required."]})
            attrs["trait_value"] = attrs[column]
        if attrs["trait_value"] is None:
            raise serializers.ValidationError({"trait_value": ["Trait values cannot be null."]})
        try:
            actual = trait_value_type_of(attrs["trait_value"])
        except InvalidTraitValueError as error:
            raise serializers.ValidationError({"trait_value": [str(error)]}) from error
        if kind is not None and actual != kind and not (kind == "float" and actual == "int"):
            raise serializers.ValidationError(
                {"value_type": [f"The value is of type {actual!r}, not {kind!r}."]}
            )
        if kind == TraitValueType.FLOAT:
            attrs["trait_value"] = float(attrs["trait_value"])
        if self.instance is not None and attrs.get("trait_key", self.instance.trait_key) != (
            self.instance.trait_key
        ):
            raise serializers.ValidationError({"trait_key": ["Trait keys cannot be changed."]})
        return attrs


class CloneFromIdentitySerializer(serializers.Serializer):
    source_identity_id = IdField()


class TraitKeysSerializer(serializers.Serializer):
    keys = serializers.ListField(child=serializers.CharField())


class DeleteTraitsSerializer(serializers.Serializer):
    key = serializers.CharField(max_length=TRAIT_KEY_MAX_LENGTH)


class DeletedTraitsSerializer(serializers.Serializer):
    key = serializers.CharField()
    deleted = serializers.IntegerField(help_text="How many identities lost the trait.")
