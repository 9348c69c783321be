from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from vexil.audit.models import AuditAction
from vexil.audit.services import Actor, audit_record
from vexil.environments.models import SERVER_KEY_PREFIX, Environment, EnvironmentAPIKey
from vexil.features.bulk import default_states_create, environment_states_copy
from vexil.features.models import Feature
from vexil.projects.models import Project

_CLIENT_KEY = re.compile(r"[A-Za-z0-9_.\-]{1,100}")

RevisionListener = Callable[[list[int]], None]
_revision_listeners: list[RevisionListener] = []


def on_environment_revision(listener: RevisionListener) -> None:
    """Register a callback run, after commit, with the ids of environments whose revision moved.

    The SDK layer's caches subscribe here; this module never imports them.
    """
    _revision_listeners.append(listener)


def off_environment_revision(listener: RevisionListener) -> None:
    """Unregister a listener (an SDK application shutting down)."""
    if listener in _revision_listeners:
        _revision_listeners.remove(listener)


def environment_revision_bump(*, environment_ids: Iterable[int]) -> None:
    """Advance ``revision`` and ``updated_at`` of these environments in the current transaction.

    Call it from every service whose change can alter an evaluation. Listeners hear about it once
    the transaction commits, so no cache is refreshed with data that may still roll back.
    """
    ids = sorted(set(environment_ids))
    if not ids:
        return
    Environment.objects.filter(id__in=ids).update(
        revision=F("revision") + 1, updated_at=timezone.now()
    )
    transaction.on_commit(lambda: _notify(ids))


def project_environments_revision_bump(*, project_id: int) -> None:
    """For project-wide changes (segments, features): every environment of the project moves."""
    environment_revision_bump(
        environment_ids=Environment.objects.filter(project_id=project_id).values_list(
            "id", flat=True
        )
    )


def organisation_environments_revision_bump(*, organisation_id: int) -> None:
    """For organisation settings the environment document carries."""
    environment_revision_bump(
        environment_ids=Environment.objects.filter(
            project__organisation_id=organisation_id
        ).values_list("id", flat=True)
    )


def _notify(ids: list[int]) -> None:
    for listener in _revision_listeners:
        listener(ids)


# --- Environments -----------------------------------------------------------------------------

ENVIRONMENT_SETTINGS = (
    "name",
    "description",
    "allow_client_traits",
    "hide_disabled_flags",
    "hide_sensitive_data",
    "use_identity_composite_key_for_hashing",
    "use_identity_overrides_in_local_eval",
    "banner_text",
    "banner_colour",
)


def _settings_of(environment: Environment) -> dict[str, Any]:
    return {name: getattr(environment, name) for name in ENVIRONMENT_SETTINGS}


@transaction.atomic
def environment_create(
    *, project: Project, name: str, actor: Actor, api_key: str | None = None, **settings: Any
) -> Environment:
    """THE way to create an environment: it gets a state for every feature of its project.

    ``api_key`` keeps a client-side key issued elsewhere (an environment imported from
    Flagsmith, so apps shipped with its key keep working); by default a new one is generated."""
    unknown = set(settings) - set(ENVIRONMENT_SETTINGS)
    if unknown:
        raise TypeError(f"unknown environment settings: {sorted(unknown)}")
    if api_key is not None:
        settings["api_key"] = _client_key_validate(api_key)
    environment = Environment.objects.create(project=project, name=name, **settings)
    features = list(Feature.objects.filter(project=project).order_by("id"))
    default_states_create(features=features, environments=[environment])
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        resource_type="environment",
        resource_id=environment.api_key,
        log=f"Environment {name!r} created",
        organisation_id=project.organisation_id,
        environment=environment,
        after=_settings_of(environment),
    )
    return environment


def _client_key_validate(api_key: str) -> str:
    if not _CLIENT_KEY.fullmatch(api_key) or api_key.startswith(SERVER_KEY_PREFIX):
        raise ValidationError(
            {"api_key": ["A client-side key is 1 to 100 letters, digits, '-', '_' or '.'."]}
        )
    if Environment.objects.filter(api_key=api_key).exists():
        raise ValidationError({"api_key": ["Another environment already has this key."]})
    return api_key


