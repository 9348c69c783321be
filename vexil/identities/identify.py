"""``identity_identify``: what the SDK's identify call does to stored identities and traits
(protocol notes §1.7), and nothing when nothing changed.

* ``transient`` identities are never stored; an existing one lends its stored traits and
  overrides, with the incoming traits applied on top.
* Otherwise the identity is got or created. With the organisation's ``persist_trait_data``,
  incoming traits are upserted (``None`` deletes; a per-trait ``transient`` is used for this
  evaluation only); without it, nothing is stored and the union of stored and incoming is evaluated.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction

from vexil.identities.models import MAX_TRAITS_PER_IDENTITY, Identity, Trait, TraitValue
from vexil.identities.selectors import (
    IdentityEvaluationState,
    StoredOverride,
    StoredTrait,
    identity_evaluation_state,
)


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
    # The stored identity's id kept from Flagsmith (Identity.hashing_id), if it has one.
    hashing_id: int | None = None

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
    """Resolve an identity for evaluation, storing what the rules above say to store.

    An existing identity whose incoming traits change nothing costs one SELECT (identity,
    traits and overrides together, ``identity_evaluation_state``) and no write."""
    state = (
        identity_evaluation_state(environment_id, identifier)
        if reads_stored(transient=transient, use_stored=use_stored)
        else None
    )
    outcome = identify_without_writes(
        state, traits, transient=transient, persist_traits=persist_traits
    )
    if outcome is not None:
        return outcome
    if state is None:
        identity_id, created = _create(environment_id, identifier)
        if not created:  # another request created it between our read and our insert
            state = identity_evaluation_state(environment_id, identifier)
            assert state is not None
    if state is not None:
        identity_id = state.identity_id
    stored = [] if state is None else state.traits
    if persist_traits:
        outputs = _apply(identity_id, stored, traits)  # writes only what differs
        outputs = _overlay(outputs, [t for t in traits if t.transient and t.value is not None])
    else:
        outputs = _overlay([_stored_output(t) for t in stored], traits)
    overrides = [] if state is None else [override_of(o) for o in state.overrides]
    hashing_id = None if state is None else state.hashing_id
    return IdentifyOutcome(identity_id, outputs, overrides, hashing_id)


def reads_stored(*, transient: bool, use_stored: bool) -> bool:
    """Whether an identify call reads the stored identity: always, except for a transient
    identity told not to use what is stored (``GET ?transient``)."""
    return use_stored or not transient


def identify_without_writes(
    state: IdentityEvaluationState | None,
    traits: list[TraitInput],
    *,
    transient: bool,
    persist_traits: bool,
) -> IdentifyOutcome | None:
    """The outcome of an identify call from what is stored (``state``, None if the identity
    does not exist or is not to be read), or None when the call must write: the identity is new,
    or persisted traits change. The SDK endpoints call this with a state read on the event loop
    and go to a worker thread (``identity_identify``) only when it answers None."""
    stored = [] if state is None else [_stored_output(t) for t in state.traits]
    overrides = [] if state is None else [override_of(o) for o in state.overrides]
    if transient:
        incoming = [TraitInput(t.key, t.value, transient=True) for t in traits]
        return IdentifyOutcome(None, _overlay(stored, incoming), overrides)
    if state is None:
        return None
    if not persist_traits:
        return IdentifyOutcome(
            state.identity_id, _overlay(stored, traits), overrides, state.hashing_id
        )
    if not _unchanged(state.traits, traits):
        return None
    kept = [t for t in traits if t.transient and t.value is not None]
    return IdentifyOutcome(state.identity_id, _overlay(stored, kept), overrides, state.hashing_id)


def _create(environment_id: int, identifier: str) -> tuple[int, bool]:
    """Create the identity; (id, False) if another request created it first."""
    try:
        with transaction.atomic():
            return Identity.objects.create(
                environment_id=environment_id, identifier=identifier
            ).id, True
    except IntegrityError:
        return Identity.objects.get(environment_id=environment_id, identifier=identifier).id, False


def _get_or_create(environment_id: int, identifier: str) -> tuple[Identity, bool]:
    found = Identity.objects.filter(environment_id=environment_id, identifier=identifier).first()
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


def _unchanged(stored: list[StoredTrait], traits: list[TraitInput]) -> bool:
    """True when ``_apply`` would write nothing: every incoming stored trait is already there
    with the same value and type, and every deletion names a trait that is not stored."""
    by_key = {t.key: t for t in stored}
    for incoming in traits:
        if incoming.transient:
            continue
        existing = by_key.get(incoming.key)
        if incoming.value is None:
            if existing is not None:
                return False
        elif existing is None or not _same(existing.value, incoming.value):
            return False
    return True


class TooManyTraitsError(Exception):
    """An identity would hold more than MAX_TRAITS_PER_IDENTITY stored traits."""

    def __init__(self, identifier: str | None = None) -> None:
        super().__init__(identifier)
        self.identifier = identifier


TOO_MANY_TRAITS_MESSAGE = (
    f"An identity may hold at most {MAX_TRAITS_PER_IDENTITY} traits; this request would pass it."
)


def ensure_room_for_new_trait(identity_id: int) -> None:
    """Raise :class:`TooManyTraitsError` if the identity already holds the most traits allowed.

    The one check for every path that adds a single trait (the SDK's ``traits/increment-value/``,
    the management API, the dashboard); bulk paths check the whole batch in ``_plan``.
    """
    if Trait.objects.filter(identity_id=identity_id).count() >= MAX_TRAITS_PER_IDENTITY:
        raise TooManyTraitsError


@dataclass
class _TraitWrites:
    delete: list[int] = field(default_factory=list)
    create: dict[tuple[int, str], Trait] = field(default_factory=dict)
    update: dict[int, Trait] = field(default_factory=dict)

    def save(self, go_on: Callable[[], None] = lambda: None) -> None:
        """Write in batches of 500 rows, calling ``go_on`` (which may raise) before each."""
        if self.delete or self.create or self.update:
            with transaction.atomic():
                for ids in _chunks(self.delete):
                    go_on()
                    Trait.objects.filter(id__in=ids).delete()
                for updated in _chunks(list(self.update.values())):
                    go_on()
                    Trait.objects.bulk_update(updated, Trait.VALUE_FIELDS)
                for created in _chunks(list(self.create.values())):
                    go_on()
                    Trait.objects.bulk_create(created)


def _apply(
    identity_id: int, stored_traits: list[StoredTrait], traits: list[TraitInput]
) -> list[TraitOutput]:
    """Upsert and delete stored traits; write only what differs."""
    stored = {t.key: _stored_model(identity_id, t) for t in stored_traits}
    writes = _TraitWrites()
    result = _plan(identity_id, stored, traits, writes)
    writes.save()
    return [_output(t) for t in result.values()]


def _plan(
    identity_id: int, stored: dict[str, Trait], traits: list[TraitInput], writes: _TraitWrites
) -> dict[str, Trait]:
    """Add to ``writes`` what makes ``stored`` (by key) hold ``traits``; the traits after."""
    result = dict(stored)
    for incoming in traits:
        if incoming.transient:
            continue
        existing = result.get(incoming.key)
        if incoming.value is None:
            if existing is not None:
                if existing.id is not None:
                    writes.delete.append(existing.id)
                    writes.update.pop(existing.id, None)
                else:
                    del writes.create[(identity_id, incoming.key)]
                del result[incoming.key]
            continue
        if existing is None:
            trait = Trait(identity_id=identity_id, trait_key=incoming.key)
            trait.set_value(incoming.value)
            writes.create[(identity_id, incoming.key)] = trait
            result[incoming.key] = trait
        elif not _same(existing.trait_value, incoming.value):
            existing.set_value(incoming.value)
            if existing.id is not None:
                writes.update[existing.id] = existing
    if len(result) > MAX_TRAITS_PER_IDENTITY and len(result) > len(stored):
        raise TooManyTraitsError
    return result


class WriteCancelledError(Exception):
    """The caller withdrew a write before it committed (its client went away): nothing of it
    was written."""


def _never() -> bool:
    return False


def traits_bulk_set(
    *,
    environment_id: int,
    traits: Mapping[str, list[TraitInput]],
    cancelled: Callable[[], bool] = _never,
) -> None:
    """Store traits of many identities (by identifier; created when missing) at once: a few
    statements per 500 identities, in one transaction, whatever the number of traits. Within
    an identity's list the last value of a key wins; ``None`` deletes. Raises
    :class:`TooManyTraitsError` (nothing written) if an identity would pass the cap, and
    :class:`WriteCancelledError` (nothing written) if ``cancelled()`` turns true before the
    commit: it is asked before every statement."""

    def go_on() -> None:
        if cancelled():
            raise WriteCancelledError

    with transaction.atomic():
        ids = _identity_ids(environment_id, list(traits), go_on)
        stored: dict[int, dict[str, Trait]] = {identity_id: {} for identity_id in ids.values()}
        for chunk in _chunks(list(ids.values())):
            go_on()
            for trait in Trait.objects.filter(identity_id__in=chunk):
                stored[trait.identity_id][trait.trait_key] = trait
        writes = _TraitWrites()
        for identifier, incoming in traits.items():
            identity_id = ids[identifier]
            try:
                _plan(identity_id, stored[identity_id], incoming, writes)
            except TooManyTraitsError:
                raise TooManyTraitsError(identifier) from None
        writes.save(go_on)


def _identity_ids(
    environment_id: int, identifiers: list[str], go_on: Callable[[], None]
) -> dict[str, int]:
    """The ids of the environment's identities by identifier, creating the missing ones."""
    found: dict[str, int] = {}
    in_environment = Identity.objects.filter(environment_id=environment_id)
    for chunk in _chunks(identifiers):
        go_on()
        found.update(in_environment.filter(identifier__in=chunk).values_list("identifier", "id"))
    missing = [identifier for identifier in identifiers if identifier not in found]
    for chunk in _chunks(missing):
        go_on()
        Identity.objects.bulk_create(
            [Identity(environment_id=environment_id, identifier=i) for i in chunk],
            ignore_conflicts=True,  # another request may create some of them meanwhile
        )
    for chunk in _chunks(missing):
        go_on()
        found.update(in_environment.filter(identifier__in=chunk).values_list("identifier", "id"))
    return found


