"""Per-environment feature states: enabled, value, multivariate allocations."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction

from vexil.audit.models import AuditAction
from vexil.audit.services import Actor, audit_record
from vexil.environments.models import Environment
from vexil.environments.services import (
    environment_revision_bump,
)
from vexil.features.bulk import allocations_copy
from vexil.features.models import (
    Feature,
    FeatureSegment,
    FeatureState,
    FeatureValue,
    MultivariateFeatureStateValue,
)
from vexil.features.services.common import (
    ALLOCATION_TOLERANCE,
    UNSET,
    Allocation,
    _allocation_validate,
    _checked_value,
    _invalid,
    _Unset,
)
from vexil.webhooks import services as webhook_services


class StaleFeatureStateError(Exception):
    """Someone else changed the state after the caller read it; nothing was saved."""

    def __init__(self, current: FeatureState) -> None:
        super().__init__(f"Feature state {current.pk} changed since it was read.")
        self.current = current


def _state_kind(state: FeatureState) -> str:
    if state.identity_id is not None:
        return "identity override"
    if state.feature_segment_id is not None:
        return "segment override"
    return "feature state"


def _state_audit(state: FeatureState, actor: Actor, action: AuditAction, **states: Any) -> None:
    environment = state.environment
    audit_record(
        actor=actor,
        action=action,
        resource_type="feature_state",
        resource_id=state.pk,
        log=f"{_state_kind(state).capitalize()} of {state.feature.name!r} "
        f"in {environment.name!r} {action.label.lower()}",
        organisation_id=environment.project.organisation_id,
        environment=environment,
        **states,
    )


def _allocations_set(state: FeatureState, allocations: Sequence[Allocation]) -> None:
    """Upsert the given allocations; the others keep theirs; the total stays <= 100."""
    given: dict[int, float] = {}
    for allocation in allocations:
        if allocation.option.feature_id != state.feature_id:
            raise _invalid(
                "multivariate_feature_state_values",
                "Multivariate options must belong to the state's feature.",
            )
        if allocation.option.pk in given:
            raise _invalid("multivariate_feature_state_values", "Each option may appear once.")
        _allocation_validate(allocation.percentage_allocation, "multivariate_feature_state_values")
        given[allocation.option.pk] = allocation.percentage_allocation
    existing = {
        value.multivariate_feature_option_id: value
        for value in MultivariateFeatureStateValue.objects.filter(feature_state=state)
    }
    total = sum(v.percentage_allocation for k, v in existing.items() if k not in given)
    if total + sum(given.values()) > 100 + ALLOCATION_TOLERANCE:
        raise _invalid("multivariate_feature_state_values", "Allocations must total 100% or less.")
    changed = []
    for option_id, percentage in given.items():
        if option_id in existing:
            existing[option_id].percentage_allocation = percentage
            changed.append(existing[option_id])
    MultivariateFeatureStateValue.objects.bulk_update(changed, ["percentage_allocation"])
    MultivariateFeatureStateValue.objects.bulk_create(
        MultivariateFeatureStateValue(
            feature_state=state, multivariate_feature_option_id=option_id, percentage_allocation=p
        )
        for option_id, p in given.items()
        if option_id not in existing
    )


def _state_snapshot(state: FeatureState) -> dict[str, Any]:
    snapshot = state.snapshot()
    snapshot["multivariate_feature_state_values"] = {
        str(option_id): percentage
        for option_id, percentage in MultivariateFeatureStateValue.objects.filter(
            feature_state=state
        ).values_list("multivariate_feature_option_id", "percentage_allocation")
    }
    return snapshot


@transaction.atomic
def feature_state_update(
    *,
    feature_state: FeatureState,
    actor: Actor,
    enabled: bool | None = None,
    value: FeatureValue | _Unset = UNSET,
    allocations: Sequence[Allocation] | None = None,
    seen_updated_at: datetime | None = None,
) -> FeatureState:
    """Change what a state serves: enabled, value, multivariate allocations.

    With ``seen_updated_at`` (the ``updated_at`` the caller read), a state changed since then is
    not saved: :class:`StaleFeatureStateError` carries the state as it is now.
    """
    if seen_updated_at is not None:
        current = FeatureState.objects.select_for_update().get(pk=feature_state.pk)
        if current.updated_at != seen_updated_at:
            raise StaleFeatureStateError(current)
    before = _state_snapshot(feature_state)
    change = webhook_services.flag_change_begin(
        environment=feature_state.environment, state=feature_state
    )
    fields = ["updated_at"]
    if enabled is not None:
        feature_state.enabled = enabled
        fields.append("enabled")
    if not isinstance(value, _Unset):
        feature_state.set_value(_checked_value(value, "feature_state_value"))
        fields += list(FeatureState.VALUE_FIELDS)
    feature_state.save(update_fields=fields)
    if allocations:
        _allocations_set(feature_state, allocations)
    environment_revision_bump(environment_ids=[feature_state.environment_id])
    _state_audit(
        feature_state,
        actor,
        AuditAction.UPDATE,
        before=before,
        after=_state_snapshot(feature_state),
    )
    webhook_services.flag_updated(change=change, state=feature_state, actor=actor)
    return feature_state


def _override_state_create(
    *,
    feature: Feature,
    environment: Environment,
    enabled: bool,
    value: FeatureValue,
    feature_segment: FeatureSegment | None = None,
    identity_id: int | None = None,
    allocations: Sequence[Allocation] = (),
) -> FeatureState:
    state = FeatureState(
        feature=feature,
        environment=environment,
        feature_segment=feature_segment,
        identity_id=identity_id,
        enabled=enabled,
    )
    state.set_value(_checked_value(value, "feature_state_value"))
    try:
        with transaction.atomic():
            state.save()
    except IntegrityError as error:
        raise _invalid("feature", "This override already exists.") from error
    if feature_segment is not None:
        # A segment override splits between the same variants as the environment default.
        default = (
            FeatureState.objects.filter(
                feature=feature,
                environment=environment,
                identity__isnull=True,
                feature_segment__isnull=True,
            )
            .prefetch_related("multivariate_feature_state_values")
            .first()
        )
        if default is not None:
            allocations_copy(pairs=[(default, state)])
        if allocations:
            _allocations_set(state, allocations)
    return state