@transaction.atomic
def environment_update(*, environment: Environment, actor: Actor, **changes: Any) -> Environment:
    """Change settings (any of ``ENVIRONMENT_SETTINGS``); the project is never reassigned."""
    unknown = set(changes) - set(ENVIRONMENT_SETTINGS)
    if unknown:
        raise TypeError(f"unknown environment settings: {sorted(unknown)}")
    before = _settings_of(environment)
    for name, value in changes.items():
        setattr(environment, name, value)
    environment.save(update_fields=list(changes))
    environment_revision_bump(environment_ids=[environment.pk])
    environment.refresh_from_db(fields=["revision", "updated_at"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        resource_type="environment",
        resource_id=environment.api_key,
        log=f"Environment {environment.name!r} updated",
        organisation_id=environment.project.organisation_id,
        environment=environment,
        before=before,
        after=_settings_of(environment),
    )
    return environment


@transaction.atomic
def environment_delete(*, environment: Environment, actor: Actor) -> None:
    project = environment.project
    before = _settings_of(environment)
    api_key, name = environment.api_key, environment.name
    environment_ids = [environment.pk]
    environment.delete()
    transaction.on_commit(lambda: _notify(environment_ids))
    # The row goes with the environment, so the audit row hangs on the project.
    audit_record(
        actor=actor,
        action=AuditAction.DELETE,
        resource_type="environment",
        resource_id=api_key,
        log=f"Environment {name!r} deleted",
        organisation_id=project.organisation_id,
        project=project,
        before=before,
    )


@transaction.atomic
def environment_clone(
    *, source: Environment, name: str, actor: Actor, description: str | None = None
) -> Environment:
    """A new environment (new keys) with the source's settings, feature states, multivariate
    allocations and segment overrides. Identities, their overrides and server keys stay behind.
    """
    settings = _settings_of(source)
    settings.update(
        name=name, description=source.description if description is None else description
    )
    environment = Environment.objects.create(project=source.project, **settings)
    environment_states_copy(source=source, target=environment)
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        resource_type="environment",
        resource_id=environment.api_key,
        log=f"Environment {name!r} cloned from {source.name!r}",
        organisation_id=source.project.organisation_id,
        environment=environment,
        after={**_settings_of(environment), "cloned_from": source.api_key},
    )
    return environment


# --- Server-side keys ---------------------------------------------------------------------------


def _key_snapshot(key: EnvironmentAPIKey) -> dict[str, Any]:
    expires = key.expires_at.isoformat() if key.expires_at else None
    return {"name": key.name, "prefix": key.prefix, "expires_at": expires, "active": key.active}


@transaction.atomic
def environment_api_key_create(
    *, environment: Environment, name: str, actor: Actor, expires_at: datetime | None = None
) -> tuple[EnvironmentAPIKey, str]:
    """A new server-side key, returned with its plaintext (never stored, never shown again)."""
    while True:
        plaintext = EnvironmentAPIKey.generate_plaintext()
        prefix = EnvironmentAPIKey.prefix_of(plaintext)
        if not EnvironmentAPIKey.objects.filter(prefix=prefix).exists():
            break
    key = EnvironmentAPIKey.objects.create(
        environment=environment,
        name=name,
        prefix=prefix,
        digest=EnvironmentAPIKey.digest_of(plaintext),
        expires_at=expires_at,
    )
    _key_audit(key, actor, AuditAction.CREATE, after=_key_snapshot(key))
    return key, plaintext


@transaction.atomic
def environment_api_key_update(
    *, key: EnvironmentAPIKey, actor: Actor, **changes: Any
) -> EnvironmentAPIKey:
    """Rename, (de)activate or change the expiry of a key; SDK caches hear of it via revision."""
    unknown = set(changes) - {"name", "expires_at", "active"}
    if unknown:
        raise TypeError(f"unknown key fields: {sorted(unknown)}")
    before = _key_snapshot(key)
    for name, value in changes.items():
        setattr(key, name, value)
    key.save(update_fields=list(changes))
    # An SDK-side key cache keyed on the revision must drop a deactivated key at once.
    environment_revision_bump(environment_ids=[key.environment_id])
    _key_audit(key, actor, AuditAction.UPDATE, before=before, after=_key_snapshot(key))
    return key


@transaction.atomic
def environment_api_key_delete(*, key: EnvironmentAPIKey, actor: Actor) -> None:
    before = _key_snapshot(key)
    key_id = key.pk
    key.delete()
    key.pk = key_id
    environment_revision_bump(environment_ids=[key.environment_id])
    _key_audit(key, actor, AuditAction.DELETE, before=before)


def _key_audit(key: EnvironmentAPIKey, actor: Actor, action: AuditAction, **states: Any) -> None:
    environment = key.environment
    audit_record(
        actor=actor,
        action=action,
        resource_type="environment_api_key",
        resource_id=key.pk,
        log=f"Server-side key {key.name!r} {action.label.lower()}",
        organisation_id=environment.project.organisation_id,
        environment=environment,
        **states,
    )
