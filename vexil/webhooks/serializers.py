from __future__ import annotations

from rest_framework import serializers

from vexil.webhooks.models import (
    SECRET_MAX_LENGTH,
    URL_MAX_LENGTH,
    Webhook,
    WebhookAttempt,
    WebhookDelivery,
)


class WebhookSerializer(serializers.ModelSerializer):
    """A webhook as read back: the secret is never shown again, only whether there is one.

    ``secret`` is write-only: omitted on create, one is generated and returned once (in the
    create response); omitted on update, it is kept; ``""`` turns signing off.
    """

    url = serializers.CharField(max_length=URL_MAX_LENGTH)
    secret = serializers.CharField(
        max_length=SECRET_MAX_LENGTH,
        required=False,
        allow_blank=True,
        allow_null=True,
        write_only=True,
        trim_whitespace=False,
    )
    has_secret = serializers.SerializerMethodField()

    class Meta:
        model = Webhook
        fields: tuple[str, ...] = (
            "id",
            "url",
            "enabled",
            "name",
            "secret",
            "has_secret",
            "consecutive_failures",
            "disabled_reason",
            "created_at",
            "updated_at",
        )
        read_only_fields: tuple[str, ...] = (
            "id",
            "consecutive_failures",
            "disabled_reason",
            "created_at",
            "updated_at",
        )

    def get_has_secret(self, webhook: Webhook) -> bool:
        return bool(webhook.secret)


class WebhookCreatedSerializer(WebhookSerializer):
    """The create response: the one time the secret is shown."""

    secret = serializers.CharField(read_only=True)


class WebhookAttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookAttempt
        fields: tuple[str, ...] = (
            "number",
            "started_at",
            "status_code",
            "latency_ms",
            "error",
            "response_body",
            "outcome",
        )
        read_only_fields = fields


class WebhookDeliverySerializer(serializers.ModelSerializer):
    attempts = WebhookAttemptSerializer(source="attempt_log", many=True, read_only=True)
    attempt_count = serializers.IntegerField(source="attempts", read_only=True)

    class Meta:
        model = WebhookDelivery
        fields: tuple[str, ...] = (
            "id",
            "event_id",
            "event_type",
            "status",
            "attempt_count",
            "created_at",
            "next_attempt_at",
            "completed_at",
            "last_status_code",
            "last_error",
            "attempts",
        )
        read_only_fields = fields


class WebhookDeliveryPageSerializer(serializers.Serializer):
    """The paginated delivery log (documents the ``deliveries`` action's response)."""

    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = WebhookDeliverySerializer(many=True)


class WebhookTestScopeSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=("environment", "organisation"))
    id = serializers.CharField(max_length=100)


class WebhookTestSerializer(serializers.Serializer):
    webhook_url = serializers.CharField(max_length=URL_MAX_LENGTH)
    secret = serializers.CharField(
        max_length=SECRET_MAX_LENGTH, required=False, allow_blank=True, allow_null=True
    )
    scope = WebhookTestScopeSerializer()
