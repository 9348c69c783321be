"""``identity_identify``: what the SDK's identify call does to stored identities and traits
(protocol notes §1.7), and nothing when nothing changed.

* ``transient`` identities are never stored; an existing one lends its stored traits and
  overrides, with the incoming traits applied on top.
* Otherwise the identity is got or created. With the organisation's ``persist_trait_data``,
  incoming traits are upserted (``None`` deletes; a per-trait ``transient`` is used for this
  evaluation only); without it, nothing is stored and the union of stored and incoming is evaluated.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import IntegrityError, transaction

from vexil.features.models import FeatureState
from vexil.identities.models import Identity, Trait, TraitValue


@dataclass(frozen=True, slots=True)
class TraitInput:
    key: str
    value: TraitValue | None
    transient: bool = False


@dataclass(frozen=True, slots=True)
class TraitOutput:
    id: int | None
    key: str
    value: TraitValue
    transient: bool


@dataclass(frozen=True, slots=True)
class IdentityOverride:
    """An identity override as the engine needs it (see vexil.evaluation.context)."""

    state_id: int
    feature_id: int
    feature_name: str
    enabled: bool
    value: object


@dataclass
class IdentifyOutcome:
    identity_id: int | None
    traits: list[TraitOutput] = field(default_factory=list)
    overrides: list[IdentityOverride] = field(default_factory=list)

    @property
    def trait_values(self) -> dict[str, TraitValue]:
        return {trait.key: trait.value for trait in self.traits}


def identity_identify(
    *,
    environment_id: int,
    identifier: str,
    traits: list[TraitInput],
    transient: bool,
    persist_traits: bool,
    use_stored: bool = True,
) -> IdentifyOutcome:
    """Resolve an identity for evaluation, storing what the rules above say to store."""
    if transient:
        return _transient(environment_id, identifier, traits, use_stored)
    identity, created = _get_or_create(environment_id, identifier)
    stored = {} if created else {t.trait_key: t for t in identity.identity_traits.all()}
    if persist_traits:
        stored = _apply(identity, stored, traits)
        outputs = [_output(t) for t in stored.values()]
        outputs = _overlay(outputs, [t for t in traits if t.transient and t.value is not None])
    else:
        outputs = _overlay([_output(t) for t in stored.values()], traits)
    overrides = [] if created else identity_overrides(identity.id)
    return IdentifyOutcome(identity.id, outputs, overrides)


def _transient(
    environment_id: int, identifier: str, traits: list[TraitInput], use_stored: bool
) -> IdentifyOutcome:
    identity = None
    if use_stored:
        identity = (
            Identity.objects.filter(environment_id=environment_id, identifier=identifier)
            .prefetch_related("identity_traits")
            .first()
        )
    stored = [_output(t) for t in identity.identity_traits.all()] if identity else []
    incoming = [TraitInput(t.key, t.value, transient=True) for t in traits]
    overrides = identity_overrides(identity.id) if identity else []
    return IdentifyOutcome(None, _overlay(stored, incoming), overrides)


def _get_or_create(environment_id: int, identifier: str) -> tuple[Identity, bool]:
    found = (
        Identity.objects.filter(environment_id=environment_id, identifier=identifier)
        .prefetch_related("identity_traits")
        .first()
    )
    if found is not None:
        return found, False
    try:
        with transaction.atomic():
            return Identity.objects.create(
                environment_id=environment_id, identifier=identifier
            ), True
    except IntegrityError:
        # Another request created it between our read and our insert.
        return Identity.objects.get(environment_id=environment_id, identifier=identifier), False


def _apply(
    identity: Identity, stored: dict[str, Trait], traits: list[TraitInput]
) -> dict[str, Trait]:
    """Upsert and delete stored traits; write only what differs."""
    to_delete: list[int] = []
    to_create: list[Trait] = []
    to_update: list[Trait] = []
    result = dict(stored)
    for incoming in traits:
        if incoming.transient:
            continue
        existing = result.get(incoming.key)
        if incoming.value is None:
            if existing is not None:
                to_delete.append(existing.id)
                del result[incoming.key]
            continue
        if existing is None:
            trait = Trait(identity=identity, trait_key=incoming.key)
            trait.set_value(incoming.value)
            to_create.append(trait)
            result[incoming.key] = trait
        elif not _same(existing.trait_value, incoming.value):
            existing.set_value(incoming.value)
            to_update.append(existing)
    if to_delete or to_create or to_update:
        with transaction.atomic():
            if to_delete:
                Trait.objects.filter(id__in=to_delete).delete()
            if to_update:
                Trait.objects.bulk_update(to_update, Trait.VALUE_FIELDS)
            if to_create:
                Trait.objects.bulk_create(to_create)
    return result


def _same(stored: TraitValue | None, incoming: TraitValue) -> bool:
    """Equal in value and in type (``1`` and ``True`` and ``"1"`` are different traits)."""
    return type(stored) is type(incoming) and stored == incoming


def _output(trait: Trait) -> TraitOutput:
    value = trait.trait_value
    assert value is not None
    return TraitOutput(trait.id, trait.trait_key, value, transient=False)


def _overlay(base: list[TraitOutput], incoming: list[TraitInput]) -> list[TraitOutput]:
    """Incoming traits win on a key clash; a None value removes the key."""
    merged = {trait.key: trait for trait in base}
    for trait in incoming:
        if trait.value is None:
            merged.pop(trait.key, None)
        else:
            merged[trait.key] = TraitOutput(None, trait.key, trait.value, trait.transient)
    return list(merged.values())


def identity_overrides(identity_id: int) -> list[IdentityOverride]:
    """An identity's overrides, as evaluation needs them (one query)."""
    rows = FeatureState.objects.filter(identity_id=identity_id).select_related("feature")
    return [
        IdentityOverride(row.id, row.feature_id, row.feature.name, row.enabled, row.value)
        for row in rows
    ]


class TraitNotIntegerError(Exception):
    """The trait to increment holds a value that is not an integer."""


def trait_increment(environment_id: int, identifier: str, key: str, by: int) -> int:
    """Add ``by`` to an integer trait (created as 0 first); return the new value."""
    with transaction.atomic():
        identity, _ = _get_or_create(environment_id, identifier)
        trait = Trait.objects.select_for_update().filter(identity=identity, trait_key=key).first()
        if trait is None:
            trait = Trait(identity=identity, trait_key=key)
            trait.set_value(0)
        if not isinstance(trait.trait_value, int) or isinstance(trait.trait_value, bool):
            raise TraitNotIntegerError
        trait.set_value(trait.trait_value + by)
        trait.save()
        value = trait.trait_value
    assert isinstance(value, int)
    return value
