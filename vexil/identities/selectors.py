"""Reads of identities for the SDK hot path.

``identity_evaluation_state`` is the read behind every identify call: the identity, its stored
traits and its overrides in one statement (one round trip), written once as SQL from the
models' table and column names. Building the same reads with the ORM cost about 1.4 ms per
request here, nearly all of it compiling the three querysets (docs/performance.md,
"SDK endpoints").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.db import connection
from django.db.models import Q, QuerySet

from vexil.environments.models import Environment
from vexil.features.models import Feature, FeatureState, FeatureValue, ValueType
from vexil.identities.models import Identity, Trait, TraitValue, TraitValueType
from vexil.projects.models import Project


@dataclass(frozen=True, slots=True)
class StoredTrait:
    id: int
    key: str
    value: TraitValue


@dataclass(frozen=True, slots=True)
class StoredOverride:
    state_id: int
    feature_id: int
    feature_name: str
    enabled: bool
    value: FeatureValue


@dataclass(frozen=True, slots=True)
class IdentityEvaluationState:
    identity_id: int
    traits: list[StoredTrait]  # by id
    overrides: list[StoredOverride]  # by state id
    hashing_id: int | None = None  # Identity.hashing_id (kept from Flagsmith), if any


def identity_evaluation_state(
    environment_id: int, identifier: str
) -> IdentityEvaluationState | None:
    """The stored identity ``identifier`` of the environment with its traits and overrides, or
    None if there is none."""
    with connection.cursor() as cursor:
        cursor.execute(identity_state_sql(), identity_state_parameters(environment_id, identifier))
        rows = cursor.fetchall()
    return identity_state_from_rows(rows)


def identity_state_parameters(environment_id: int, identifier: str) -> list[int | str]:
    return [environment_id, identifier, environment_id, identifier]


def identity_state_from_rows(rows: Sequence[Sequence[Any]]) -> IdentityEvaluationState | None:
    """The state from the rows of ``identity_state_sql`` (for readers with their own
    connection: vexil.sdk.reads)."""
    if not rows:
        return None
    identity_id = rows[0][1]
    hashing_id = None
    traits: list[StoredTrait] = []
    overrides: list[StoredOverride] = []
    for row in rows:
        kind, _, row_id, name, value_type, text, integer, real, boolean, feature_id, on = row[:11]
        if kind == 0:
            hashing_id = row[11]
        if row_id is None:  # the identity's row when it has no traits
            continue
        if kind == 0:
            traits.append(
                StoredTrait(row_id, name, _trait_value(value_type, text, integer, real, boolean))
            )
        else:
            overrides.append(
                StoredOverride(
                    row_id,
                    feature_id,
                    name,
                    bool(on),
                    _state_value(value_type, text, integer, boolean),
                )
            )
    return IdentityEvaluationState(identity_id, traits, overrides, hashing_id)


def _trait_value(
    value_type: str, text: str | None, integer: int | None, real: float | None, boolean: object
) -> TraitValue:
    """As ``Trait.trait_value`` reads it (SQLite returns booleans as 0/1)."""
    if value_type == TraitValueType.INTEGER:
        value: object = integer
    elif value_type == TraitValueType.FLOAT:
        value = real
    elif value_type == TraitValueType.BOOLEAN:
        value = None if boolean is None else bool(boolean)
    else:
        value = text
    return value  # type: ignore[return-value]


def _state_value(
    value_type: str, text: str | None, integer: int | None, boolean: object
) -> FeatureValue:
    """As ``FeatureState.value`` reads it."""
    if value_type == ValueType.INTEGER:
        return integer
    if value_type == ValueType.BOOLEAN:
        return None if boolean is None else bool(boolean)
    return text


@cache
def identity_state_sql() -> str:
    """The statement behind ``identity_evaluation_state``, ``%s`` placeholders (format style)."""
    identity, trait, state, feature = (
        _Table(Identity),
        _Table(Trait),
        _Table(FeatureState),
        _Table(Feature),
    )
    # Only the models' table and column names are interpolated, quoted.
    return (
        # kind 0: the identity LEFT JOIN its traits (one row with NULL trait columns if none)
        f"SELECT 0, i.{identity.id}, t.{trait.id}, t.{trait['trait_key']}, "  # noqa: S608
        f"t.{trait['value_type']}, t.{trait['string_value']}, t.{trait['integer_value']}, "
        f"t.{trait['float_value']}, t.{trait['boolean_value']}, NULL, NULL, "
        f"i.{identity['hashing_id']} "
        f"FROM {identity} i LEFT JOIN {trait} t ON t.{trait['identity']} = i.{identity.id} "
        f"WHERE i.{identity['environment']} = %s AND i.{identity['identifier']} = %s "
        "UNION ALL "
        # kind 1: the identity's overrides, with their feature's name
        f"SELECT 1, i.{identity.id}, s.{state.id}, f.{feature['name']}, s.{state['type']}, "
        f"s.{state['string_value']}, s.{state['integer_value']}, NULL, "
        f"s.{state['boolean_value']}, s.{state['feature']}, s.{state['enabled']}, NULL "
        f"FROM {state} s JOIN {identity} i ON s.{state['identity']} = i.{identity.id} "
        f"JOIN {feature} f ON f.{feature.id} = s.{state['feature']} "
        f"WHERE i.{identity['environment']} = %s AND i.{identity['identifier']} = %s "
        "ORDER BY 1, 3"
    )


class _Table:
    """Quoted table and column names of a model, for hand-written SQL."""

    def __init__(self, model: type) -> None:
        self._meta = model._meta  # type: ignore[attr-defined]
        self._quote = connection.ops.quote_name

    def __str__(self) -> str:
        return str(self._quote(self._meta.db_table))

    def __getitem__(self, field: str) -> str:
        return str(self._quote(self._meta.get_field(field).column))

    @property
    def id(self) -> str:
        return str(self._quote(self._meta.pk.column))


def environment_trait_keys(environment: Environment) -> list[str]:
    """The distinct trait keys of the environment's identities, sorted: one query."""
    return list(
        Trait.objects.filter(identity__environment=environment)
        .order_by("trait_key")
        .values_list("trait_key", flat=True)
        .distinct()
    )


