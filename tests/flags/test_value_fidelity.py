"""A value is stored exactly, type included, or refused (400 naming the field, nothing changed).

Every write path of the management API that takes a value: environment default states, initial
values, multivariate option values, identity overrides, segment overrides and traits. Refusals are
listed case by case; what is accepted is round-tripped, property-based, through the management API
and back out of the SDK endpoints (``/api/v1/flags/``, ``/api/v1/identities/``).

Flagsmith stores a feature value as a string, a 32-bit integer, a boolean or null, and a trait
value as a string, a 32-bit integer, a float or a boolean (``shared/docs/flagsmith-protocol.md``);
anything else would have to become something it was not, so it is refused.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from tests.sdk.conftest import SDKClient, sdk  # noqa: F401  (the SDK endpoints, in-process)
from vexil.audit.models import AuditLog
from vexil.audit.services import Actor
from vexil.environments.models import Environment
from vexil.features.models import (
    INT32_MAX,
    INT32_MIN,
    Feature,
    FeatureState,
    MultivariateFeatureOption,
)
from vexil.features.services import identity_override_create
from vexil.identities.models import MAX_TRAITS_PER_IDENTITY, Identity, Trait
from vexil.identities.services import trait_create
from vexil.projects.models import Project
from vexil.segments.models import Segment
from vexil.users.models import User

NOT_STORABLE = [
    {"theme": "dark"},
    {},
    [1, 2],
    1.5,
    2**31,
    -(2**31) - 1,
    2**64,
    {"type": "int", "integer_value": "5"},
    {"type": "int"},
    {"type": "int", "string_value": "5"},
    {"type": "unicode", "string_value": 5},
    {"type": "bool", "boolean_value": "true"},
    {"integer_value": 5, "string_value": "x"},
    {"type": "unicode", "string_value": "x", "theme": "dark"},
    "x" * 20_001,
]


@pytest.fixture
def admin_client(api_client: APIClient, organisation_admin: User) -> APIClient:
    api_client.force_authenticate(organisation_admin)
    return api_client


def _typed(value: Any) -> tuple[type, Any]:
    """Equality that tells ``True`` from ``1`` and ``1.0`` from ``1``."""
    return type(value), value


def _assert_refused(response: Any, field: str) -> None:
    assert response.status_code == 400, response.json()
    body = response.json()
    assert body["code"] == "invalid"
    assert field in body, body


# --- Refused, nothing changed ---------------------------------------------------------------------


@pytest.mark.parametrize("value", NOT_STORABLE)
def test_feature_state_update__value_not_storable__400_value_unchanged(
    admin_client: APIClient, environment: Environment, feature_state: FeatureState, value: Any
) -> None:
    audit_rows = AuditLog.objects.count()

    response = admin_client.patch(
        f"/api/v1/environments/{environment.api_key}/featurestates/{feature_state.pk}/",
        {"feature_state_value": value},
        format="json",
    )

    _assert_refused(response, "feature_state_value")
    feature_state.refresh_from_db()
    assert _typed(feature_state.value) == _typed("blue")
    assert AuditLog.objects.count() == audit_rows


@pytest.mark.parametrize("value", NOT_STORABLE)
def test_feature_create__initial_value_not_storable__400_nothing_created(
    admin_client: APIClient, project: Project, environment: Environment, value: Any
) -> None:
    response = admin_client.post(
        f"/api/v1/projects/{project.pk}/features/",
        {"name": "theme", "initial_value": value},
        format="json",
    )

    _assert_refused(response, "initial_value")
    assert not Feature.objects.filter(name="theme").exists()


@pytest.mark.parametrize("value", NOT_STORABLE)
def test_feature_update__initial_value_not_storable__400_unchanged(
    admin_client: APIClient, project: Project, feature: Feature, value: Any
) -> None:
    response = admin_client.patch(
        f"/api/v1/projects/{project.pk}/features/{feature.pk}/",
        {"initial_value": value},
        format="json",
    )

    _assert_refused(response, "initial_value")
    feature.refresh_from_db()
    assert _typed(feature.initial_value) == _typed("blue")


@pytest.mark.parametrize("value", NOT_STORABLE)
def test_identity_override_create__value_not_storable__400_nothing_created(
    admin_client: APIClient,
    environment: Environment,
    feature: Feature,
    identity: Identity,
    value: Any,
) -> None:
    response = admin_client.post(
        f"/api/v1/environments/{environment.api_key}/identities/{identity.pk}/featurestates/",
        {"feature": feature.pk, "enabled": True, "feature_state_value": value},
        format="json",
    )

    _assert_refused(response, "feature_state_value")
    assert not FeatureState.objects.filter(identity=identity).exists()


@pytest.mark.parametrize("value", NOT_STORABLE)
def test_segment_override_create__value_not_storable__400_nothing_created(
    admin_client: APIClient,
    environment: Environment,
    feature: Feature,
    segment: Segment,
    value: Any,
) -> None:
    response = admin_client.post(
        f"/api/v1/environments/{environment.api_key}/features/{feature.pk}/create-segment-override/",
        {"segment": segment.pk, "enabled": True, "feature_state_value": value},
        format="json",
    )

    _assert_refused(response, "feature_state_value")
    assert not FeatureState.objects.filter(feature_segment__isnull=False).exists()


@pytest.mark.parametrize(
    "body",
    [
        {"value": {"theme": "dark"}},
        {"value": 1.5},
        {"type": "int", "integer_value": "5"},
        {"type": "int", "integer_value": 5.0},
        {"type": "int", "integer_value": True},
        {"type": "unicode", "string_value": 5},
        {"type": "bool", "boolean_value": "true"},
        {"type": "bool", "boolean_value": 1},
        {"type": "int"},
        {"type": "int", "string_value": "5"},
        {"integer_value": 5, "string_value": "x"},
        {"type": "int", "integer_value": 2**31},
        {"value": "x", "type": "int", "integer_value": 5},
    ],
)
def test_mv_option_create__value_not_exact__400_nothing_created(
    admin_client: APIClient, project: Project, feature: Feature, body: dict[str, Any]
) -> None:
    response = admin_client.post(
        f"/api/v1/projects/{project.pk}/features/{feature.pk}/mv-options/", body, format="json"
    )

    assert response.status_code == 400, response.json()
    assert response.json()["code"] == "invalid"
    assert not MultivariateFeatureOption.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        {"trait_value": {"a": 1}},
        {"trait_value": [1]},
        {"trait_value": None},
        {"trait_value": 2**31},
        {"trait_value": "x" * 2_001},
        {"value_type": "int", "integer_value": "5"},
        {"value_type": "int", "integer_value": 5.5},
        {"value_type": "bool", "boolean_value": "yes"},
        {"value_type": "unicode", "string_value": 5},
        {"value_type": "float", "float_value": "1.5"},
        {"trait_value": "5", "value_type": "int"},
        {"trait_value": 5, "value_type": "bool"},
    ],
)
def test_trait_create__value_not_exact__400_nothing_created(
    admin_client: APIClient, environment: Environment, identity: Identity, body: dict[str, Any]
) -> None:
    response = admin_client.post(
        f"/api/v1/environments/{environment.api_key}/identities/{identity.pk}/traits/",
        {"trait_key": "plan", **body},
        format="json",
    )

    _assert_refused(response, next(iter(set(response.json()) - {"detail", "code"})))
    assert not Trait.objects.filter(identity=identity).exists()


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"trait_value": 5}, 5),
        ({"value_type": "int", "integer_value": 5}, 5),
        ({"integer_value": 5}, 5),
        ({"value_type": "float", "float_value": 2}, 2.0),
        ({"value_type": "unicode", "string_value": "5"}, "5"),
        ({"trait_value": False, "value_type": "bool"}, False),
    ],
)
def test_trait_create__typed_forms__stored_as_given(
    admin_client: APIClient,
    environment: Environment,
    identity: Identity,
    body: dict[str, Any],
    expected: Any,
) -> None:
    response = admin_client.post(
        f"/api/v1/environments/{environment.api_key}/identities/{identity.pk}/traits/",
        {"trait_key": "plan", **body},
        format="json",
    )

    assert response.status_code == 201, response.json()
    assert _typed(response.json()["trait_value"]) == _typed(expected)
    assert _typed(Trait.objects.get(identity=identity).trait_value) == _typed(expected)


def test_trait_create__identity_at_its_trait_cap__400_nothing_created(
    admin_client: APIClient, environment: Environment, identity: Identity
) -> None:
    # Given: the identity holds the most traits allowed
    Trait.objects.bulk_create(
        [
            Trait(identity=identity, trait_key=f"s{i}", value_type="int", integer_value=i)
            for i in range(MAX_TRAITS_PER_IDENTITY)
        ]
    )
    # When: one more through the management API
    response = admin_client.post(
        f"/api/v1/environments/{environment.api_key}/identities/{identity.pk}/traits/",
        {"trait_key": "one_more", "trait_value": 1},
        format="json",
    )
    # Then
    _assert_refused(response, "trait_key")
    assert Trait.objects.filter(identity=identity).count() == MAX_TRAITS_PER_IDENTITY


# --- Accepted values round-trip, type included ----------------------------------------------------

feature_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(INT32_MIN, INT32_MAX),
    st.text(alphabet=st.characters(blacklist_characters="\x00"), max_size=40),
)
trait_values = st.one_of(
    st.booleans(),
    st.integers(INT32_MIN, INT32_MAX),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(alphabet=st.characters(blacklist_characters="\x00"), max_size=40),
)


def _as_sent(value: Any, typed_form: bool) -> Any:
    """The value itself, or Flagsmith's object form of it."""
    if not typed_form or value is None:
        return value
    kind, column = {
        bool: ("bool", "boolean_value"),
        int: ("int", "integer_value"),
        str: ("unicode", "string_value"),
    }[type(value)]
    return {"type": kind, column: value}


