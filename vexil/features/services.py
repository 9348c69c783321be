"""Writes for features, multivariate options, feature states and segment overrides.

Every function here is the only writer of its rows. Each validates, writes, advances the
revision of every environment whose evaluation can change, and records an audit row, all in
one transaction. Validation failures raise Django's ``ValidationError`` keyed by field.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Case, Value, When

from vexil.audit.models import AuditAction
from vexil.audit.services import Actor, audit_record
from vexil.environments.models import Environment
from vexil.environments.services import (
    environment_revision_bump,
    project_environments_revision_bump,
)
from vexil.features.bulk import allocations_copy, default_states_create
from vexil.features.models import (
    Feature,
    FeatureSegment,
    FeatureState,
    FeatureType,
    FeatureValue,
    InvalidValueError,
    MultivariateFeatureOption,
    MultivariateFeatureStateValue,
    value_from_text,
    value_type_of,
)
from vexil.identities.models import Identity
from vexil.organisations.models import OrganisationMembership
from vexil.projects.models import Project
from vexil.segments.models import Segment
from vexil.tags.models import Tag
from vexil.users.models import User


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = _Unset()
"""Marks an argument not given (``None`` is a valid feature value)."""

ALLOCATION_TOLERANCE = 1e-9
_PRIORITY_PARKING = 1_000_000


@dataclass(frozen=True)
class OptionSpec:
    """A multivariate option to create: its value, default allocation and optional key."""

    value: FeatureValue
    default_percentage_allocation: float = 100
    key: str | None = None


@dataclass(frozen=True)
class Allocation:
    option: MultivariateFeatureOption
    percentage_allocation: float


def _invalid(field: str, message: str) -> ValidationError:
    return ValidationError({field: [message]})


def _checked_value(value: FeatureValue, field: str) -> FeatureValue:
    try:
        value_type_of(value)
    except InvalidValueError as error:
        raise _invalid(field, str(error)) from error
    return value


# --- Features -------------------------------------------------------------------------------------


def _feature_name_validate(project: Project, name: str, exclude_id: int | None = None) -> str:
    name = name.strip()
    if not name:
        raise _invalid("name", "Feature names cannot be blank.")
    if project.only_allow_lower_case_feature_names and name != name.lower():
        raise _invalid("name", "This project only allows lower-case feature names.")
    if project.feature_name_regex:
        try:
            matches = re.fullmatch(project.feature_name_regex, name) is not None
        except re.error:
            matches = False
        if not matches:
            raise _invalid("name", f"Feature name must match {project.feature_name_regex!r}.")
    duplicates = Feature.objects.filter(project=project, name__iexact=name)
    if exclude_id is not None:
        duplicates = duplicates.exclude(id=exclude_id)
    if duplicates.exists():
        raise _invalid("name", "A feature with this name already exists in this project.")
    return name


def _project_tags(project: Project, tags: Sequence[Tag]) -> list[Tag]:
    if any(tag.project_id != project.pk for tag in tags):
        raise _invalid("tags", "Tags must belong to the feature's project.")
    return list(tags)


def _feature_snapshot(feature: Feature) -> dict[str, Any]:
    return {
        "name": feature.name,
        "type": feature.type,
        "initial_value": feature.initial_value,
        "default_enabled": feature.default_enabled,
        "description": feature.description,
        "is_archived": feature.is_archived,
        "is_server_key_only": feature.is_server_key_only,
    }


def _feature_audit(feature: Feature, actor: Actor, action: AuditAction, **states: Any) -> None:
    audit_record(
        actor=actor,
        action=action,
        resource_type="feature",
        resource_id=feature.pk,
        log=f"Feature {feature.name!r} {action.label.lower()}",
        organisation_id=feature.project.organisation_id,
        project=feature.project,
        **states,
    )


@transaction.atomic
def feature_create(
    *,
    project: Project,
    name: str,
    actor: Actor,
    initial_value: FeatureValue = None,
    default_enabled: bool = False,
    description: str = "",
    is_archived: bool = False,
    is_server_key_only: bool = False,
    tags: Sequence[Tag] = (),
    owners: Sequence[User] = (),
    multivariate_options: Sequence[OptionSpec] = (),
) -> Feature:
    """Create a feature and its state in every environment of the project (Flagsmith's rule)."""
    name = _feature_name_validate(project, name)
    if isinstance(initial_value, str):
        initial_value = value_from_text(initial_value)
    _checked_value(initial_value, "initial_value")
    _options_validate(multivariate_options)
    feature = Feature.objects.create(
        project=project,
        name=name,
        type=FeatureType.MULTIVARIATE if multivariate_options else FeatureType.STANDARD,
        initial_value=initial_value,
        default_enabled=default_enabled,
        description=description,
        is_archived=is_archived,
        is_server_key_only=is_server_key_only,
    )
    feature.tags.set(_project_tags(project, tags))
    if owners:
        feature.owners.set(owners)
    MultivariateFeatureOption.objects.bulk_create(_option_rows(feature, multivariate_options))
    default_states_create(features=[feature], environments=list(project.environments.all()))
    project_environments_revision_bump(project_id=project.pk)
    _feature_audit(feature, actor, AuditAction.CREATE, after=_feature_snapshot(feature))
    return feature


def features_bulk_create(
    *, project: Project, specs: Sequence[dict[str, Any]], actor: Actor
) -> list[Feature]:
    """Many features at once (seeding, imports): a fixed number of queries for any count.

    Each spec holds ``name`` and optionally ``initial_value``, ``default_enabled``,
    ``description`` and ``multivariate_options`` (a list of :class:`OptionSpec`).
    """
    with transaction.atomic():
        names = [_feature_name_validate(project, spec["name"]) for spec in specs]
        if len({name.lower() for name in names}) != len(names):
            raise _invalid("name", "Feature names must be unique.")
        features = Feature.objects.bulk_create(
            Feature(
                project=project,
                name=name,
                type=FeatureType.MULTIVARIATE
                if spec.get("multivariate_options")
                else FeatureType.STANDARD,
                initial_value=_checked_value(spec.get("initial_value"), "initial_value"),
                default_enabled=spec.get("default_enabled", False),
                description=spec.get("description", ""),
            )
            for name, spec in zip(names, specs, strict=True)
        )
        options = []
        for feature, spec in zip(features, specs, strict=True):
            _options_validate(spec.get("multivariate_options", ()))
            options += _option_rows(feature, spec.get("multivariate_options", ()))
        MultivariateFeatureOption.objects.bulk_create(options)
        default_states_create(features=features, environments=list(project.environments.all()))
        project_environments_revision_bump(project_id=project.pk)
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            resource_type="feature",
            resource_id=f"{features[0].pk}..{features[-1].pk}" if features else "",
            log=f"{len(features)} features created",
            organisation_id=project.organisation_id,
            project=project,
            after={"names": names},
        )
        return features


