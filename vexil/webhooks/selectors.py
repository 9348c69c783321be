from __future__ import annotations

from django.db.models import QuerySet

from vexil.environments.models import Environment
from vexil.organisations.models import Organisation
from vexil.webhooks.models import Webhook, WebhookDelivery


def environment_webhooks(environment: Environment) -> QuerySet[Webhook]:
    return Webhook.objects.filter(environment=environment).order_by("id")


def organisation_webhooks(organisation: Organisation) -> QuerySet[Webhook]:
    return Webhook.objects.filter(organisation=organisation, environment__isnull=True).order_by(
        "id"
    )


def deliveries_of(webhook: Webhook) -> QuerySet[WebhookDelivery]:
    """The delivery log of a webhook, newest first, attempts included."""
    return (
        WebhookDelivery.objects.filter(webhook=webhook)
        .prefetch_related("attempt_log")
        .order_by("-created_at", "-pk")
    )
