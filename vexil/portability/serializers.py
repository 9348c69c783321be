from __future__ import annotations

from rest_framework import serializers

from vexil.portability.models import FeatureExport, FeatureImport, ImportStrategy


class FeatureExportCreateSerializer(serializers.Serializer):
    environment_id = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    tag_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1), max_length=1000
    )


class FeatureExportSerializer(serializers.ModelSerializer):
    class Meta:
        model = FeatureExport
        fields = ("id", "name", "environment_id", "status", "created_at")
        read_only_fields = fields


class FeatureImportCreateSerializer(serializers.Serializer):
    file = serializers.FileField(allow_empty_file=True)
    strategy = serializers.ChoiceField(choices=ImportStrategy.choices)


class FeatureImportResultSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    name = serializers.CharField(allow_null=True)
    result = serializers.ChoiceField(choices=["CREATED", "UPDATED", "SKIPPED", "FAILED"])
    detail = serializers.CharField(required=False)


class FeatureImportSerializer(serializers.ModelSerializer):
    results = FeatureImportResultSerializer(many=True, read_only=True)

    class Meta:
        model = FeatureImport
        fields = ("id", "environment_id", "strategy", "status", "created_at", "results")
        read_only_fields = fields


class FeatureImportListSerializer(serializers.ModelSerializer):
    class Meta:
        model = FeatureImport
        fields = ("id", "environment_id", "strategy", "status", "created_at")
        read_only_fields = fields
