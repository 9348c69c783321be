from __future__ import annotations

from rest_framework import serializers

from vexil.tags.models import Tag


class TagSerializer(serializers.ModelSerializer):
    class Meta:
        model = Tag
        fields = (
            "id",
            "uuid",
            "label",
            "color",
            "description",
            "project",
            "is_permanent",
            "is_system_tag",
            "type",
        )
        read_only_fields = ("uuid", "project", "is_system_tag")
