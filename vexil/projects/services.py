from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from vexil.audit.models import AuditAction
from vexil.audit.services import Actor, audit_record
from vexil.environments.services import environment_create, project_environments_revision_bump
from vexil.organisations.models import Organisation
from vexil.projects.models import Project


@transaction.atomic
def project_create(
    *,
    organisation: Organisation,
    name: str,
    actor: Actor,
    environment_names: Sequence[str] = (),
    **settings: Any,
) -> Project:
    """Create a project, and an environment per name in ``environment_names``, in one go;
    ``settings`` may set any of ``PROJECT_EDITABLE``."""
    _validate(settings)
    project = Project.objects.create(organisation=organisation, name=name, **settings)
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        resource_type="project",
        resource_id=project.pk,
        log=f"Project {name!r} created",
        organisation_id=organisation.pk,
        project=project,
        after={"name": name},
    )
    for environment_name in environment_names:
        environment_create(project=project, name=environment_name, actor=actor)
    return project


# Fields a project's administrators may change; ``organisation`` is fixed at creation.
PROJECT_EDITABLE = (
    "name",
    "hide_disabled_flags",
    "enable_realtime_updates",
    "feature_name_regex",
    "only_allow_lower_case_feature_names",
    "prevent_flag_defaults",
    "enforce_feature_owners",
    "stale_flags_limit_days",
)


def _project_state(project: Project) -> dict[str, Any]:
    return {name: getattr(project, name) for name in PROJECT_EDITABLE}


def _validate(changes: dict[str, Any]) -> None:
    unknown = sorted(set(changes) - set(PROJECT_EDITABLE))
    if unknown:
        raise ValidationError({name: ["This field cannot be changed."] for name in unknown})
    regex = changes.get("feature_name_regex")
    if regex:
        try:
            re.compile(regex)
        except re.error as error:
            raise ValidationError(
                {"feature_name_regex": [f"Not a valid regular expression: {error}"]}
            ) from None


# Project fields that the SDK environment document carries (vexil.evaluation.document).
DOCUMENT_FIELDS = frozenset({"name", "hide_disabled_flags", "enable_realtime_updates"})


@transaction.atomic
def project_update(*, project: Project, actor: Actor, **changes: Any) -> Project:
    _validate(changes)
    before = _project_state(project)
    fields = [name for name, value in changes.items() if getattr(project, name) != value]
    if not fields:
        return project
    for name in fields:
        setattr(project, name, changes[name])
    project.save(update_fields=fields)
    if DOCUMENT_FIELDS.intersection(fields):
        # The environment document carries these: every environment's document moves.
        project_environments_revision_bump(project_id=project.pk)
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        resource_type="project",
        resource_id=project.pk,
        log=f"Project {project.name!r} updated",
        organisation_id=project.organisation_id,
        project=project,
        before=before,
        after=_project_state(project),
    )
    return project


@transaction.atomic
def project_delete(*, project: Project, actor: Actor) -> None:
    """Delete a project and everything in it. The audit row is the organisation's (the project's
    own rows go with it)."""
    audit_record(
        actor=actor,
        action=AuditAction.DELETE,
        resource_type="project",
        resource_id=project.pk,
        log=f"Project {project.name!r} deleted",
        organisation_id=project.organisation_id,
        before=_project_state(project),
    )
    project.delete()
