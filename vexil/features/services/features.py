"""Feature definitions: create, update, delete, owners."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from django.db import transaction

from vexil.audit.models import AuditAction
from vexil.audit.services import Actor, audit_record
from vexil.environments.services import (
    project_environments_revision_bump,
)
from vexil.features.bulk import default_states_create
from vexil.features.models import (
    Feature,
    FeatureType,
    FeatureValue,
    MultivariateFeatureOption,
    value_from_text,
)
from vexil.features.services.common import (
    OptionSpec,
    _checked_value,
    _invalid,
)
from vexil.features.services.options import _option_rows, _options_validate
from vexil.organisations.models import OrganisationMembership
from vexil.projects.models import Project
from vexil.tags.models import Tag
from vexil.users.models import User
from vexil.webhooks import services as webhook_services


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
    webhook_services.feature_defaults_created(feature=feature, actor=actor)
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
    changes = webhook_services.feature_default_changes_begin(feature=feature)
    feature_id = feature.pk
    feature.delete()
    feature.pk = feature_id
    project_environments_revision_bump(project_id=feature.project_id)
    _feature_audit(feature, actor, AuditAction.DELETE, before=before)
    for change in changes:
        webhook_services.flag_deleted(change=change, actor=actor)


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
