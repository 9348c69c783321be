"""The importer's identity writer: a page of identities with their traits and overrides in a
fixed number of statements, updates in place on a re-run, and an identity Vexil refuses skipped
with its reason while the rest of its page lands."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from vexil.audit.services import Actor
from vexil.environments.models import Environment
from vexil.environments.services import environment_update
from vexil.features.models import Feature, FeatureState
from vexil.identities.models import Identity, Trait
from vexil.importer.identities import IdentityWriter, SourceIdentity
from vexil.importer.models import ImportedObject
from vexil.importer.report import Report

pytestmark = pytest.mark.django_db

SOURCE = "http://127.0.0.1:9/api/v1/"
FEATURE_ID = 42  # the Flagsmith id of the `feature` fixture


def _row(
    n: int,
    traits: dict[str, Any] | None = None,
    overrides: list[dict[str, Any]] | None = None,
    *,
    identifier: str | None = None,
) -> SourceIdentity:
    traits = {"orders": n, "plan": "free", "score": n / 4} if traits is None else traits
    return SourceIdentity.read(
        "client-key",
        {"id": 1000 + n, "identifier": identifier or f"user{n}", "environment": 1},
        [{"trait_key": key, "trait_value": value} for key, value in traits.items()],
        overrides or [],
    )


def _override(value: object, *, feature: int = FEATURE_ID) -> dict[str, Any]:
    return {"feature": feature, "enabled": True, "feature_state_value": value}


def _writer(environment: Environment, actor: Actor, feature: Feature) -> IdentityWriter:
    def imported(source_id: object) -> Feature:
        if source_id != FEATURE_ID:
            raise ValidationError({"feature": [f"feature {source_id} was not imported"]})
        return feature

    return IdentityWriter(
        source=SOURCE,
        environment=environment,
        actor=actor,
        report=Report(source=SOURCE, dry_run=False),
        feature=imported,
    )


def _traits(identifier: str) -> dict[str, Any]:
    return {
        t.trait_key: t.trait_value for t in Trait.objects.filter(identity__identifier=identifier)
    }


@pytest.fixture
def hashing_on_ids(environment: Environment, actor: Actor) -> Environment:
    """An environment that hashes identities on their ids, so the writer keeps Flagsmith's."""
    environment_update(
        environment=environment, actor=actor, use_identity_composite_key_for_hashing=False
    )
    return environment


def test_identity_writer__pages_of_any_size__same_number_of_queries(
    hashing_on_ids: Environment, actor: Actor, feature: Feature
) -> None:
    # Given
    writer = _writer(hashing_on_ids, actor, feature)
    # When: pages that fit one batch of each bulk statement (SQLite's take 999 values)
    with CaptureQueriesContext(connection) as small:
        writer.write([_row(n, {"orders": n}) for n in range(5)])
    with CaptureQueriesContext(connection) as large:
        writer.write([_row(n, {"orders": n}) for n in range(5, 105)])
    # Then
    assert len(large.captured_queries) == len(small.captured_queries)
    assert Identity.objects.filter(environment=hashing_on_ids).count() == 105
    assert dict(writer.report.counts["identity"]) == {"created": 105}
    assert Identity.objects.get(identifier="user7").hashing_id == 1007
    assert _traits("user7") == {"orders": 7}


def test_identity_writer__new_identities__traits_typed_and_flagsmith_ids_kept(
    hashing_on_ids: Environment, actor: Actor, feature: Feature
) -> None:
    # When
    _writer(hashing_on_ids, actor, feature).write([_row(n) for n in range(300)])
    # Then
    assert Trait.objects.filter(identity__environment=hashing_on_ids).count() == 900
    assert _traits("user7") == {"orders": 7, "plan": "free", "score": 1.75}
    assert dict(Identity.objects.values_list("identifier", "hashing_id"))["user299"] == 1299


def test_identity_writer__second_run__unchanged_in_two_queries(
    environment: Environment, actor: Actor, feature: Feature
) -> None:
    # Given
    page = [_row(n, overrides=[_override(n)] if n % 10 == 0 else []) for n in range(50)]
    _writer(environment, actor, feature).write(page)
    again = _writer(environment, actor, feature)
    # When
    with CaptureQueriesContext(connection) as queries:
        identifiers = again.write(page)
    # Then
    assert len(queries.captured_queries) == 2  # the page's mappings, and their identities
    assert identifiers == [f"user{n}" for n in range(50)]
    assert dict(again.report.counts["identity"]) == {"unchanged": 50}


def test_identity_writer__source_changed__updated_in_place_stale_trait_deleted(
    environment: Environment, actor: Actor, feature: Feature
) -> None:
    # Given
    _writer(environment, actor, feature).write(
        [_row(1, overrides=[_override(5)]), _row(2), _row(3)]
    )
    first = dict(Identity.objects.values_list("identifier", "pk"))
    writer = _writer(environment, actor, feature)
    # When: user1's plan changes, its score is gone, its override's value changes
    writer.write([_row(1, {"orders": 1, "plan": "pro"}, [_override(9)]), _row(2), _row(3)])
    # Then
    assert dict(writer.report.counts["identity"]) == {"updated": 1, "unchanged": 2}
    assert dict(Identity.objects.values_list("identifier", "pk")) == first
    assert _traits("user1") == {"orders": 1, "plan": "pro"}
    override = FeatureState.objects.get(identity__identifier="user1")
    assert (override.feature_id, override.enabled, override.value) == (feature.pk, True, 9)
    assert ImportedObject.objects.filter(kind="identity").count() == 3


def test_identity_writer__refused_identities__skipped_with_reason_rest_of_page_written(
    environment: Environment, actor: Actor, feature: Feature
) -> None:
    # Given: of eight identities, one with a trait key too long, one with a trait value Vexil
    # cannot store, one overriding a feature that was not imported
    page = [_row(n) for n in range(8)]
    page[2] = _row(2, {"k" * 201: 1})
    page[5] = _row(5, {"nested": {"not": "a trait value"}})
    page[6] = _row(6, overrides=[_override(1, feature=77)])
    writer = _writer(environment, actor, feature)
    # When
    identifiers = writer.write(page)
    # Then
    assert identifiers == ["user0", "user1", "user3", "user4", "user7"]
    assert dict(writer.report.counts["identity"]) == {"created": 5}
    assert [(s["id"], s["name"]) for s in writer.report.skipped] == [
        ("client-key:1002", "user2"),
        ("client-key:1005", "user5"),
        ("client-key:1006", "user6"),
    ]
    assert (
        writer.report.skipped[0]["reason"] == "traits: Trait keys must be 1 to 200 characters long."
    )
    assert writer.report.skipped[1]["reason"].startswith("traits: nested: Trait values must be")
    assert writer.report.skipped[2]["reason"] == "feature: feature 77 was not imported"
    # nothing of the skipped ones is left behind
    assert sorted(Identity.objects.values_list("identifier", flat=True)) == identifiers
    assert not FeatureState.objects.filter(identity__isnull=False).exists()
    assert sorted(ImportedObject.objects.values_list("source_id", flat=True)) == [
        f"client-key:{1000 + n}" for n in (0, 1, 3, 4, 7)
    ]
