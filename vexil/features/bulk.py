"""Bulk writers for feature states, shared by the feature and environment services.

These are building blocks, not services: they write rows and nothing else (no audit, no revision
bump), and they run inside the calling service's transaction. They live here, below both
``vexil.features.services`` and ``vexil.environments.services``, so neither imports the other.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db.models import Prefetch

from vexil.environments.models import Environment
from vexil.features.models import (
    Feature,
    FeatureSegment,
    FeatureState,
    MultivariateFeatureOption,
    MultivariateFeatureStateValue,
    value_from_text,
)


def _initial(feature: Feature) -> object:
    # Values typed in by hand arrive as strings; Flagsmith auto-types them (see value_from_text).
    value = feature.initial_value
    return value_from_text(value) if isinstance(value, str) else value


def default_states_create(
    *, features: Sequence[Feature], environments: Sequence[Environment]
) -> list[FeatureState]:
    """Create the environment-default state of every feature in every environment.

    Each starts with the feature's ``default_enabled`` and ``initial_value`` and, for a
    multivariate feature, one allocation per option at its ``default_percentage_allocation``.
    Three queries whatever the sizes: options, states, allocations. ``features`` must have been
    fetched (or created) in this transaction.
    """
    if not features or not environments:
        return []
    options_by_feature: dict[int, list[MultivariateFeatureOption]] = {}
    for option in MultivariateFeatureOption.objects.filter(feature__in=features):
        options_by_feature.setdefault(option.feature_id, []).append(option)
    states = []
    for environment in environments:
        for feature in features:
            state = FeatureState(
                feature=feature, environment=environment, enabled=feature.default_enabled
            )
            state.set_value(_initial(feature))  # type: ignore[arg-type]
            states.append(state)
    FeatureState.objects.bulk_create(states)
    MultivariateFeatureStateValue.objects.bulk_create(
        MultivariateFeatureStateValue(
            feature_state=state,
            multivariate_feature_option=option,
            percentage_allocation=option.default_percentage_allocation,
        )
        for state in states
        for option in options_by_feature.get(state.feature_id, [])
    )
    return states


def _copy_state(state: FeatureState, **changes: object) -> FeatureState:
    copy = FeatureState(
        feature_id=state.feature_id,
        environment_id=state.environment_id,
        feature_segment_id=state.feature_segment_id,
        enabled=state.enabled,
        **{field: getattr(state, field) for field in FeatureState.VALUE_FIELDS},
    )
    for name, value in changes.items():
        setattr(copy, name, value)
    return copy


def allocations_copy(*, pairs: Iterable[tuple[FeatureState, FeatureState]]) -> None:
    """Give each new state (right) the allocations of its source state (left), prefetched."""
    MultivariateFeatureStateValue.objects.bulk_create(
        MultivariateFeatureStateValue(
            feature_state=target,
            multivariate_feature_option_id=value.multivariate_feature_option_id,
            percentage_allocation=value.percentage_allocation,
        )
        for source, target in pairs
        for value in source.multivariate_feature_state_values.all()
    )


def environment_states_copy(*, source: Environment, target: Environment) -> None:
    """Copy environment defaults, segment overrides and their allocations (not identities).

    A fixed number of queries: read states, segment overrides and allocations; write each kind.
    """
    with_allocations = Prefetch(
        "multivariate_feature_state_values",
        queryset=MultivariateFeatureStateValue.objects.order_by("id"),
    )
    states = list(
        FeatureState.objects.filter(environment=source, identity__isnull=True)
        .select_related("feature_segment")
        .prefetch_related(with_allocations)
        .order_by("id")
    )
    old_segments = [s.feature_segment for s in states if s.feature_segment is not None]
    new_segments = FeatureSegment.objects.bulk_create(
        FeatureSegment(
            feature_id=fs.feature_id,
            segment_id=fs.segment_id,
            environment=target,
            priority=fs.priority,
        )
        for fs in old_segments
    )
    segment_map = {old.pk: new for old, new in zip(old_segments, new_segments, strict=True)}
    copies = [
        _copy_state(
            state,
            environment_id=target.pk,
            feature_segment=segment_map.get(state.feature_segment_id),  # type: ignore[arg-type]
        )
        for state in states
    ]
    FeatureState.objects.bulk_create(copies)
    allocations_copy(pairs=zip(states, copies, strict=True))
