from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

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


class WebhookTestResultSerializer(serializers.Serializer):
    """A test send that the receiver answered with a 2xx (errors are the house error shape)."""

    detail = serializers.CharField()
    status = serializers.IntegerField()


# --- Integrations (Flagsmith's field names where it has the integration) -----------------------
class _IntegrationSerializer(serializers.ModelSerializer):
    """An integration as read back: its key or secret URL is write-only, never shown again.

    Fields in ``kept_when_omitted`` are required on create; an update that leaves one out keeps
    the stored value (it cannot be read back to be sent again).
    """

    kept_when_omitted: tuple[str, ...] = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance is not None:
            for name in self.kept_when_omitted:
                self.fields[name].required = False

    class Meta:
        model = Webhook
        fields: tuple[str, ...] = (
            "id",
            "enabled",
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


def _secret_field(*, required: bool, help_text: str) -> serializers.CharField:
    return serializers.CharField(
        source="secret",
        max_length=SECRET_MAX_LENGTH,
        write_only=True,
        required=required,
        trim_whitespace=False,
        help_text=help_text,
    )


class DatadogSerializer(_IntegrationSerializer):
    """``projects/{id}/integrations/datadog/``: ``base_url``, ``api_key``, ``use_custom_source``."""

    base_url = serializers.CharField(source="url", max_length=URL_MAX_LENGTH)
    api_key = _secret_field(required=True, help_text="Datadog API key (write-only).")
    has_api_key = serializers.SerializerMethodField()
    use_custom_source = serializers.BooleanField(required=False)
    kept_when_omitted = ("api_key",)

    class Meta(_IntegrationSerializer.Meta):
        fields = (
            *_IntegrationSerializer.Meta.fields,
            "base_url",
            "api_key",
            "has_api_key",
            "use_custom_source",
        )

    def get_has_api_key(self, integration: Webhook) -> bool:
        return bool(integration.secret)

    def to_representation(self, instance: Webhook) -> dict[str, Any]:
        data = super().to_representation(instance)
        data["use_custom_source"] = bool(instance.options.get("use_custom_source"))
        return data


class GrafanaSerializer(_IntegrationSerializer):
    """``projects/{id}/integrations/grafana/``: ``base_url`` and ``api_key`` (a service token)."""

    base_url = serializers.CharField(source="url", max_length=URL_MAX_LENGTH)
    api_key = _secret_field(required=True, help_text="Grafana service account token.")
    has_api_key = serializers.SerializerMethodField()
    kept_when_omitted = ("api_key",)

    class Meta(_IntegrationSerializer.Meta):
        fields = (*_IntegrationSerializer.Meta.fields, "base_url", "api_key", "has_api_key")

    def get_has_api_key(self, integration: Webhook) -> bool:
        return bool(integration.secret)


class SlackSerializer(_IntegrationSerializer):
    """``environments/{api_key}/integrations/slack/``: a Slack incoming-webhook URL.

    The URL holds Slack's token, so it is write-only too; ``webhook_host`` says where it points.
    """

    webhook_url = serializers.CharField(source="url", max_length=URL_MAX_LENGTH, write_only=True)
    webhook_host = serializers.SerializerMethodField()
    kept_when_omitted = ("webhook_url",)

    class Meta(_IntegrationSerializer.Meta):
        fields = (*_IntegrationSerializer.Meta.fields, "webhook_url", "webhook_host")

    def get_webhook_host(self, integration: Webhook) -> str:
        return urlsplit(integration.url).hostname or ""


class JSONWebhookSerializer(_IntegrationSerializer):
    """``environments/{api_key}/integrations/json-webhook/``: a URL and an optional secret."""

    url = serializers.CharField(max_length=URL_MAX_LENGTH)
    secret = serializers.CharField(
        max_length=SECRET_MAX_LENGTH,
        write_only=True,
        required=False,
        allow_blank=True,
        trim_whitespace=False,
    )
    has_secret = serializers.SerializerMethodField()

    class Meta(_IntegrationSerializer.Meta):
        fields = (*_IntegrationSerializer.Meta.fields, "url", "secret", "has_secret")

    def get_has_secret(self, integration: Webhook) -> bool:
        return bool(integration.secret)
