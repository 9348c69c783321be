from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from vexil.api_keys.models import MasterAPIKey
from vexil.audit.models import AuditAction
from vexil.audit.services import Actor, audit_record
from vexil.organisations.models import Organisation


def _state(key: MasterAPIKey) -> dict[str, Any]:
    return {
        "prefix": key.prefix,
        "name": key.name,
        "is_admin": key.is_admin,
        "expiry_date": key.expiry_date.isoformat() if key.expiry_date else None,
        "revoked": key.revoked,
    }


def _validate_expiry(expiry_date: datetime | None) -> None:
    if expiry_date is not None and expiry_date <= timezone.now():
        raise ValidationError({"expiry_date": ["The expiry date must be in the future."]})


@transaction.atomic
def master_api_key_create(
    *,
    organisation: Organisation,
    name: str,
    is_admin: bool = True,
    expiry_date: datetime | None = None,
    actor: Actor,
) -> tuple[MasterAPIKey, str]:
    """Create a key; return it with its plaintext, which is never available again."""
    _validate_expiry(expiry_date)
    created, plaintext = MasterAPIKey.objects.create_key(
        organisation=organisation, name=name, is_admin=is_admin, expiry_date=expiry_date
    )
    key = cast(MasterAPIKey, created)
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        resource_type="master_api_key",
        resource_id=key.prefix,
        log=f"Master API key {name!r} created",
        organisation_id=organisation.pk,
        after=_state(key),
    )
    return key, plaintext


@transaction.atomic
def master_api_key_update(*, key: MasterAPIKey, actor: Actor, **changes: Any) -> MasterAPIKey:
    """Rename a key, change its expiry or admin flag, or revoke it (``revoked=True``; final)."""
    allowed = {"name", "expiry_date", "is_admin", "revoked"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationError(f"Cannot change {', '.join(sorted(unknown))}.")
    if key.revoked and changes:
        raise ValidationError({"revoked": ["A revoked key cannot be changed."]})
    if changes.get("revoked") is False and key.revoked:
        raise ValidationError({"revoked": ["A revoked key cannot be restored."]})
    if "expiry_date" in changes:
        _validate_expiry(changes["expiry_date"])
    before = _state(key)
    fields = [name for name, value in changes.items() if getattr(key, name) != value]
    if not fields:
        return key
    for name in fields:
        setattr(key, name, changes[name])
    key.save(update_fields=fields)
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        resource_type="master_api_key",
        resource_id=key.prefix,
        log=f"Master API key {key.name!r} {'revoked' if 'revoked' in fields else 'updated'}",
        organisation_id=key.organisation_id,
        before=before,
        after=_state(key),
    )
    return key


def master_api_key_revoke(*, key: MasterAPIKey, actor: Actor) -> MasterAPIKey:
    """Revoke a key for good. Its row stays, so the audit trail can still name it."""
    if key.revoked:
        return key
    return master_api_key_update(key=key, actor=actor, revoked=True)
