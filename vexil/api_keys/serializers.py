from __future__ import annotations

from rest_framework import serializers

from vexil.api_keys.models import MasterAPIKey


class MasterAPIKeySerializer(serializers.ModelSerializer):
    id = serializers.CharField(
        source="prefix", read_only=True, help_text="The key's public prefix, which identifies it."
    )
    has_expired = serializers.BooleanField(read_only=True)

    class Meta:
        model = MasterAPIKey
        fields: tuple[str, ...] = (
            "id",
            "prefix",
            "name",
            "created",
            "expiry_date",
            "revoked",
            "is_admin",
            "has_expired",
        )
        read_only_fields = ("id", "prefix", "created", "has_expired")
        # The model's column defaults to None, which would make a nameless key "valid" input.
        extra_kwargs = {"name": {"required": True}}


class MasterAPIKeyCreatedSerializer(MasterAPIKeySerializer):
    key = serializers.CharField(
        read_only=True,
        help_text="`Authorization: Api-Key <key>`. Returned once, at creation; hashed after.",
    )

    class Meta(MasterAPIKeySerializer.Meta):
        fields: tuple[str, ...] = (*MasterAPIKeySerializer.Meta.fields, "key")
