"""Writes for tags. Tags label features for people; they never change an evaluation."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from vexil.audit.models import AuditAction
from vexil.audit.services import Actor, audit_record
from vexil.projects.models import Project
from vexil.tags.models import Tag

TAG_FIELDS = ("label", "color", "description", "is_permanent", "type")


def _snapshot(tag: Tag) -> dict[str, Any]:
    return {name: getattr(tag, name) for name in TAG_FIELDS}


def _audit(tag: Tag, actor: Actor, action: AuditAction, **states: Any) -> None:
    audit_record(
        actor=actor,
        action=action,
        resource_type="tag",
        resource_id=tag.pk,
        log=f"Tag {tag.label!r} {action.label.lower()}",
        organisation_id=tag.project.organisation_id,
        project=tag.project,
        **states,
    )


def _save(tag: Tag, **kwargs: Any) -> None:
    if not tag.label.strip():
        raise ValidationError({"label": ["Tag labels cannot be blank."]})
    try:
        with transaction.atomic():
            tag.save(**kwargs)
    except IntegrityError as error:
        raise ValidationError({"label": ["A tag with this label already exists."]}) from error


@transaction.atomic
def tag_create(*, project: Project, label: str, actor: Actor, **fields: Any) -> Tag:
    """A user tag (``is_system_tag`` stays false: system tags are Vexil's own)."""
    unknown = set(fields) - set(TAG_FIELDS)
    if unknown:
        raise TypeError(f"unknown tag fields: {sorted(unknown)}")
    tag = Tag(project=project, label=label, **fields)
    _save(tag)
    _audit(tag, actor, AuditAction.CREATE, after=_snapshot(tag))
    return tag


@transaction.atomic
def tag_update(*, tag: Tag, actor: Actor, **changes: Any) -> Tag:
    unknown = set(changes) - set(TAG_FIELDS)
    if unknown:
        raise TypeError(f"unknown tag fields: {sorted(unknown)}")
    if tag.is_system_tag:
        raise ValidationError({"non_field_errors": ["System tags cannot be changed."]})
    before = _snapshot(tag)
    for name, value in changes.items():
        setattr(tag, name, value)
    _save(tag, update_fields=list(changes))
    _audit(tag, actor, AuditAction.UPDATE, before=before, after=_snapshot(tag))
    return tag


@transaction.atomic
def tag_delete(*, tag: Tag, actor: Actor) -> None:
    if tag.is_system_tag:
        raise ValidationError({"non_field_errors": ["System tags cannot be deleted."]})
    before = _snapshot(tag)
    tag_id = tag.pk
    tag.delete()
    tag.pk = tag_id
    _audit(tag, actor, AuditAction.DELETE, before=before)
