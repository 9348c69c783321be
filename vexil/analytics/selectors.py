from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from django.db.models import Sum
from django.db.models.functions import TruncDate

from vexil.analytics.models import FeatureEvaluationCount


def feature_evaluation_data(
    *, feature_id: int, environment_id: int, days: int, today: date | None = None
) -> list[dict[str, object]]:
    """Evaluations per day (UTC) over the last ``days`` days, oldest first, zeros included."""
    today = today or datetime.now(UTC).date()
    first = today - timedelta(days=days - 1)
    rows = (
        FeatureEvaluationCount.objects.filter(
            feature_id=feature_id,
            environment_id=environment_id,
            hour__gte=datetime.combine(first, time.min, tzinfo=UTC),
        )
        .annotate(day=TruncDate("hour", tzinfo=UTC))
        .values("day")
        .annotate(total=Sum("count"))
    )
    totals = {row["day"]: row["total"] for row in rows}
    return [
        {
            "day": (first + timedelta(days=n)).isoformat(),
            "count": totals.get(first + timedelta(days=n), 0),
        }
        for n in range(days)
    ]
