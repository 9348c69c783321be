from __future__ import annotations

import uuid

from django.db import models

from vexil.organisations.models import Organisation


class Project(models.Model):
    """A product or service: it owns features, segments, tags and environments."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="projects"
    )
    name = models.CharField(max_length=2000)
    created_date = models.DateTimeField(auto_now_add=True)
    hide_disabled_flags = models.BooleanField(default=False)
    enable_realtime_updates = models.BooleanField(default=False)
    feature_name_regex = models.CharField(max_length=255, blank=True, default="")
    only_allow_lower_case_feature_names = models.BooleanField(default=True)
    prevent_flag_defaults = models.BooleanField(default=True)
    enforce_feature_owners = models.BooleanField(default=False)
    stale_flags_limit_days = models.PositiveIntegerField(default=30)

    class Meta:
        ordering = ("id",)

    def __str__(self) -> str:
        return self.name
