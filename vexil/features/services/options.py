"""Multivariate options of a feature and their default allocations."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import transaction

from vexil.audit.models import AuditAction
from vexil.audit.services import Actor, audit_record
from vexil.environments.services import (
    project_environments_revision_bump,
)
from vexil.features.models import (
    Feature,
    FeatureState,
    FeatureType,
    FeatureValue,
    MultivariateFeatureOption,
    MultivariateFeatureStateValue,
)
from vexil.features.services.common import (
    ALLOCATION_TOLERANCE,
    UNSET,
    OptionSpec,
    _allocation_validate,
    _checked_value,
    _invalid,
    _Unset,
)


def _options_validate(specs: Sequence[OptionSpec]) -> None:
    for spec in specs:
        _checked_value(spec.value, "multivariate_options")
        _allocation_validate(spec.default_percentage_allocation, "multivariate_options")
    total = sum(spec.default_percentage_allocation for spec in specs)
    if total > 100 + ALLOCATION_TOLERANCE:
        raise _invalid("multivariate_options", "Allocations must total 100% or less.")


def _option_rows(feature: Feature, specs: Sequence[OptionSpec]) -> list[MultivariateFeatureOption]:
    rows = []
    for spec in specs:
        option = MultivariateFeatureOption(
            feature=feature,
            default_percentage_allocation=spec.default_percentage_allocation,
            key=spec.key,
        )
        option.set_value(spec.value)
        rows.append(option)
    return rows


def _option_snapshot(option: MultivariateFeatureOption) -> dict[str, Any]:
    return {
        "value": option.value,
        "key": option.key,
        "default_percentage_allocation": option.default_percentage_allocation,
    }


def _option_audit(
    option: MultivariateFeatureOption, actor: Actor, action: AuditAction, **states: Any
) -> None:
    feature = option.feature
    audit_record(
        actor=actor,
        action=action,
        resource_type="multivariate_feature_option",
        resource_id=option.pk,
        log=f"Multivariate option {option.value!r} of {feature.name!r} {action.label.lower()}",
        organisation_id=feature.project.organisation_id,
        project=feature.project,
        **states,
    )


@transaction.atomic
def mv_option_create(
    *, feature: Feature, spec: OptionSpec, actor: Actor
) -> MultivariateFeatureOption:
    """Add an option, with an allocation of its default percentage in every non-identity state.

    Refused when that would take any state's allocations over 100%. A standard feature becomes
    multivariate, as in Flagsmith.
    """
    _options_validate([spec])
    states = list(
        FeatureState.objects.select_for_update()
        .filter(feature=feature, identity__isnull=True)
        .prefetch_related("multivariate_feature_state_values")
    )
    for state in states:
        taken = sum(v.percentage_allocation for v in state.multivariate_feature_state_values.all())
        if taken + spec.default_percentage_allocation > 100 + ALLOCATION_TOLERANCE:
            raise _invalid(
                "default_percentage_allocation",
                f"The allocations of feature state {state.pk} would total more than 100%.",
            )
    option = _option_rows(feature, [spec])[0]
    option.save()
    MultivariateFeatureStateValue.objects.bulk_create(
        MultivariateFeatureStateValue(
            feature_state=state,
            multivariate_feature_option=option,
            percentage_allocation=spec.default_percentage_allocation,
        )
        for state in states
    )
    if feature.type != FeatureType.MULTIVARIATE:
        feature.type = FeatureType.MULTIVARIATE
        feature.save(update_fields=["type"])
    project_environments_revision_bump(project_id=feature.project_id)
    _option_audit(option, actor, AuditAction.CREATE, after=_option_snapshot(option))
    return option


@transaction.atomic
def mv_option_update(
    *,
    option: MultivariateFeatureOption,
    actor: Actor,
    value: FeatureValue | _Unset = UNSET,
    key: str | _Unset | None = UNSET,
    default_percentage_allocation: float | None = None,
) -> MultivariateFeatureOption:
    """Change an option's value, key or default allocation (for states created from now on)."""
    before = _option_snapshot(option)
    fields = []
    if not isinstance(value, _Unset):
        option.set_value(_checked_value(value, "value"))
        fields += list(MultivariateFeatureOption.VALUE_FIELDS)
    if not isinstance(key, _Unset):
        option.key = key
        fields.append("key")
    if default_percentage_allocation is not None:
        _allocation_validate(default_percentage_allocation, "default_percentage_allocation")
        option.default_percentage_allocation = default_percentage_allocation
        fields.append("default_percentage_allocation")
    if fields:
        option.save(update_fields=fields)
    project_environments_revision_bump(project_id=option.feature.project_id)
    _option_audit(option, actor, AuditAction.UPDATE, before=before, after=_option_snapshot(option))
    return option


@transaction.atomic
def mv_option_delete(*, option: MultivariateFeatureOption, actor: Actor) -> None:
    """Delete an option and its allocations in every state."""
    before = _option_snapshot(option)
    option_id = option.pk
    option.delete()
    option.pk = option_id
    project_environments_revision_bump(project_id=option.feature.project_id)
    _option_audit(option, actor, AuditAction.DELETE, before=before)
