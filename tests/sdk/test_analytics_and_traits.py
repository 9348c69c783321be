"""``/api/v1/analytics/flags/`` and the legacy ``/api/v1/traits/...`` endpoints (§1.8, §1.10)."""

from __future__ import annotations

from tests.sdk.conftest import SDKClient
from vexil.analytics.models import FeatureEvaluationCount
from vexil.analytics.services import MAX_COUNT
from vexil.audit.services import Actor
from vexil.environments.models import Environment
from vexil.features.models import Feature
from vexil.features.services import feature_create
from vexil.identities.models import Trait
from vexil.organisations.models import Organisation
from vexil.projects.models import Project
from vexil.sdk import analytics


def test_analytics__counts__buffered_then_stored_per_hour(
    sdk: SDKClient, environment: Environment, feature: Feature
) -> None:
    # When
    first = sdk.post(
        "/api/v1/analytics/flags/",
        key=environment.api_key,
        json={"checkout_button": 14, "not_a_feature": 3},
    )
    sdk.post("/api/v1/analytics/flags/", key=environment.api_key, json={"checkout_button": 3})
    # Then: nothing written on the request path
    assert (first.status, first.body) == (200, b"")
    assert not FeatureEvaluationCount.objects.exists()
    analytics.flush()
    bucket = FeatureEvaluationCount.objects.get()
    assert (bucket.feature_id, bucket.environment_id, bucket.count) == (
        feature.pk,
        environment.pk,
        17,
    )
    assert (bucket.hour.minute, bucket.hour.second) == (0, 0)


def test_analytics__bad_body_or_counts__200_and_ignored(
    sdk: SDKClient, environment: Environment, feature: Feature
) -> None:
    for body in (
        ["a list"],
        {"checkout_button": "7"},
        {"checkout_button": True},
        {"checkout_button": 1.5},
        {"checkout_button": -3},
    ):
        assert (
            sdk.post("/api/v1/analytics/flags/", key=environment.api_key, json=body).status == 200
        )
    assert sdk.request("POST", "/api/v1/analytics/flags/", key=environment.api_key).status == 200
    analytics.flush()
    assert not FeatureEvaluationCount.objects.exists()


def test_analytics__flush_twice__adds_up(
    sdk: SDKClient, environment: Environment, feature: Feature
) -> None:
    for _ in range(2):
        sdk.post("/api/v1/analytics/flags/", key=environment.api_key, json={"checkout_button": 5})
        analytics.flush()
    assert FeatureEvaluationCount.objects.get().count == 10


def test_traits__set__upserts_and_echoes(sdk: SDKClient, environment: Environment) -> None:
    body = {"identity": {"identifier": "bob"}, "trait_key": "plan", "trait_value": "pro"}
    reply = sdk.post("/api/v1/traits/", key=environment.api_key, json=body)
    assert (reply.status, reply.json()) == (200, body)
    assert Trait.objects.get().trait_value == "pro"


def test_traits__bulk__null_deletes_and_saved_items_returned(
    sdk: SDKClient, environment: Environment
) -> None:
    sdk.post(
        "/api/v1/traits/",
        key=environment.api_key,
        json={"identity": {"identifier": "bob"}, "trait_key": "old", "trait_value": 1},
    )
    reply = sdk.request(
        "PUT",
        "/api/v1/traits/bulk/",
        key=environment.api_key,
        json=[
            {"identity": {"identifier": "bob"}, "trait_key": "old", "trait_value": None},
            {"identity": {"identifier": "amy"}, "trait_key": "plan", "trait_value": "free"},
        ],
    )
    assert reply.json() == [
        {"identity": {"identifier": "amy"}, "trait_key": "plan", "trait_value": "free"}
    ]
    assert list(Trait.objects.values_list("trait_key", flat=True)) == ["plan"]


def test_traits__increment__creates_then_adds(sdk: SDKClient, environment: Environment) -> None:
    body = {"trait_key": "logins", "identifier": "bob", "increment_by": 2}
    sdk.post("/api/v1/traits/increment-value/", key=environment.api_key, json=body)
    reply = sdk.post("/api/v1/traits/increment-value/", key=environment.api_key, json=body)
    assert reply.json() == {"trait_key": "logins", "trait_value": 4, "identifier": "bob"}


