from __future__ import annotations

from typing import Any

from rest_framework import serializers

from vexil.common.fields import IdField
from vexil.features.models import FeatureState
from vexil.features.serializers import FeatureValueField, MultivariateStateValueSerializer
from vexil.identities.models import IDENTIFIER_MAX_LENGTH, TRAIT_KEY_MAX_LENGTH, Identity, Trait


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
        extra_kwargs = {
            "value_type": {"required": False},
            "string_value": {"required": False},
            "integer_value": {"required": False},
            "float_value": {"required": False},
            "boolean_value": {"required": False},
        }

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "trait_value" not in attrs:
            kind = attrs.get("value_type", "unicode")
            column = {"unicode": "string_value", "int": "integer_value"}.get(kind, f"{kind}_value")
            if column not in attrs:
                raise serializers.ValidationError({"trait_value": ["This field is required."]})
            attrs["trait_value"] = attrs[column]
        if attrs["trait_value"] is None:
            raise serializers.ValidationError({"trait_value": ["Trait values cannot be null."]})
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