def _chunks(items: list[Any], size: int = 500) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _stored_model(identity_id: int, stored: StoredTrait) -> Trait:
    trait = Trait(id=stored.id, identity_id=identity_id, trait_key=stored.key)
    trait.set_value(stored.value)
    return trait


def _stored_output(trait: StoredTrait) -> TraitOutput:
    return TraitOutput(trait.id, trait.key, trait.value, transient=False)


def override_of(stored: StoredOverride) -> IdentityOverride:
    """The evaluation form of a stored identity override."""
    return IdentityOverride(
        stored.state_id, stored.feature_id, stored.feature_name, stored.enabled, stored.value
    )


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


class TraitNotIntegerError(Exception):
    """The trait to increment holds a value that is not an integer."""


def trait_increment(environment_id: int, identifier: str, key: str, by: int) -> int:
    """Add ``by`` to an integer trait (created as 0 first); return the new value."""
    with transaction.atomic():
        identity, _ = _get_or_create(environment_id, identifier)
        trait = Trait.objects.select_for_update().filter(identity=identity, trait_key=key).first()
        if trait is None:
            ensure_room_for_new_trait(identity.pk)
            trait = Trait(identity=identity, trait_key=key)
            trait.set_value(0)
        if not isinstance(trait.trait_value, int) or isinstance(trait.trait_value, bool):
            raise TraitNotIntegerError
        trait.set_value(trait.trait_value + by)
        trait.save()
        value = trait.trait_value
    assert isinstance(value, int)
    return value
