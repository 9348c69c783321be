from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import F

from vexil.analytics.models import FeatureEvaluationCount

# (environment id, feature id, hour) -> evaluations
Counts = Mapping[tuple[int, int, datetime], int]


def feature_evaluations_record(*, counts: Counts) -> None:
    """Add buffered evaluation counts to their hourly buckets; safe across processes."""
    for (environment_id, feature_id, hour), count in counts.items():
        _add(environment_id, feature_id, hour, count)


def _add(environment_id: int, feature_id: int, hour: datetime, count: int) -> None:
    bucket = FeatureEvaluationCount.objects.filter(
        environment_id=environment_id, feature_id=feature_id, hour=hour
    )
    if bucket.update(count=F("count") + count):
        return
    try:
        with transaction.atomic():
            FeatureEvaluationCount.objects.create(
                environment_id=environment_id, feature_id=feature_id, hour=hour, count=count
            )
    except IntegrityError:
        # Another process created the bucket between our update and our insert.
        bucket.update(count=F("count") + count)