_FEATURE_FIELDS = frozenset(
    {"name", "description", "initial_value", "default_enabled", "is_archived", "is_server_key_only"}
)


@transaction.atomic
def feature_update(
    *,
    feature: Feature,
    actor: Actor,
    tags: Sequence[Tag] | None = None,
    owners: Sequence[User] | None = None,
    **changes: Any,
) -> Feature:
    """Change a feature's own fields; existing states keep their values (as in Flagsmith)."""
    unknown = set(changes) - _FEATURE_FIELDS
    if unknown:
        raise TypeError(f"unknown feature fields: {sorted(unknown)}")
    before = _feature_snapshot(feature)
    if "name" in changes:
        changes["name"] = _feature_name_validate(feature.project, changes["name"], feature.pk)
    if isinstance(changes.get("initial_value"), str):
        changes["initial_value"] = value_from_text(changes["initial_value"])
    if "initial_value" in changes:
        _checked_value(changes["initial_value"], "initial_value")
    for name, value in changes.items():
        setattr(feature, name, value)
    if changes:
        feature.save(update_fields=list(changes))
    if tags is not None:
        feature.tags.set(_project_tags(feature.project, tags))
    if owners is not None:
        feature.owners.set(owners)
    # Name, archiving and server-key-only all show in what the SDKs receive.
    project_environments_revision_bump(project_id=feature.project_id)
    _feature_audit(
        feature, actor, AuditAction.UPDATE, before=before, after=_feature_snapshot(feature)
    )
    return feature


@transaction.atomic
def feature_delete(*, feature: Feature, actor: Actor) -> None:
    """Delete a feature with all its states, options and overrides, in every environment."""
    before = _feature_snapshot(feature)
    feature_id = feature.pk
    feature.delete()
    feature.pk = feature_id
    project_environments_revision_bump(project_id=feature.project_id)
    _feature_audit(feature, actor, AuditAction.DELETE, before=before)


# --- Multivariate options ---------------------------------------------------------------------


def _options_validate(specs: Sequence[OptionSpec]) -> None:
    for spec in specs:
        _checked_value(spec.value, "multivariate_options")
        _allocation_validate(spec.default_percentage_allocation, "multivariate_options")
    total = sum(spec.default_percentage_allocation for spec in specs)
    if total > 100 + ALLOCATION_TOLERANCE:
        raise _invalid("multivariate_options", "Allocations must total 100% or less.")


def _allocation_validate(percentage: float, field: str) -> None:
    if not 0 <= percentage <= 100:
        raise _invalid(field, "Percentage allocations must be between 0 and 100.")


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


# --- Feature states -------------------------------------------------------------------------------


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
) -> FeatureState:
    """Change what a state serves: enabled, value, multivariate allocations."""
    before = _state_snapshot(feature_state)
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
    return state


