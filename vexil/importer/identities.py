"""Identities with their traits and overrides, written a page at a time.

A page of identities read from the source costs a fixed number of statements, whatever its
size: one read of the page's mappings and one of their targets (an identity whose source is
unchanged since the last run is left alone), then, in one transaction, one read of the stored
trait keys, the identities and traits in bulk (``traits_bulk_set``, the same bulk write the
SDK's bulk endpoints use), Flagsmith's ids for hashing in one update, and the mappings in one
upsert. Identity overrides go through the override services, one by one, so each keeps its
audit row and webhook.

An identity Vexil refuses (a blank or too long identifier, a trait it cannot store, too many
traits, an override of a feature that was not imported) rolls its page back; the page is then
written again in halves, down to that one identity, which is skipped with its reason while the
rest land. Nothing of a skipped identity is left behind.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from vexil.audit.services import Actor
from vexil.environments.models import Environment
from vexil.features.models import Feature, FeatureState
from vexil.features.services import feature_state_update, identity_override_create
from vexil.identities.identify import (
    TOO_MANY_TRAITS_MESSAGE,
    TooManyTraitsError,
    TraitInput,
    traits_bulk_set,
)
from vexil.identities.models import (
    IDENTIFIER_MAX_LENGTH,
    TRAIT_KEY_MAX_LENGTH,
    Identity,
    InvalidTraitValueError,
    Trait,
    TraitValue,
    trait_value_type_of,
)
from vexil.importer.hashing import identities_hashing_ids_set
from vexil.importer.models import ImportedObject
from vexil.importer.report import Report
from vexil.importer.values import (
    error_messages,
    fingerprint,
    override_feature_id,
    override_key,
    override_value,
    trait_value,
)

KIND = "identity"
CHUNK = 500  # identifiers per IN (...) list: well under SQLite's and PostgreSQL's limits
REFUSED = (ValidationError, TooManyTraitsError)


@dataclass(frozen=True)
class SourceIdentity:
    """One identity as the source answered it, with its traits and overrides."""

    source_id: str  # "<client key>:<Flagsmith id>", the mapping's key
    flagsmith_id: object
    identifier: str
    traits: dict[str, TraitValue]  # null values left out: the identity holds no such trait
    overrides: list[Mapping[str, Any]]
    digest: str

    @classmethod
    def read(
        cls,
        client_key: str,
        item: Mapping[str, Any],
        traits: Sequence[Mapping[str, Any]],
        overrides: Sequence[Mapping[str, Any]],
    ) -> SourceIdentity:
        pairs = [trait_value(t) for t in traits]
        return cls(
            source_id=f"{client_key}:{item['id']}",
            flagsmith_id=item["id"],
            identifier=item["identifier"],
            traits={key: value for key, value in pairs if value is not None},
            overrides=list(overrides),
            digest=fingerprint(item, pairs, [override_key(o) for o in overrides]),
        )


class IdentityWriter:
    """Writes pages of one environment's identities; counts and skips go to ``report``.

    ``feature`` gives the Vexil feature a Flagsmith feature id was imported as, or raises
    ``ValidationError`` when it was not imported.
    """

    def __init__(
        self,
        *,
        source: str,
        environment: Environment,
        actor: Actor,
        report: Report,
        feature: Callable[[object], Feature],
    ) -> None:
        self.source = source
        self.environment = environment
        self.actor = actor
        self.report = report
        self.feature = feature

    def write(self, page: Sequence[SourceIdentity]) -> list[str]:
        """Import a page; the identifiers of its identities now in Vexil (skipped ones left
        out)."""
        mappings = {
            m.source_id: m
            for chunk in _chunks([row.source_id for row in page])
            for m in ImportedObject.objects.filter(
                source=self.source, kind=KIND, source_id__in=chunk
            )
        }
        alive = set(
            Identity.objects.filter(pk__in=[m.target_id for m in mappings.values()]).values_list(
                "pk", flat=True
            )
        )
        existing = {key for key, m in mappings.items() if m.target_id in alive}
        changed = []
        for row in page:
            if row.source_id in existing and mappings[row.source_id].fingerprint == row.digest:
                self.report.count(KIND, "unchanged")
            else:
                changed.append(row)
        skipped = self._write_or_split(changed, existing)
        return [row.identifier for row in page if row.source_id not in skipped]

    def _write_or_split(self, rows: Sequence[SourceIdentity], existing: set[str]) -> set[str]:
        """Write ``rows``; the source ids of those skipped."""
        if not rows:
            return set()
        try:
            with transaction.atomic():
                self._write(rows)
        except REFUSED as error:
            if len(rows) == 1:
                self.report.skip(KIND, rows[0].source_id, rows[0].identifier, _reason(error))
                return {rows[0].source_id}
            half = len(rows) // 2
            return self._write_or_split(rows[:half], existing) | self._write_or_split(
                rows[half:], existing
            )
        for row in rows:
            self.report.count(KIND, "updated" if row.source_id in existing else "created")
        return set()

    def _write(self, rows: Sequence[SourceIdentity]) -> None:
        for row in rows:
            _validate(row)
        features = {
            feature_id: self.feature(feature_id)
            for row in rows
            for feature_id in {override_feature_id(o) for o in row.overrides}
        }
        environment = self.environment
        identifiers = [row.identifier for row in rows]
        stored = _stored_trait_keys(environment, identifiers)
        traits_bulk_set(
            environment_id=environment.pk,
            traits={
                row.identifier: [
                    *(TraitInput(key, value) for key, value in row.traits.items()),
                    *(
                        TraitInput(key, None)  # no longer in the source: deleted
                        for key in stored.get(row.identifier, set()) - row.traits.keys()
                    ),
                ]
                for row in rows
            },
        )
        ids = _identity_ids(environment, identifiers)
        self._overrides(rows, ids, features)
        if not environment.use_identity_composite_key_for_hashing:
            identities_hashing_ids_set(
                environment_id=environment.pk,
                hashing_ids={ids[row.identifier]: int(str(row.flagsmith_id)) for row in rows},
            )
        ImportedObject.objects.bulk_create(
            [
                ImportedObject(
                    source=self.source,
                    kind=KIND,
                    source_id=row.source_id,
                    target_id=ids[row.identifier],
                    fingerprint=row.digest,
                )
                for row in rows
            ],
            update_conflicts=True,
            unique_fields=["source", "kind", "source_id"],
            update_fields=["target_id", "fingerprint", "updated_at"],
        )

    def _overrides(
        self,
        rows: Sequence[SourceIdentity],
        ids: Mapping[str, int],
        features: Mapping[object, Feature],
    ) -> None:
        """Create the overrides Vexil lacks, update those that differ; others stay (an import
        never deletes)."""
        wanted = [(ids[row.identifier], item) for row in rows for item in row.overrides]
        if not wanted:
            return
        existing = {
            (state.identity_id, state.feature_id): state
            for state in FeatureState.objects.filter(
                identity_id__in={identity_id for identity_id, _ in wanted}
            ).select_related("environment")
        }
        for identity_id, item in wanted:
            feature = features[override_feature_id(item)]
            enabled, value = bool(item["enabled"]), override_value(item)
            state = existing.get((identity_id, feature.pk))
            if state is None:
                identity_override_create(
                    feature=feature,
                    identity_id=identity_id,
                    environment=self.environment,
                    actor=self.actor,
                    enabled=enabled,
                    value=value,
                )
            elif (state.enabled, state.value) != (enabled, value):
                feature_state_update(
                    feature_state=state, actor=self.actor, enabled=enabled, value=value
                )


def _validate(row: SourceIdentity) -> None:
    """Refuse what the bulk writes would store wrongly or fail on, with a message."""
    if not isinstance(row.identifier, str) or not row.identifier.strip():
        raise ValidationError({"identifier": ["Identifiers cannot be blank."]})
    if len(row.identifier) > IDENTIFIER_MAX_LENGTH:
        raise ValidationError(
            {"identifier": [f"Identifiers must be at most {IDENTIFIER_MAX_LENGTH} characters."]}
        )
    for key, value in row.traits.items():
        if not isinstance(key, str) or not key or len(key) > TRAIT_KEY_MAX_LENGTH:
            raise ValidationError(
                {"traits": [f"Trait keys must be 1 to {TRAIT_KEY_MAX_LENGTH} characters long."]}
            )
        try:
            trait_value_type_of(value)
        except InvalidTraitValueError as error:
            raise ValidationError({"traits": [f"{key}: {error}"]}) from None


def _reason(error: Exception) -> str:
    if isinstance(error, TooManyTraitsError):
        return f"traits: {TOO_MANY_TRAITS_MESSAGE}"
    assert isinstance(error, ValidationError)
    return error_messages(error)


def _stored_trait_keys(environment: Environment, identifiers: list[str]) -> dict[str, set[str]]:
    keys: dict[str, set[str]] = {}
    for chunk in _chunks(identifiers):
        for identifier, key in Trait.objects.filter(
            identity__environment=environment, identity__identifier__in=chunk
        ).values_list("identity__identifier", "trait_key"):
            keys.setdefault(identifier, set()).add(key)
    return keys


def _identity_ids(environment: Environment, identifiers: list[str]) -> dict[str, int]:
    ids: dict[str, int] = {}
    for chunk in _chunks(identifiers):
        ids.update(
            Identity.objects.filter(environment=environment, identifier__in=chunk).values_list(
                "identifier", "pk"
            )
        )
    return ids


def _chunks(items: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]