ROUND_TRIP = settings(
    max_examples=25,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)


def _flag(flags: list[dict[str, Any]], feature: Feature) -> dict[str, Any]:
    return next(f for f in flags if f["feature"]["id"] == feature.pk)


def test_feature_state_value__any_storable_value__served_exactly_by_flags(
    sdk: SDKClient,  # noqa: F811
    environment: Environment,
    feature: Feature,
    feature_state: FeatureState,
    organisation_admin: User,
) -> None:
    client = APIClient()
    client.force_authenticate(organisation_admin)
    url = f"/api/v1/environments/{environment.api_key}/featurestates/{feature_state.pk}/"

    @ROUND_TRIP
    @given(value=feature_values, typed_form=st.booleans())
    def round_trip(value: Any, typed_form: bool) -> None:
        response = client.patch(
            url, {"feature_state_value": _as_sent(value, typed_form)}, format="json"
        )
        assert response.status_code == 200, response.json()
        assert _typed(response.json()["feature_state_value"]) == _typed(value)
        flags = sdk.get("/api/v1/flags/", key=environment.api_key).json()
        assert _typed(_flag(flags, feature)["feature_state_value"]) == _typed(value)

    round_trip()


def test_initial_value__any_storable_value__served_exactly_by_flags(
    sdk: SDKClient,  # noqa: F811
    project: Project,
    environment: Environment,
    organisation_admin: User,
) -> None:
    client = APIClient()
    client.force_authenticate(organisation_admin)
    names = iter(range(1_000_000))

    # Strings are auto-typed as Flagsmith does ("25" -> 25, "true" -> true): only strings that
    # stay strings round-trip; that rule has its own tests.
    stays_string = st.text(alphabet=st.characters(blacklist_characters="\x00"), max_size=40).filter(
        lambda text: text.lower() not in ("true", "false") and not text.lstrip("-").isdigit()
    )

    @ROUND_TRIP
    @given(
        value=st.one_of(st.none(), st.booleans(), st.integers(INT32_MIN, INT32_MAX), stays_string)
    )
    def round_trip(value: Any) -> None:
        response = client.post(
            f"/api/v1/projects/{project.pk}/features/",
            {"name": f"f{next(names)}", "initial_value": value},
            format="json",
        )
        assert response.status_code == 201, response.json()
        assert _typed(response.json()["initial_value"]) == _typed(value)
        feature = Feature.objects.get(pk=response.json()["id"])
        flags = sdk.get("/api/v1/flags/", key=environment.api_key).json()
        assert _typed(_flag(flags, feature)["feature_state_value"]) == _typed(value)

    round_trip()