def test_traits__increment_non_integer__400_unchanged(
    sdk: SDKClient, environment: Environment
) -> None:
    sdk.post(
        "/api/v1/traits/",
        key=environment.api_key,
        json={"identity": {"identifier": "bob"}, "trait_key": "plan", "trait_value": "pro"},
    )
    reply = sdk.post(
        "/api/v1/traits/increment-value/",
        key=environment.api_key,
        json={"trait_key": "plan", "identifier": "bob", "increment_by": 1},
    )
    assert reply.status == 400
    assert Trait.objects.get().trait_value == "pro"


def test_traits__organisation_does_not_persist__403(
    sdk: SDKClient, environment: Environment, organisation: Organisation
) -> None:
    Organisation.objects.filter(pk=organisation.pk).update(persist_trait_data=False)
    reply = sdk.post(
        "/api/v1/traits/",
        key=environment.api_key,
        json={"identity": {"identifier": "bob"}, "trait_key": "plan", "trait_value": "pro"},
    )
    assert reply.status == 403
    assert reply.json()["detail"] == "Organisation is not authorised to store traits."
    assert not Trait.objects.exists()


def test_analytics__count_past_the_bound__ignored_later_counts_stored(
    sdk: SDKClient, environment: Environment, feature: Feature
) -> None:
    """Two posts of 2**63-1 once made every later flush fail with OverflowError."""
    # Given
    for _ in range(2):
        huge = {"checkout_button": 9223372036854775807}
        assert (
            sdk.post("/api/v1/analytics/flags/", key=environment.api_key, json=huge).status == 200
        )
    analytics.flush()
    # When
    for _ in range(3):
        sdk.post("/api/v1/analytics/flags/", key=environment.api_key, json={"checkout_button": 4})
        analytics.flush()
    # Then
    assert FeatureEvaluationCount.objects.get().count == 12


def test_analytics__largest_count__accepted(
    sdk: SDKClient, environment: Environment, feature: Feature
) -> None:
    body = {"checkout_button": analytics.MAX_COUNT_PER_POST}
    sdk.post("/api/v1/analytics/flags/", key=environment.api_key, json=body)
    analytics.flush()
    assert FeatureEvaluationCount.objects.get().count == analytics.MAX_COUNT_PER_POST


def test_analytics__bucket_at_the_column_limit__stays_there_others_stored(
    sdk: SDKClient, environment: Environment, feature: Feature, project: Project, actor: Actor
) -> None:
    # Given: a bucket whose stored count is at the column's limit, and a second feature
    other = feature_create(project=project, name="other", initial_value="x", actor=actor)
    sdk.post("/api/v1/analytics/flags/", key=environment.api_key, json={"checkout_button": 1})
    analytics.flush()
    FeatureEvaluationCount.objects.update(count=MAX_COUNT)
    # When: one post adds to both
    body = {"checkout_button": 1, "other": 5}
    sdk.post("/api/v1/analytics/flags/", key=environment.api_key, json=body)
    analytics.flush()
    # Then: an integer at the limit (SQLite once turned it into a float), and the other stored
    counts = dict(FeatureEvaluationCount.objects.values_list("feature_id", "count"))
    assert counts == {feature.pk: MAX_COUNT, other.pk: 5}
    assert type(counts[feature.pk]) is int


def test_analytics__bucket_the_database_refuses__dropped_others_kept(
    sdk: SDKClient, environment: Environment, feature: Feature, project: Project, actor: Actor
) -> None:
    # Given: a buffered bucket no database column can hold (what a bug upstream could leave),
    # beside a good one
    other = feature_create(project=project, name="other", initial_value="x", actor=actor)
    sdk.post("/api/v1/analytics/flags/", key=environment.api_key, json={"other": 5})
    hour = next(iter(analytics._pending))[2]
    analytics._pending[(environment.pk, feature.pk, hour)] = 2**70
    # When
    analytics.flush()
    sdk.post("/api/v1/analytics/flags/", key=environment.api_key, json={"other": 2})
    analytics.flush()
    # Then
    counts = dict(FeatureEvaluationCount.objects.values_list("feature_id", "count"))
    assert counts == {other.pk: 7}
    assert not analytics._pending
