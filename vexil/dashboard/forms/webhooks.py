"""Forms of the webhooks and integrations pages; the webhook services validate the rules."""

from __future__ import annotations

from typing import Any

from django import forms

from vexil.dashboard.forms import DashboardForm
from vexil.webhooks.models import SECRET_MAX_LENGTH, URL_MAX_LENGTH, DestinationKind, Webhook


def _url(label: str, help_text: str = "") -> forms.CharField:
    return forms.CharField(label=label, max_length=URL_MAX_LENGTH, help_text=help_text)


def _secret(label: str, *, required: bool, help_text: str) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=SECRET_MAX_LENGTH,
        required=required,
        strip=False,
        help_text=help_text,
        widget=forms.PasswordInput(render_value=False),
    )


class WebhookCreateForm(DashboardForm):
    url = _url("Webhook URL", "Where Vexil POSTs each event (http or https).")
    name = forms.CharField(label="Name", max_length=200, required=False)
    secret = _secret(
        "Secret",
        required=False,
        help_text="Signs each request. Leave empty and Vexil makes a strong one for you.",
    )

    def changes(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["secret"] = data["secret"] or None  # None: generate one
        return data


class WebhookEditForm(DashboardForm):
    """A webhook's or integration's editable settings; an empty key field keeps the stored one."""

    url = _url("URL")
    enabled = forms.BooleanField(label="Enabled", required=False)
    secret = _secret(
        "New secret or key",
        required=False,
        help_text="Leave empty to keep the current one; it is never shown again.",
    )

    def __init__(self, *args: Any, webhook: Webhook, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"url": webhook.url, "enabled": webhook.enabled})
        super().__init__(*args, **kwargs)
        if webhook.kind == DestinationKind.SLACK:
            self.fields.pop("secret")
            self.fields["url"].label = "New Slack webhook URL"
            self.fields["url"].required = False
            self.fields["url"].help_text = "Leave empty to keep the current one."
            self.initial.pop("url", None)
        elif webhook.kind in (DestinationKind.DATADOG, DestinationKind.GRAFANA):
            self.fields["url"].label = "Base URL"
        if webhook.kind == DestinationKind.DATADOG:
            # The API's ``use_custom_source``, kept in the integration's options.
            self.fields["use_custom_source"] = forms.BooleanField(
                label="Use Flagsmith as the source", required=False
            )
            self.initial.setdefault(
                "use_custom_source", bool(webhook.options.get("use_custom_source"))
            )

    def changes(self) -> dict[str, Any]:
        data = {name: value for name, value in self.cleaned_data.items() if value != ""}
        if "use_custom_source" in data:
            data["options"] = {"use_custom_source": data.pop("use_custom_source")}
        return data


class SlackForm(DashboardForm):
    url = _url(
        "Slack incoming-webhook URL",
        "https://hooks.slack.com/services/…: made in Slack for the channel to post to.",
    )


class JSONWebhookForm(DashboardForm):
    url = _url("JSON webhook URL")
    secret = _secret("Signing secret", required=False, help_text="Optional.")


class DatadogForm(DashboardForm):
    url = _url("Datadog API base URL", "For example https://api.datadoghq.eu/")
    secret = _secret("Datadog API key", required=True, help_text="Never shown again.")
    use_custom_source = forms.BooleanField(label="Use Flagsmith as the source", required=False)

    def changes(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        return data | {"options": {"use_custom_source": data.pop("use_custom_source")}}


class GrafanaForm(DashboardForm):
    url = _url("Grafana base URL", "For example https://grafana.example.com")
    secret = _secret("Grafana service account token", required=True, help_text="Never shown again.")


INTEGRATION_FORMS: dict[str, type[DashboardForm]] = {
    DestinationKind.SLACK: SlackForm,
    DestinationKind.JSON: JSONWebhookForm,
    DestinationKind.DATADOG: DatadogForm,
    DestinationKind.GRAFANA: GrafanaForm,
}