@transaction.atomic
def identity_override_create(
    *,
    feature: Feature,
    identity_id: int,
    environment: Environment,
    actor: Actor,
    enabled: bool = False,
    value: FeatureValue = None,
) -> FeatureState:
    """An identity's own state of a feature: it beats segment overrides and the default."""
    if feature.project_id != environment.project_id:
        raise _invalid("feature", "The feature must belong to the identity's project.")
    state = _override_state_create(
        feature=feature,
        environment=environment,
        identity_id=identity_id,
        enabled=enabled,
        value=value,
    )
    environment_revision_bump(environment_ids=[environment.pk])
    _state_audit(state, actor, AuditAction.CREATE, after=_state_snapshot(state))
    return state


@transaction.atomic
def override_state_delete(*, feature_state: FeatureState, actor: Actor) -> None:
    """Delete an identity override or a segment override's state (never an env default)."""
    if feature_state.is_environment_default:
        raise _invalid("non_field_errors", "Environment defaults cannot be deleted.")
    before = _state_snapshot(feature_state)
    state_id = feature_state.pk
    if feature_state.feature_segment_id is not None:
        feature_segment_delete(feature_segment=feature_state.feature_segment, actor=actor)  # type: ignore[arg-type]
    else:
        feature_state.delete()
    feature_state.pk = state_id
    environment_revision_bump(environment_ids=[feature_state.environment_id])
    _state_audit(feature_state, actor, AuditAction.DELETE, before=before)


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
    fs_id = fs.pk
    fs.delete()
    fs.pk = fs_id
    _priorities_write(_ordered_ids(fs.feature_id, fs.environment_id))
    environment_revision_bump(environment_ids=[fs.environment_id])
    _feature_segment_audit(fs, actor, AuditAction.DELETE, before=before)


# --- Owners -------------------------------------------------------------------------------------


def _owner_ids(feature: Feature) -> list[int]:
    return sorted(feature.owners.values_list("id", flat=True))


def _owners_audit(feature: Feature, actor: Actor, before: list[int]) -> None:
    _feature_audit(
        feature,
        actor,
        AuditAction.UPDATE,
        before={"owners": before},
        after={"owners": _owner_ids(feature)},
    )


@transaction.atomic
def feature_owners_add(*, feature: Feature, user_ids: Sequence[int], actor: Actor) -> Feature:
    """Make members of the feature's organisation its owners (owners do not affect evaluation,
    so no revision changes). Anyone else, another tenant's user included, is a 400."""
    wanted = set(user_ids)
    members = set(
        OrganisationMembership.objects.filter(
            organisation_id=feature.project.organisation_id, user_id__in=wanted
        ).values_list("user_id", flat=True)
    )
    if wanted - members:
        missing = ", ".join(str(i) for i in sorted(wanted - members))
        raise _invalid("user_ids", f"Not members of the organisation: {missing}.")
    before = _owner_ids(feature)
    feature.owners.add(*members)
    _owners_audit(feature, actor, before)
    return feature


@transaction.atomic
def feature_owners_remove(*, feature: Feature, user_ids: Sequence[int], actor: Actor) -> Feature:
    """Remove owners; ids of users who are not owners are ignored (the result is the same)."""
    before = _owner_ids(feature)
    feature.owners.remove(*(set(user_ids) & set(before)))
    _owners_audit(feature, actor, before)
    return feature


# --- Identity overrides, copied -------------------------------------------------------------------


@transaction.atomic
def identity_overrides_clone(
    *, source_id: int, target: Identity, actor: Actor
) -> list[FeatureState]:
    """Replace ``target``'s identity overrides with copies of ``source``'s (Flagsmith's
    ``clone-from-given-identity``). Both identities must be in the same environment."""
    environment = target.environment
    source = Identity.objects.filter(environment=environment, pk=source_id).first()
    if source is None:
        raise _invalid("source_identity_id", f'Invalid pk "{source_id}" - object does not exist.')
    if source.pk == target.pk:
        raise _invalid("source_identity_id", "An identity cannot be cloned from itself.")
    before = _identity_overrides_snapshot(target)
    FeatureState.objects.filter(identity=target).delete()
    copies = []
    for state in FeatureState.objects.filter(identity=source).order_by("id"):
        copy = FeatureState(
            feature_id=state.feature_id,
            environment=environment,
            identity=target,
            enabled=state.enabled,
        )
        copy.set_value(state.value)
        copies.append(copy)
    FeatureState.objects.bulk_create(copies)
    environment_revision_bump(environment_ids=[environment.pk])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        resource_type="identity",
        resource_id=target.pk,
        log=f"Identity overrides of {target.identifier!r} copied from {source.identifier!r}",
        organisation_id=environment.project.organisation_id,
        environment=environment,
        before=before,
        after=_identity_overrides_snapshot(target),
    )
    return list(FeatureState.objects.filter(identity=target).order_by("id"))


def _identity_overrides_snapshot(identity: Identity) -> dict[str, Any]:
    return {
        "overrides": {
            str(state.feature_id): state.snapshot()
            for state in FeatureState.objects.filter(identity=identity).order_by("id")
        }
    }