def test_identity_override__any_storable_value__served_exactly_by_identities(
    sdk: SDKClient,  # noqa: F811
    environment: Environment,
    feature: Feature,
    identity: Identity,
    actor: Actor,
    organisation_admin: User,
) -> None:
    client = APIClient()
    client.force_authenticate(organisation_admin)
    override = identity_override_create(
        feature=feature, identity_id=identity.pk, environment=environment, actor=actor
    )
    url = (
        f"/api/v1/environments/{environment.api_key}/identities/{identity.pk}/"
        f"featurestates/{override.pk}/"
    )

    @ROUND_TRIP
    @given(value=feature_values, typed_form=st.booleans())
    def round_trip(value: Any, typed_form: bool) -> None:
        response = client.patch(
            url, {"feature_state_value": _as_sent(value, typed_form)}, format="json"
        )
        assert response.status_code == 200, response.json()
        body = sdk.post(
            "/api/v1/identities/",
            key=environment.api_key,
            json={"identifier": identity.identifier},
        ).json()
        assert _typed(_flag(body["flags"], feature)["feature_state_value"]) == _typed(value)

    round_trip()


def test_mv_option_value__any_storable_value__read_back_exactly(
    project: Project, feature: Feature, organisation_admin: User
) -> None:
    client = APIClient()
    client.force_authenticate(organisation_admin)
    url = f"/api/v1/projects/{project.pk}/features/{feature.pk}/mv-options/"
    columns = {bool: "boolean_value", int: "integer_value", str: "string_value"}

    @ROUND_TRIP
    @given(value=feature_values.filter(lambda v: v is not None), typed_form=st.booleans())
    def round_trip(value: Any, typed_form: bool) -> None:
        body = _as_sent(value, typed_form) if typed_form else {"value": value}
        response = client.post(url, {**body, "default_percentage_allocation": 0}, format="json")
        assert response.status_code == 201, response.json()
        option = MultivariateFeatureOption.objects.get(pk=response.json()["id"])
        assert _typed(option.value) == _typed(value)
        assert _typed(response.json()[columns[type(value)]]) == _typed(value)

    round_trip()


def test_trait_value__any_storable_value__served_exactly_by_identities(
    sdk: SDKClient,  # noqa: F811
    environment: Environment,
    identity: Identity,
    actor: Actor,
    organisation_admin: User,
) -> None:
    client = APIClient()
    client.force_authenticate(organisation_admin)
    trait = trait_create(identity=identity, trait_key="plan", value="free", actor=actor)
    url = f"/api/v1/environments/{environment.api_key}/identities/{identity.pk}/traits/{trait.pk}/"

    @ROUND_TRIP
    @given(value=trait_values)
    def round_trip(value: Any) -> None:
        response = client.patch(url, {"trait_value": value}, format="json")
        assert response.status_code == 200, response.json()
        assert _typed(response.json()["trait_value"]) == _typed(value)
        body = sdk.post(
            "/api/v1/identities/",
            key=environment.api_key,
            json={"identifier": identity.identifier},
        ).json()
        served = {t["trait_key"]: t["trait_value"] for t in body["traits"]}
        assert _typed(served["plan"]) == _typed(value)

    round_trip()
