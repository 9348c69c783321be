from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import Case, F, Value, When

from vexil.analytics.models import FeatureEvaluationCount
from vexil.environments.models import Environment
from vexil.features.models import Feature

MAX_COUNT = 2**63 - 1  # PositiveBigIntegerField
# (environment id, feature id, hour) -> evaluations
Counts = Mapping[tuple[int, int, datetime], int]


@transaction.atomic
def feature_evaluations_record(*, counts: Counts) -> None:
    """Add buffered evaluation counts to their hourly buckets; safe across processes.

    All or nothing: if it fails, nothing was added, so the caller may retry the whole batch
    without counting anything twice. Counts of features or environments deleted since they were
    buffered are dropped, so one deletion cannot make every later flush fail.
    """
    features = set(
        Feature.objects.filter(id__in={f for _, f, _ in counts}).values_list("id", flat=True)
    )
    environments = set(
        Environment.objects.filter(id__in={e for e, _, _ in counts}).values_list("id", flat=True)
    )
    for (environment_id, feature_id, hour), count in counts.items():
        if not 0 < count <= MAX_COUNT:
            raise ValueError(f"An evaluation count must be from 1 to {MAX_COUNT} (got {count})")
        if feature_id in features and environment_id in environments:
            _add(environment_id, feature_id, hour, count)


def _add(environment_id: int, feature_id: int, hour: datetime, count: int) -> None:
    bucket = FeatureEvaluationCount.objects.filter(
        environment_id=environment_id, feature_id=feature_id, hour=hour
    )
    if bucket.update(count=_saturating_sum(count)):
        return
    try:
        with transaction.atomic():
            FeatureEvaluationCount.objects.create(
                environment_id=environment_id, feature_id=feature_id, hour=hour, count=count
            )
    except IntegrityError:
        # Another process created the bucket between our update and our insert.
        bucket.update(count=_saturating_sum(count))


def _saturating_sum(count: int) -> Case:
    """``count`` added to the stored count, stopping at the column's largest value: past it
    PostgreSQL refuses the statement and SQLite turns the number into a float."""
    return Case(
        When(count__gt=MAX_COUNT - count, then=Value(MAX_COUNT)),
        default=F("count") + count,
    )
