"""Writes for identities and their traits.

Identity overrides are feature states: see ``identity_override_create`` in
``vexil.features.services``. Deleting an identity deletes its overrides, so it advances the
environment's revision (overrides are part of the environment document). Trait writes do not:
traits are not in the document, and identity evaluations read them on every request.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from vexil.audit.models import AuditAction
from vexil.audit.services import Actor, audit_record
from vexil.environments.models import Environment
from vexil.environments.services import environment_revision_bump
from vexil.identities.identify import (
    TOO_MANY_TRAITS_MESSAGE,
    TooManyTraitsError,
    ensure_room_for_new_trait,
)
from vexil.identities.models import (
    IDENTIFIER_MAX_LENGTH,
    TRAIT_KEY_MAX_LENGTH,
    Identity,
    InvalidTraitValueError,
    Trait,
    TraitValue,
)


def _invalid(field: str, message: str) -> ValidationError:
    return ValidationError({field: [message]})


def _identifier_validate(identifier: str) -> str:
    if not identifier or not identifier.strip():
        raise _invalid("identifier", "Identifiers cannot be blank.")
    if len(identifier) > IDENTIFIER_MAX_LENGTH:
        raise _invalid(
            "identifier", f"Identifiers must be at most {IDENTIFIER_MAX_LENGTH} characters."
        )
    return identifier


def _audit(identity: Identity, actor: Actor, action: AuditAction, log: str, **states: Any) -> None:
    environment = identity.environment
    audit_record(
        actor=actor,
        action=action,
        resource_type="identity",
        resource_id=identity.pk,
        log=log,
        organisation_id=environment.project.organisation_id,
        environment=environment,
        **states,
    )


@transaction.atomic
def identity_create(*, environment: Environment, identifier: str, actor: Actor) -> Identity:
    identity = Identity(environment=environment, identifier=_identifier_validate(identifier))
    try:
        with transaction.atomic():
            identity.save()
    except IntegrityError as error:
        raise _invalid("identifier", "This identity already exists.") from error
    _audit(
        identity,
        actor,
        AuditAction.CREATE,
        f"Identity {identifier!r} created",
        after={"identifier": identifier},
    )
    return identity


@transaction.atomic
def identity_delete(*, identity: Identity, actor: Actor) -> None:
    """Delete an identity with its traits and overrides."""
    had_overrides = identity.identity_features.exists()
    identity_id = identity.pk
    identity.delete()
    identity.pk = identity_id
    if had_overrides:
        environment_revision_bump(environment_ids=[identity.environment_id])
    _audit(
        identity,
        actor,
        AuditAction.DELETE,
        f"Identity {identity.identifier!r} deleted",
        before={"identifier": identity.identifier},
    )


def identities_bulk_create(
    *,
    environment: Environment,
    identities: Mapping[str, Mapping[str, TraitValue]],
    actor: Actor,
) -> list[Identity]:
    """Create many identities with their traits (seeding, imports): three queries in all.

    ``identities`` maps each identifier to its traits (key -> value).
    """
    with transaction.atomic():
        rows = [
            Identity(environment=environment, identifier=_identifier_validate(identifier))
            for identifier in identities
        ]
        Identity.objects.bulk_create(rows)
        traits = []
        for identity in rows:
            for key, value in identities[identity.identifier].items():
                traits.append(_trait_row(identity, key, value))
        Trait.objects.bulk_create(traits)
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            resource_type="identity",
            resource_id=f"{rows[0].pk}..{rows[-1].pk}" if rows else "",
            log=f"{len(rows)} identities created with {len(traits)} traits",
            organisation_id=environment.project.organisation_id,
            environment=environment,
        )
        return rows


# --- Traits -------------------------------------------------------------------------------------


def _trait_row(identity: Identity, key: str, value: TraitValue) -> Trait:
    if not key or len(key) > TRAIT_KEY_MAX_LENGTH:
        raise _invalid(
            "trait_key", f"Trait keys must be 1 to {TRAIT_KEY_MAX_LENGTH} characters long."
        )
    trait = Trait(identity=identity, trait_key=key)
    _trait_value_set(trait, value)
    return trait


def _trait_value_set(trait: Trait, value: TraitValue) -> None:
    try:
        trait.set_value(value)
    except InvalidTraitValueError as error:
        raise _invalid("trait_value", str(error)) from error


def _trait_audit(trait: Trait, actor: Actor, action: AuditAction, **states: Any) -> None:
    _audit(
        trait.identity,
        actor,
        action,
        f"Trait {trait.trait_key!r} of {trait.identity.identifier!r} {action.label.lower()}",
        **states,
    )


@transaction.atomic
def trait_create(*, identity: Identity, trait_key: str, value: TraitValue, actor: Actor) -> Trait:
    trait = _trait_row(identity, trait_key, value)
    try:
        ensure_room_for_new_trait(identity.pk)
    except TooManyTraitsError as error:
        raise _invalid("trait_key", TOO_MANY_TRAITS_MESSAGE) from error
    try:
        with transaction.atomic():
            trait.save()
    except IntegrityError as error:
        raise _invalid("trait_key", "This identity already has this trait.") from error
    _trait_audit(trait, actor, AuditAction.CREATE, after={trait_key: trait.trait_value})
    return trait


@transaction.atomic
def trait_update(*, trait: Trait, value: TraitValue, actor: Actor) -> Trait:
    before = {trait.trait_key: trait.trait_value}
    _trait_value_set(trait, value)
    trait.save(update_fields=list(Trait.VALUE_FIELDS))
    _trait_audit(trait, actor, AuditAction.UPDATE, before=before, after={trait.trait_key: value})
    return trait


@transaction.atomic
def traits_delete(*, traits: Sequence[Trait], actor: Actor) -> None:
    for trait in traits:
        before = {trait.trait_key: trait.trait_value}
        trait_id = trait.pk
        trait.delete()
        trait.pk = trait_id
        _trait_audit(trait, actor, AuditAction.DELETE, before=before)


@transaction.atomic
def environment_traits_delete(*, environment: Environment, trait_key: str, actor: Actor) -> int:
    """Delete the trait ``trait_key`` from every identity of the environment (Flagsmith's
    ``delete-traits``); returns how many traits went. One audit row for the whole sweep, which
    can reach every identity. Traits are not in the environment document: no revision change."""
    if not trait_key or len(trait_key) > TRAIT_KEY_MAX_LENGTH:
        raise _invalid("key", f"Trait keys must be 1 to {TRAIT_KEY_MAX_LENGTH} characters long.")
    deleted, _ = Trait.objects.filter(
        identity__environment=environment, trait_key=trait_key
    ).delete()
    if deleted:
        audit_record(
            actor=actor,
            action=AuditAction.DELETE,
            resource_type="trait",
            resource_id=trait_key,
            log=f"Trait {trait_key!r} deleted from {deleted} identities of {environment.name!r}",
            organisation_id=environment.project.organisation_id,
            environment=environment,
            before={"trait_key": trait_key, "count": deleted},
        )
    return deleted
