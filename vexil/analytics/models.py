from __future__ import annotations

from django.db import models

from vexil.environments.models import Environment
from vexil.features.models import Feature


class FeatureEvaluationCount(models.Model):
    """How many times SDKs evaluated a feature in an environment during one hour (UTC)."""

    environment = models.ForeignKey(
        Environment, on_delete=models.CASCADE, related_name="evaluation_counts"
    )
    feature = models.ForeignKey(Feature, on_delete=models.CASCADE, related_name="evaluation_counts")
    hour = models.DateTimeField()
    count = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ("hour", "id")
        constraints = [
            models.UniqueConstraint(
                fields=["feature", "environment", "hour"], name="one_count_per_feature_hour"
            )
        ]

    def __str__(self) -> str:
        return f"{self.feature_id}@{self.environment_id} {self.hour:%Y-%m-%d %H}h: {self.count}"
