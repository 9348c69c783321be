"""Organisation master API keys: ``Authorization: Api-Key <prefix>.<secret>``.

djangorestframework-api-key generates and hashes them (SHA-512 of a high-entropy key; the
plaintext is returned once, at creation). ``prefix`` is unique and indexed, so resolving a key is
one indexed lookup plus a constant-time digest compare.
"""

from __future__ import annotations

from datetime import datetime

from django.db import models
from django.utils import timezone
from rest_framework_api_key.models import AbstractAPIKey

from vexil.organisations.models import Organisation


class MasterAPIKey(AbstractAPIKey):
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="master_api_keys"
    )
    is_admin = models.BooleanField(default=True)

    class Meta(AbstractAPIKey.Meta):
        verbose_name = "master API key"
        verbose_name_plural = "master API keys"
        ordering = ("-created",)

    def is_usable_at(self, moment: datetime | None = None) -> bool:
        now = moment or timezone.now()
        return not self.revoked and (self.expiry_date is None or self.expiry_date > now)
