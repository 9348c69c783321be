from __future__ import annotations

from django.db.models import QuerySet

from vexil.environments.models import Environment
from vexil.organisations.models import Organisation
from vexil.projects.models import Project
from vexil.webhooks.models import DestinationKind, Webhook, WebhookDelivery


def environment_webhooks(environment: Environment) -> QuerySet[Webhook]:
    return Webhook.objects.filter(environment=environment, kind=DestinationKind.WEBHOOK).order_by(
        "id"
    )


def organisation_webhooks(organisation: Organisation) -> QuerySet[Webhook]:
    return Webhook.objects.filter(
        organisation=organisation,
        environment__isnull=True,
        project__isnull=True,
        kind=DestinationKind.WEBHOOK,
    ).order_by("id")


def deliveries_of(webhook: Webhook) -> QuerySet[WebhookDelivery]:
    """The delivery log of a webhook, newest first, attempts included."""
    return (
        WebhookDelivery.objects.filter(webhook=webhook)
        .prefetch_related("attempt_log")
        .order_by("-created_at", "-pk")
    )


def integrations_of(
    *, kind: str, project: Project | None = None, environment: Environment | None = None
) -> QuerySet[Webhook]:
    """The integration of ``kind`` of a project or an environment (zero or one row)."""
    return Webhook.objects.filter(kind=kind, project=project, environment=environment).order_by(
        "id"
    )


def integrations_of_environment(environment: Environment) -> QuerySet[Webhook]:
    return Webhook.objects.filter(environment=environment).exclude(kind=DestinationKind.WEBHOOK)


def integrations_of_project(project: Project) -> QuerySet[Webhook]:
    return Webhook.objects.filter(project=project, environment__isnull=True)
