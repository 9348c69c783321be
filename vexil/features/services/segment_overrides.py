"""Segment overrides (feature segments): their slots, priorities and states."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Case, Value, When

from vexil.audit.models import AuditAction
from vexil.audit.services import Actor, audit_record
from vexil.environments.models import Environment
from vexil.environments.services import (
    environment_revision_bump,
)
from vexil.features.models import (
    Feature,
    FeatureSegment,
    FeatureState,
    FeatureValue,
)
from vexil.features.services.common import (
    Allocation,
    _invalid,
)
from vexil.features.services.states import _override_state_create, _state_audit, _state_snapshot
from vexil.segments.models import Segment
from vexil.webhooks import services as webhook_services

_PRIORITY_PARKING = 1_000_000


@transaction.atomic
def segment_override_state_create(
    *,
    feature_segment: FeatureSegment,
    actor: Actor,
    enabled: bool = False,
    value: FeatureValue = None,
    allocations: Sequence[Allocation] = (),
) -> FeatureState:
    """The state a segment override serves (one per :class:`FeatureSegment`)."""
    state = _override_state_create(
        feature=feature_segment.feature,
        environment=feature_segment.environment,
        feature_segment=feature_segment,
        enabled=enabled,
        value=value,
        allocations=allocations,
    )
    environment_revision_bump(environment_ids=[state.environment_id])
    _state_audit(state, actor, AuditAction.CREATE, after=_state_snapshot(state))
    change = webhook_services.flag_change_begin(environment=state.environment, state=None)
    webhook_services.flag_updated(change=change, state=state, actor=actor)
    return state


# --- Segment overrides (feature segments) ---------------------------------------------------------


def _feature_segment_audit(
    fs: FeatureSegment, actor: Actor, action: AuditAction, **states: Any
) -> None:
    environment = fs.environment
    audit_record(
        actor=actor,
        action=action,
        resource_type="feature_segment",
        resource_id=fs.pk,
        log=f"Segment override of {fs.feature.name!r} for {fs.segment.name!r} "
        f"in {environment.name!r} {action.label.lower()}",
        organisation_id=environment.project.organisation_id,
        environment=environment,
        **states,
    )


def _priorities_write(ordered_ids: Sequence[int]) -> None:
    """Number the given overrides 0..n-1 in order, without tripping the unique constraint."""
    if not ordered_ids:
        return
    queryset = FeatureSegment.objects.filter(id__in=ordered_ids)
    for offset in (_PRIORITY_PARKING, 0):
        queryset.update(
            priority=Case(
                *(When(id=pk, then=Value(offset + index)) for index, pk in enumerate(ordered_ids))
            )
        )


def _ordered_ids(feature_id: int, environment_id: int) -> list[int]:
    return list(
        FeatureSegment.objects.select_for_update()
        .filter(feature_id=feature_id, environment_id=environment_id)
        .order_by("priority", "id")
        .values_list("id", flat=True)
    )


@transaction.atomic
def feature_segment_create(
    *,
    feature: Feature,
    segment: Segment,
    environment: Environment,
    actor: Actor,
    priority: int | None = None,
) -> FeatureSegment:
    """Add a segment override slot at ``priority`` (0 = strongest; default: weakest).

    Overrides at or after that priority move one step weaker. Its state is created by
    :func:`segment_override_state_create` (Flagsmith's two-step flow) or by
    :func:`segment_override_create` in one go.
    """
    if not (feature.project_id == segment.project_id == environment.project_id):
        raise _invalid("segment", "Feature, segment and environment must share a project.")
    if segment.feature_id is not None and segment.feature_id != feature.pk:
        raise _invalid("segment", "This segment is specific to another feature.")
    if priority is not None and priority < 0:
        raise _invalid("priority", "Priorities start at 0.")
    order = _ordered_ids(feature.pk, environment.pk)
    try:
        with transaction.atomic():
            fs = FeatureSegment.objects.create(
                feature=feature,
                segment=segment,
                environment=environment,
                priority=_PRIORITY_PARKING * 3 + len(order),
            )
    except IntegrityError as error:
        raise _invalid("segment", "This segment already overrides this feature here.") from error
    position = len(order) if priority is None else min(priority, len(order))
    order.insert(position, fs.pk)
    _priorities_write(order)
    fs.refresh_from_db(fields=["priority"])
    environment_revision_bump(environment_ids=[environment.pk])
    _feature_segment_audit(fs, actor, AuditAction.CREATE, after={"priority": fs.priority})
    return fs


@transaction.atomic
def segment_override_create(
    *,
    feature: Feature,
    segment: Segment,
    environment: Environment,
    actor: Actor,
    enabled: bool = False,
    value: FeatureValue = None,
    priority: int | None = None,
    allocations: Sequence[Allocation] = (),
) -> FeatureState:
    """The shortcut: a segment override slot and its state together."""
    fs = feature_segment_create(
        feature=feature, segment=segment, environment=environment, actor=actor, priority=priority
    )
    return segment_override_state_create(
        feature_segment=fs, actor=actor, enabled=enabled, value=value, allocations=allocations
    )


@transaction.atomic
def feature_segment_priorities_update(
    *, priorities: Sequence[tuple[FeatureSegment, int]], actor: Actor
) -> list[FeatureSegment]:
    """Reorder overrides: each given one moves to its priority, the others keep their order.

    Priorities are then renumbered 0..n-1 per feature and environment, atomically.
    """
    groups: dict[tuple[int, int], dict[int, int]] = {}
    for fs, priority in priorities:
        if priority < 0:
            raise _invalid("priority", "Priorities start at 0.")
        group = groups.setdefault((fs.feature_id, fs.environment_id), {})
        if fs.pk in group:
            raise _invalid("id", "Each segment override may appear once.")
        group[fs.pk] = priority
    for (feature_id, environment_id), wanted in groups.items():
        current = _ordered_ids(feature_id, environment_id)
        rank = {pk: index for index, pk in enumerate(current)}
        order = sorted(current, key=lambda pk: (wanted.get(pk, rank[pk]), pk not in wanted))
        _priorities_write(order)
    environment_revision_bump(environment_ids=[env for _, env in groups])
    updated = list(
        FeatureSegment.objects.filter(id__in=[fs.pk for fs, _ in priorities]).select_related(
            "feature", "segment", "environment__project"
        )
    )
    for fs in updated:
        _feature_segment_audit(fs, actor, AuditAction.UPDATE, after={"priority": fs.priority})
    return updated


@transaction.atomic
def feature_segment_delete(*, feature_segment: FeatureSegment, actor: Actor) -> None:
    """Remove a segment override (slot and state); the weaker ones move up one step."""
    fs = feature_segment
    before = {"priority": fs.priority, "segment": fs.segment_id}
    state = FeatureState.objects.filter(feature_segment=fs).select_related("environment").first()
    change = (
        webhook_services.flag_change_begin(environment=state.environment, state=state)
        if state is not None
        else None
    )
    fs_id = fs.pk
    fs.delete()
    fs.pk = fs_id
    _priorities_write(_ordered_ids(fs.feature_id, fs.environment_id))
    environment_revision_bump(environment_ids=[fs.environment_id])
    _feature_segment_audit(fs, actor, AuditAction.DELETE, before=before)
    if change is not None:
        webhook_services.flag_deleted(change=change, actor=actor)
