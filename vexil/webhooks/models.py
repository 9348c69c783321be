"""Webhooks, their deliveries (the outbox) and the log of every delivery attempt.

A :class:`Webhook` belongs to an environment (flag events of that environment) or, with no
environment, to an organisation (audit-log events and the flag events of all its environments).
An **integration** (Slack, Datadog, Grafana, a generic JSON webhook) is a :class:`Webhook` of
another :class:`DestinationKind`: the same outbox, retries, delivery log and failure counting,
with its own body format (:mod:`vexil.webhooks.formats`) and scope (an environment, or a project
for Datadog and Grafana, which hear of the project's audit-log events).
An event becomes one :class:`WebhookDelivery` row per enabled webhook **before** any network
traffic: the row is what the worker delivers, retries and resumes after a restart. Each try is a
:class:`WebhookAttempt` row, readable through the API.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q

from vexil.environments.models import Environment
from vexil.organisations.models import Organisation
from vexil.projects.models import Project

URL_MAX_LENGTH = 1000
SECRET_MAX_LENGTH = 255
RESPONSE_LOG_CHARS = 1024


class WebhookEventType(models.TextChoices):
    FLAG_UPDATED = "FLAG_UPDATED"
    FLAG_DELETED = "FLAG_DELETED"
    AUDIT_LOG_CREATED = "AUDIT_LOG_CREATED"


class DestinationKind(models.TextChoices):
    WEBHOOK = "webhook", "Webhook"
    SLACK = "slack", "Slack"
    DATADOG = "datadog", "Datadog"
    GRAFANA = "grafana", "Grafana"
    JSON = "json", "JSON webhook"


class Webhook(models.Model):
    kind = models.CharField(
        max_length=20, choices=DestinationKind.choices, default=DestinationKind.WEBHOOK
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="webhooks"
    )
    environment = models.ForeignKey(
        Environment, null=True, blank=True, on_delete=models.CASCADE, related_name="webhooks"
    )
    project = models.ForeignKey(
        Project,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="integrations",
    )
    name = models.CharField(max_length=200, blank=True, default="")
    url = models.CharField(max_length=URL_MAX_LENGTH)
    enabled = models.BooleanField(default=True)
    # Kept as given: signing needs the secret itself (for Datadog and Grafana it is the API
    # key). The API shows it once, at creation, and never again.
    secret = models.CharField(max_length=SECRET_MAX_LENGTH, blank=True, default="")
    # Kind-specific settings (Datadog's ``use_custom_source``).
    options = models.JSONField(default=dict, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    disabled_reason = models.CharField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("id",)
        constraints = [
            # One integration of a kind per project (Datadog, Grafana) or environment (the rest).
            models.UniqueConstraint(
                fields=["kind", "project"],
                condition=Q(kind__in=["datadog", "grafana"]),
                name="one_integration_per_project",
            ),
            models.UniqueConstraint(
                fields=["kind", "environment"],
                condition=Q(kind__in=["slack", "json"]),
                name="one_integration_per_environment",
            ),
            # Flagsmith's organisation-level Grafana: one per organisation (its own, with no
            # project or environment; a project's Grafana is counted by the first constraint).
            models.UniqueConstraint(
                fields=["kind", "organisation"],
                condition=Q(kind="grafana", project__isnull=True, environment__isnull=True),
                name="one_grafana_per_organisation",
            ),
        ]

    def __str__(self) -> str:
        return self.url

    @property
    def scope(self) -> str:
        if self.environment_id is not None:
            return "environment"
        return "project" if self.project_id is not None else "organisation"

    @property
    def is_integration(self) -> bool:
        return self.kind != DestinationKind.WEBHOOK


class DeliveryStatus(models.TextChoices):
    PENDING = "PENDING", "Pending"
    DELIVERED = "DELIVERED", "Delivered"
    FAILED = "FAILED", "Failed"
    CANCELLED = "CANCELLED", "Cancelled"


class WebhookDelivery(models.Model):
    """One event for one webhook: the exact body that is signed and sent, and its progress.

    ``event_id`` is the same for every webhook that receives the event and for every attempt, so
    receivers can de-duplicate. ``locked_until`` is a lease: a worker that dies mid-attempt
    leaves it to expire, and the delivery is tried again (at-least-once).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    event_id = models.UUIDField(db_index=True)
    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    event_type = models.CharField(max_length=50)
    body = models.TextField()
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    next_attempt_at = models.DateTimeField()
    locked_until = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")

    class Meta:
        ordering = ("-created_at",)
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status="PENDING"),
                name="webhook_delivery_due",
            )
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id} -> {self.webhook_id}"


class AttemptOutcome(models.TextChoices):
    DELIVERED = "DELIVERED", "Delivered"
    RETRY = "RETRY", "Will retry"
    FAILED = "FAILED", "Failed"


class WebhookAttempt(models.Model):
    delivery = models.ForeignKey(
        WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log"
    )
    number = models.PositiveIntegerField()
    started_at = models.DateTimeField(db_index=True)
    status_code = models.PositiveIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True, default="")
    response_body = models.TextField(blank=True, default="")
    outcome = models.CharField(max_length=10, choices=AttemptOutcome.choices)

    class Meta:
        ordering = ("number",)
        constraints = [
            models.UniqueConstraint(fields=["delivery", "number"], name="one_row_per_attempt")
        ]

    def __str__(self) -> str:
        return f"{self.delivery_id} #{self.number}: {self.outcome}"
