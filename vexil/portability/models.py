"""Flagsmith-format feature exports and imports of one environment (protocol notes §7).

An export keeps the file it produced; an import keeps the file it was given and what happened
to each of its features. Both are working files, not history: the audit log records the changes
an import made.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from vexil.environments.models import Environment

IMPORT_FILE_MAX_BYTES = 1_000_000


class FileStatus(models.TextChoices):
    PROCESSING = "PROCESSING", "Processing"
    SUCCESS = "SUCCESS", "Success"
    FAILED = "FAILED", "Failed"


class ImportStrategy(models.TextChoices):
    SKIP = "SKIP", "Skip features that exist"
    OVERWRITE_DESTRUCTIVE = "OVERWRITE_DESTRUCTIVE", "Overwrite this environment's states"


class FeatureExport(models.Model):
    environment = models.ForeignKey(
        Environment, on_delete=models.CASCADE, related_name="feature_exports"
    )
    name = models.CharField(max_length=2100)
    tag_ids = models.JSONField(default=list, blank=True)
    status = models.CharField(
        max_length=10, choices=FileStatus.choices, default=FileStatus.PROCESSING
    )
    # The export file: a JSON array with one entry per feature.
    data = models.JSONField(null=True, blank=True, default=None)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("-created_at", "-id")

    def __str__(self) -> str:
        return self.name


class FeatureImport(models.Model):
    environment = models.ForeignKey(
        Environment, on_delete=models.CASCADE, related_name="feature_imports"
    )
    strategy = models.CharField(max_length=25, choices=ImportStrategy.choices)
    status = models.CharField(
        max_length=10, choices=FileStatus.choices, default=FileStatus.PROCESSING
    )
    data = models.TextField(blank=True, default="")
    # One entry per feature of the file: {"name", "result": CREATED|UPDATED|SKIPPED|FAILED, ...}
    results = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("-created_at", "-id")

    def __str__(self) -> str:
        return f"{self.strategy} import into {self.environment_id} ({self.status})"
