from __future__ import annotations

import uuid

from django.db import models

from vexil.projects.models import Project


class TagType(models.TextChoices):
    NONE = "NONE", "None"
    STALE = "STALE", "Stale"
    UNHEALTHY = "UNHEALTHY", "Unhealthy"


class Tag(models.Model):
    """A coloured label for a project's features. Tags never change an evaluation."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="tags")
    label = models.CharField(max_length=100)
    color = models.CharField(max_length=10, default="#6837FC")
    description = models.CharField(max_length=512, blank=True, default="")
    is_permanent = models.BooleanField(default=False)
    is_system_tag = models.BooleanField(default=False)
    type = models.CharField(max_length=10, choices=TagType.choices, default=TagType.NONE)

    class Meta:
        ordering = ("id",)
        constraints = [
            models.UniqueConstraint(
                fields=["project", "label"], name="unique_tag_label_per_project"
            )
        ]

    def __str__(self) -> str:
        return self.label
