from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from vexil.common.fields import IdField
from vexil.features.models import Feature
from vexil.segments.models import CONDITION_VALUE_MAX_LENGTH, Operator, RuleType, Segment
from vexil.segments.selectors import segment_rule_trees


@extend_schema_field(
    {"oneOf": [{"type": "string"}, {"type": "number"}, {"type": "boolean"}], "nullable": True}
)
class ConditionValueField(serializers.Field):
    """Any JSON scalar, stored as a string (Flagsmith coerces condition values the same way)."""

    def to_internal_value(self, data: Any) -> str:
        if isinstance(data, dict | list):
            raise serializers.ValidationError("Condition values must be scalars.")
        if data is None:
            return ""
        if isinstance(data, bool):
            return "true" if data else "false"
        value = str(data)
        if len(value) > CONDITION_VALUE_MAX_LENGTH:
            raise serializers.ValidationError(
                f"Ensure this value has at most {CONDITION_VALUE_MAX_LENGTH} characters."
            )
        return value

    def to_representation(self, value: Any) -> Any:
        return value


class ConditionSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    operator = serializers.ChoiceField(choices=Operator.choices)
    property = serializers.CharField(
        max_length=1000, required=False, allow_null=True, allow_blank=True
    )
    value = ConditionValueField(required=False, allow_null=True, default="")
    description = serializers.CharField(required=False, allow_blank=True, allow_null=True)


class RuleSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    type = serializers.ChoiceField(choices=RuleType.choices)
    conditions = ConditionSerializer(many=True, required=False, default=list)

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        fields["rules"] = RuleSerializer(many=True, required=False, default=list)
        return fields


class SegmentSerializer(serializers.ModelSerializer):
    # Written through the service; read back with the selector (see to_representation).
    rules = RuleSerializer(many=True, required=False, write_only=True)
    feature = IdField(source="feature_id", required=False, allow_null=True)

    class Meta:
        model = Segment
        fields = ("id", "uuid", "name", "description", "project", "feature", "rules")
        read_only_fields = ("uuid", "project")

    def validate_feature(self, value: int | None) -> Feature | None:
        if value is None:
            return None
        feature = Feature.objects.filter(project=self.context["project"], pk=value).first()
        if feature is None:
            raise serializers.ValidationError(f'Invalid pk "{value}" - object does not exist.')
        return feature

    def to_representation(self, instance: Segment) -> dict[str, Any]:
        data = super().to_representation(instance)
        trees = self.context.get("rule_trees")
        if trees is None or instance.pk not in trees:
            trees = segment_rule_trees([instance])
        data["rules"] = trees[instance.pk]
        return data


class SegmentCloneSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=Segment._meta.get_field("name").max_length)


class AssociatedFeaturesQuerySerializer(serializers.Serializer):
    environment = IdField(required=False)
