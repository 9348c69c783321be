"""Reads about environments for the management pages.

``environments_compare``: every feature of a project as two of its environments serve it by
default, side by side. Four queries, whatever the number of features.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

from django.db.models import Count, QuerySet

from vexil.environments.models import Environment, EnvironmentAPIKey
from vexil.features.models import (
    Feature,
    FeatureSegment,
    FeatureState,
    FeatureValue,
    MultivariateFeatureStateValue,
)


@dataclass(frozen=True, slots=True)
class SideState:
    """One feature's environment default in one environment (None: it has no state there)."""

    enabled: bool
    value: FeatureValue
    # (option value, percentage) per multivariate option, in option order
    allocations: tuple[tuple[FeatureValue, float], ...]
    segment_overrides: int

    def same_as(self, other: SideState) -> bool:
        # type() as well: 1 == True, but an SDK tells them apart
        return (
            self.enabled == other.enabled
            and type(self.value) is type(other.value)
            and self.value == other.value
            and self.allocations == other.allocations
            and self.segment_overrides == other.segment_overrides
        )


@dataclass(frozen=True, slots=True)
class FeatureComparison:
    feature_id: int
    feature_name: str
    left: SideState | None
    right: SideState | None

    @property
    def sides(self) -> tuple[SideState | None, SideState | None]:
        return (self.left, self.right)

    @property
    def differs(self) -> bool:
        if self.left is None or self.right is None:
            return self.left is not self.right
        return not self.left.same_as(self.right)

    @property
    def enabled_differs(self) -> bool:
        return _part(self.left, "enabled") != _part(self.right, "enabled")

    @property
    def value_differs(self) -> bool:
        left, right = _part(self.left, "value"), _part(self.right, "value")
        return type(left) is not type(right) or left != right


def _part(side: SideState | None, name: str) -> object:
    return None if side is None else getattr(side, name)


def environments_compare(left: Environment, right: Environment) -> list[FeatureComparison]:
    """Every feature of the environments' project (archived ones too, by id), with its default
    state in each, and whether they differ. Both environments must share a project."""
    if left.project_id != right.project_id:
        raise ValueError("Only environments of one project can be compared.")
    environment_ids = [left.pk, right.pk]
    features = list(Feature.objects.filter(project_id=left.project_id).order_by("id"))
    states = list(
        FeatureState.objects.filter(
            environment_id__in=environment_ids,
            identity__isnull=True,
            feature_segment__isnull=True,
        )
    )
    allocations: dict[int, list[tuple[FeatureValue, float]]] = defaultdict(list)
    for row in (
        MultivariateFeatureStateValue.objects.filter(
            feature_state__environment_id__in=environment_ids,
            feature_state__identity__isnull=True,
            feature_state__feature_segment__isnull=True,
        )
        .select_related("multivariate_feature_option")
        .order_by("multivariate_feature_option_id")
    ):
        option = row.multivariate_feature_option
        allocations[row.feature_state_id].append((option.value, row.percentage_allocation))
    overrides = Counter(
        {
            (row["feature_id"], row["environment_id"]): row["count"]
            for row in FeatureSegment.objects.filter(environment_id__in=environment_ids)
            .values("feature_id", "environment_id")
            .annotate(count=Count("id"))
        }
    )
    sides = {
        (s.feature_id, s.environment_id): SideState(
            enabled=s.enabled,
            value=s.value,
            allocations=tuple(allocations.get(s.pk, ())),
            segment_overrides=overrides[(s.feature_id, s.environment_id)],
        )
        for s in states
    }
    return [
        FeatureComparison(
            feature_id=feature.pk,
            feature_name=feature.name,
            left=sides.get((feature.pk, left.pk)),
            right=sides.get((feature.pk, right.pk)),
        )
        for feature in features
    ]


def environment_server_keys(environment: Environment) -> QuerySet[EnvironmentAPIKey]:
    """The environment's server-side keys, newest first (their digests only: never a secret)."""
    return EnvironmentAPIKey.objects.filter(environment=environment).order_by("-id")


def environment_server_key(environment: Environment, key_id: int) -> EnvironmentAPIKey | None:
    return environment_server_keys(environment).filter(pk=key_id).first()
