from __future__ import annotations

from rest_framework import serializers

from vexil.audit.models import AuditLog
from vexil.users.serializers import UserSummarySerializer


class AuditLogSerializer(serializers.ModelSerializer):
    author = UserSummarySerializer(read_only=True, allow_null=True)
    related_object_type = serializers.CharField(source="resource_type", read_only=True)
    related_object_id = serializers.CharField(source="resource_id", read_only=True)
    is_system_event = serializers.SerializerMethodField()

    class Meta:
        model = AuditLog
        fields: tuple[str, ...] = (
            "id",
            "created_date",
            "log",
            "action",
            "author",
            "master_api_key_name",
            "organisation",
            "project",
            "environment",
            "related_object_type",
            "related_object_id",
            "is_system_event",
        )
        read_only_fields: tuple[str, ...] = fields

    def get_is_system_event(self, row: AuditLog) -> bool:
        return row.author_id is None and not row.master_api_key_name


class AuditLogDetailSerializer(AuditLogSerializer):
    class Meta(AuditLogSerializer.Meta):
        fields = (*AuditLogSerializer.Meta.fields, "before", "after")
        read_only_fields = fields