# --- Management reads (the dashboard's Identities pages) ---------------------------------------


def identities_search(environment: Environment, query: str = "") -> QuerySet[Identity]:
    """The environment's identities, newest first: ``ali`` finds identifiers containing "ali",
    ``"alice"`` (quoted) only "alice" itself (the management API's ``?q=`` rule)."""
    identities = Identity.objects.filter(environment=environment)
    if query:
        identities = identities.filter(identifier_search(query))
    return identities.order_by("-id")


def identifier_search(query: str) -> Q:
    """``"alice"`` (quoted): exactly alice; anything else: identifiers containing it."""
    if len(query) >= 2 and query.startswith('"') and query.endswith('"'):
        return Q(identifier=query[1:-1])
    return Q(identifier__icontains=query)


def identity_of_environment(environment: Environment, identity_id: int) -> Identity | None:
    return Identity.objects.filter(environment=environment, pk=identity_id).first()


def identity_traits(identity: Identity) -> QuerySet[Trait]:
    return Trait.objects.filter(identity=identity).order_by("trait_key")


def identity_overrides(identity: Identity) -> QuerySet[FeatureState]:
    """The identity's own feature states, with their features, by feature name."""
    return (
        FeatureState.objects.filter(identity=identity)
        .select_related("feature")
        .order_by("feature__name")
    )


def overridable_features(project: Project) -> QuerySet[Feature]:
    """The features an identity of the project can override, by name."""
    return Feature.objects.filter(project=project, is_archived=False).order_by("name")
