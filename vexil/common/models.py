from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone


class OutboundEmail(models.Model):
    """The outbox: one row per e-mail Vexil sends, written before any network I/O.

    What was queued is visible, retried, and never sent twice once a server accepted it (the
    row is claimed before each attempt and marked ``sent`` the moment the server says yes).
    """

    class Status(models.TextChoices):
        QUEUED = "queued"
        SENDING = "sending"
        SENT = "sent"
        FAILED = "failed"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=64, help_text="What the message is: password_reset, ...")
    recipient = models.EmailField(max_length=254)
    from_email = models.CharField(max_length=254)
    subject = models.CharField(max_length=255)
    body_text = models.TextField()
    body_html = models.TextField()
    # No foreign key: the common app sits below the domain apps, and a record of what was sent
    # outlives the organisation it was sent for.
    organisation_id = models.PositiveBigIntegerField(null=True, blank=True, db_index=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")

    def __str__(self) -> str:
        return f"{self.kind} to {self.recipient} ({self.status})"
