"""``/api/v1/analytics/flags/`` and the legacy ``/api/v1/traits/...`` endpoints (§1.8, §1.10)."""

from __future__ import annotations

from tests.sdk.conftest import SDKClient
from vexil.analytics.models import FeatureEvaluationCount
from vexil.environments.models import Environment
from vexil.features.models import Feature
from vexil.identities.models import Trait
from vexil.organisations.models import Organisation
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
