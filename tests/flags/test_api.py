"""The flags management API: Flagsmith's paths and shapes, validation, tenant isolation."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from vexil.audit.services import Actor
from vexil.environments.models import Environment, EnvironmentAPIKey
from vexil.features.models import Feature, FeatureSegment, FeatureState
from vexil.features.services import OptionSpec, feature_create, segment_override_create
from vexil.identities.models import Identity, Trait
from vexil.projects.models import Project
from vexil.segments.models import Condition, Segment
from vexil.segments.services import segment_create
from vexil.users.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(api_client: APIClient, organisation_admin: User) -> APIClient:
    api_client.force_authenticate(organisation_admin)
    return api_client


@pytest.fixture
def other_client(other_admin: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(other_admin)
    return client


def _queries(request: Callable[[], object]) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = request()
    assert getattr(response, "status_code", 200) == 200
    return len(queries)


# --- Environments -------------------------------------------------------------------------------


def test_environment_create__api__states_for_features_and_audit(
    admin_client: APIClient, project: Project, feature: Feature
) -> None:
    response = admin_client.post(
        "/api/v1/environments/", {"name": "Production", "project": project.pk}, format="json"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert len(body["api_key"]) == 22
    assert body["project"] == project.pk
    environment = Environment.objects.get(api_key=body["api_key"])
    assert FeatureState.objects.filter(environment=environment, feature=feature).count() == 1


def test_environment_create__other_tenants_project__400_nothing_created(
    admin_client: APIClient, other_project: Project
) -> None:
    response = admin_client.post(
        "/api/v1/environments/", {"name": "Sneaky", "project": other_project.pk}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert not Environment.objects.filter(name="Sneaky").exists()


def test_environment_update__project_in_body__ignored(
    admin_client: APIClient, environment: Environment, other_project: Project
) -> None:
    response = admin_client.patch(
        f"/api/v1/environments/{environment.api_key}/",
        {"name": "Dev", "project": other_project.pk},
        format="json",
    )
    assert response.status_code == 200
    environment.refresh_from_db()
    assert (environment.name, environment.project_id) == ("Dev", environment.project.pk)


def test_environment_list__other_tenant__sees_nothing_and_404_on_detail(
    other_client: APIClient, environment: Environment
) -> None:
    assert other_client.get("/api/v1/environments/").json()["count"] == 0
    assert other_client.get(f"/api/v1/environments/{environment.api_key}/").status_code == 404
    assert other_client.delete(f"/api/v1/environments/{environment.api_key}/").status_code == 404
    assert Environment.objects.filter(pk=environment.pk).exists()


def test_environment_list__query_count_constant(
    admin_client: APIClient, project: Project, environment: Environment, actor: Actor
) -> None:
    url = f"/api/v1/environments/?project={project.pk}"
    one = _queries(lambda: admin_client.get(url))
    from vexil.environments.services import environment_create

    for name in ("a", "b", "c"):
        environment_create(project=project, name=name, actor=actor)
    assert _queries(lambda: admin_client.get(url)) == one


def test_environment_clone__api__new_keys_states_copied(
    admin_client: APIClient, environment: Environment, feature: Feature
) -> None:
    response = admin_client.post(
        f"/api/v1/environments/{environment.api_key}/clone/", {"name": "Staging"}, format="json"
    )
    assert response.status_code == 201
    clone = Environment.objects.get(api_key=response.json()["api_key"])
    assert clone.api_key != environment.api_key
    assert FeatureState.objects.filter(environment=clone).count() == 1


def test_api_keys__create_shows_key_once_list_never(
    admin_client: APIClient, environment: Environment
) -> None:
    url = f"/api/v1/environments/{environment.api_key}/api-keys/"
    created = admin_client.post(url, {"name": "backend"}, format="json")
    assert created.status_code == 201
    key = created.json()["key"]
    assert key.startswith("ser.")
    stored = EnvironmentAPIKey.objects.get()
    assert stored.matches(key)
    listed = admin_client.get(url).json()
    assert listed == [
        {
            "id": stored.pk,
            "name": "backend",
            "prefix": stored.prefix,
            "created_at": listed[0]["created_at"],
            "expires_at": None,
            "active": True,
        }
    ]
    response = admin_client.patch(f"{url}{stored.pk}/", {"active": False}, format="json")
    assert response.status_code == 200
    stored.refresh_from_db()
    assert stored.active is False
    assert admin_client.delete(f"{url}{stored.pk}/").status_code == 204
    assert not EnvironmentAPIKey.objects.exists()


# --- Features -------------------------------------------------------------------------------------


def test_feature_create__api_with_mv_options__states_and_allocations(
    admin_client: APIClient, project: Project, environment: Environment
) -> None:
    response = admin_client.post(
        f"/api/v1/projects/{project.pk}/features/",
        {
            "name": "colour",
            "initial_value": "blue",
            "default_enabled": True,
            "multivariate_options": [
                {"type": "unicode", "string_value": "green", "default_percentage_allocation": 30},
                {"value": 7, "default_percentage_allocation": 20},
            ],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["type"] == "MULTIVARIATE"
    assert [
        (o["type"], o["string_value"], o["integer_value"]) for o in body["multivariate_options"]
    ] == [
        ("unicode", "green", None),
        ("int", None, 7),
    ]
    state = FeatureState.objects.get(feature_id=body["id"], environment=environment)
    assert state.enabled is True
    assert state.multivariate_feature_state_values.count() == 2


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": "Upper"}, "name"),
        ({"name": "checkout_button"}, "name"),
        ({"name": "x", "initial_value": 2**40}, "initial_value"),
        ({"name": "x", "initial_value": [1]}, "initial_value"),
        ({"name": ""}, "name"),
        (
            {
                "name": "x",
                "multivariate_options": [
                    {"value": "a", "default_percentage_allocation": 70},
                    {"value": "b", "default_percentage_allocation": 70},
                ],
            },
            "multivariate_options",
        ),
    ],
)
def test_feature_create__invalid__400_house_shape_nothing_created(
    admin_client: APIClient, project: Project, feature: Feature, payload: dict, field: str
) -> None:
    response = admin_client.post(f"/api/v1/projects/{project.pk}/features/", payload, format="json")
    assert response.status_code == 400
    body = response.json()
    assert (body["code"], body["detail"]) == ("invalid", "Invalid input.")
    assert field in body
    assert Feature.objects.count() == 1


def test_feature_list__filters_and_environment_state(
    admin_client: APIClient,
    project: Project,
    environment: Environment,
    feature: Feature,
    actor: Actor,
) -> None:
    feature_create(project=project, name="zeta_archived", is_archived=True, actor=actor)
    url = f"/api/v1/projects/{project.pk}/features/"
    names = lambda query: [f["name"] for f in admin_client.get(url + query).json()["results"]]  # noqa: E731
    assert names("?is_archived=false") == ["checkout_button"]
    assert names("?search=ZETA") == ["zeta_archived"]
    assert names("?sort_field=name&sort_direction=DESC") == ["zeta_archived", "checkout_button"]
    body = admin_client.get(f"{url}?environment={environment.pk}&search=checkout").json()
    assert body["results"][0]["environment_feature_state"]["feature_state_value"] == "blue"
    assert admin_client.get(f"{url}?environment=999999").status_code == 400


def test_feature_list__query_count_constant(
    admin_client: APIClient,
    project: Project,
    environment: Environment,
    feature: Feature,
    actor: Actor,
) -> None:
    url = f"/api/v1/projects/{project.pk}/features/?environment={environment.pk}"
    one = _queries(lambda: admin_client.get(url))
    for i in range(4):
        feature_create(
            project=project, name=f"f{i}", multivariate_options=[OptionSpec("a", 10)], actor=actor
        )
    assert _queries(lambda: admin_client.get(url)) == one


def test_feature_delete__other_tenant__404_nothing_deleted(
    other_client: APIClient, project: Project, feature: Feature
) -> None:
    response = other_client.delete(f"/api/v1/projects/{project.pk}/features/{feature.pk}/")
    assert response.status_code == 404
    assert Feature.objects.filter(pk=feature.pk).exists()


def test_mv_options__crud(
    admin_client: APIClient, project: Project, feature: Feature, feature_state: FeatureState
) -> None:
    url = f"/api/v1/projects/{project.pk}/features/{feature.pk}/mv-options/"
    created = admin_client.post(
        url,
        {"type": "bool", "boolean_value": True, "default_percentage_allocation": 40},
        format="json",
    )
    assert created.status_code == 201, created.json()
    option_id = created.json()["id"]
    assert feature_state.multivariate_feature_state_values.get().percentage_allocation == 40
    too_much = admin_client.post(
        url, {"value": "x", "default_percentage_allocation": 61}, format="json"
    )
    assert too_much.status_code == 400
    assert (
        admin_client.patch(f"{url}{option_id}/", {"key": "yes"}, format="json").json()["key"]
        == "yes"
    )
    assert admin_client.delete(f"{url}{option_id}/").status_code == 204
    assert not feature_state.multivariate_feature_state_values.exists()


# --- Feature states -------------------------------------------------------------------------------


def test_env_featurestates__update_typed_value(
    admin_client: APIClient, environment: Environment, feature_state: FeatureState
) -> None:
    url = f"/api/v1/environments/{environment.api_key}/featurestates/{feature_state.pk}/"
    response = admin_client.patch(url, {"enabled": True, "feature_state_value": 42}, format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["enabled"], body["feature_state_value"], body["django_id"]) == (
        True,
        42,
        feature_state.pk,
    )
    feature_state.refresh_from_db()
    assert (feature_state.type, feature_state.integer_value) == ("int", 42)


def test_env_featurestates__list_filters_and_query_count(
    admin_client: APIClient,
    project: Project,
    environment: Environment,
    feature: Feature,
    actor: Actor,
) -> None:
    url = f"/api/v1/environments/{environment.api_key}/featurestates/"
    assert admin_client.get(f"{url}?feature_name=checkout_button").json()["count"] == 1
    assert admin_client.get(f"{url}?feature={feature.pk + 1000}").json()["count"] == 0
    one = _queries(lambda: admin_client.get(url))
    for i in range(3):
        feature_create(
            project=project, name=f"f{i}", multivariate_options=[OptionSpec("a", 10)], actor=actor
        )
    assert _queries(lambda: admin_client.get(url)) == one


def test_env_featurestates__mv_allocation_over_100__400_unchanged(
    admin_client: APIClient,
    environment: Environment,
    feature: Feature,
    feature_state: FeatureState,
    project: Project,
) -> None:
    option = admin_client.post(
        f"/api/v1/projects/{project.pk}/features/{feature.pk}/mv-options/",
        {"value": "a", "default_percentage_allocation": 10},
        format="json",
    ).json()
    url = f"/api/v1/environments/{environment.api_key}/featurestates/{feature_state.pk}/"
    response = admin_client.patch(
        url,
        {
            "multivariate_feature_state_values": [
                {"multivariate_feature_option": option["id"], "percentage_allocation": 101}
            ]
        },
        format="json",
    )
    assert response.status_code == 400
    assert feature_state.multivariate_feature_state_values.get().percentage_allocation == 10


def test_env_featurestates__other_tenant__404_unchanged(
    other_client: APIClient, environment: Environment, feature_state: FeatureState
) -> None:
    url = f"/api/v1/environments/{environment.api_key}/featurestates/{feature_state.pk}/"
    assert other_client.patch(url, {"enabled": True}, format="json").status_code == 404
    assert (
        other_client.patch(
            f"/api/v1/features/featurestates/{feature_state.pk}/", {"enabled": True}, format="json"
        ).status_code
        == 404
    )
    feature_state.refresh_from_db()
    assert feature_state.enabled is False


# --- Segment overrides ----------------------------------------------------------------------------


def test_segment_override__two_step_flow(
    admin_client: APIClient, environment: Environment, feature: Feature, segment: Segment
) -> None:
    created = admin_client.post(
        "/api/v1/features/feature-segments/",
        {"feature": feature.pk, "segment": segment.pk, "environment": environment.pk},
        format="json",
    )
    assert created.status_code == 201, created.json()
    fs_id = created.json()["id"]
    assert created.json()["priority"] == 0
    state = admin_client.post(
        "/api/v1/features/featurestates/",
        {
            "feature": feature.pk,
            "environment": environment.pk,
            "feature_segment": fs_id,
            "enabled": True,
            "feature_state_value": {"type": "unicode", "string_value": "vip"},
        },
        format="json",
    )
    assert state.status_code == 201, state.json()
    assert (state.json()["feature_state_value"], state.json()["feature_segment"]["id"]) == (
        "vip",
        fs_id,
    )
    listed = admin_client.get(
        f"/api/v1/features/feature-segments/?environment={environment.pk}&feature={feature.pk}"
    ).json()
    assert [r["id"] for r in listed["results"]] == [fs_id]


def test_segment_override__other_tenants_segment__400_nothing_created(
    admin_client: APIClient,
    environment: Environment,
    feature: Feature,
    other_project: Project,
    other_admin: User,
) -> None:
    foreign = segment_create(project=other_project, name="x", actor=Actor(user=other_admin))
    response = admin_client.post(
        "/api/v1/features/feature-segments/",
        {"feature": feature.pk, "segment": foreign.pk, "environment": environment.pk},
        format="json",
    )
    assert response.status_code == 400
    assert not FeatureSegment.objects.exists()
    shortcut = admin_client.post(
        f"/api/v1/environments/{environment.api_key}/features/{feature.pk}/create-segment-override/",
        {"segment": foreign.pk, "enabled": True},
        format="json",
    )
    assert shortcut.status_code == 400
    assert not FeatureSegment.objects.exists()


def test_create_segment_override__shortcut_and_update_priorities(
    admin_client: APIClient,
    project: Project,
    environment: Environment,
    feature: Feature,
    segment: Segment,
    actor: Actor,
) -> None:
    url = (
        f"/api/v1/environments/{environment.api_key}/features/{feature.pk}/create-segment-override/"
    )
    first = admin_client.post(
        url, {"segment": segment.pk, "enabled": True, "feature_state_value": "a"}, format="json"
    )
    assert first.status_code == 201, first.json()
    second_segment = segment_create(project=project, name="second", actor=actor)
    second = admin_client.post(
        url,
        {
            "feature_segment": {"segment": second_segment.pk, "priority": 0},
            "feature_state_value": 5,
        },
        format="json",
    )
    assert second.status_code == 201, second.json()
    a, b = first.json()["feature_segment"]["id"], second.json()["feature_segment"]["id"]
    assert list(FeatureSegment.objects.values_list("id", flat=True)) == [b, a]
    response = admin_client.post(
        "/api/v1/features/feature-segments/update-priorities/",
        [{"id": a, "priority": 0}, {"id": b, "priority": 1}],
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert [(r["id"], r["priority"]) for r in response.json()] == sorted([(a, 0), (b, 1)])


def test_update_priorities__other_tenants_override__400_unchanged(
    other_client: APIClient,
    environment: Environment,
    feature: Feature,
    segment: Segment,
    actor: Actor,
) -> None:
    state = segment_override_create(
        feature=feature, segment=segment, environment=environment, actor=actor
    )
    fs_id = state.feature_segment_id
    response = other_client.post(
        "/api/v1/features/feature-segments/update-priorities/",
        [{"id": fs_id, "priority": 3}],
        format="json",
    )
    assert response.status_code == 400
    assert FeatureSegment.objects.get().priority == 0


# --- Segments ---------------------------------------------------------------------------------


SEGMENT_BODY = {
    "name": "beta",
    "rules": [
        {
            "type": "ALL",
            "rules": [
                {
                    "type": "ANY",
                    "conditions": [
                        {"operator": "EQUAL", "property": "plan", "value": "beta"},
                        {"operator": "GREATER_THAN", "property": "age", "value": 18},
                        {"operator": "EQUAL", "property": "staff", "value": True},
                    ],
                    "rules": [],
                }
            ],
            "conditions": [],
        }
    ],
}


def test_segment_create__nested_rules__values_coerced_to_strings(
    admin_client: APIClient, project: Project
) -> None:
    response = admin_client.post(
        f"/api/v1/projects/{project.pk}/segments/", SEGMENT_BODY, format="json"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    inner = body["rules"][0]["rules"][0]
    assert [(c["property"], c["value"]) for c in inner["conditions"]] == [
        ("plan", "beta"),
        ("age", "18"),
        ("staff", "true"),
    ]
    assert body["rules"][0]["type"] == "ALL"


def test_segment_update__replaces_rules(
    admin_client: APIClient, project: Project, segment: Segment
) -> None:
    response = admin_client.put(
        f"/api/v1/projects/{project.pk}/segments/{segment.pk}/",
        {
            "name": "renamed",
            "rules": [{"type": "ALL", "conditions": [{"operator": "IS_SET", "property": "x"}]}],
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert list(Condition.objects.values_list("operator", flat=True)) == ["IS_SET"]


def test_segment_create__bad_regex__400_nothing_created(
    admin_client: APIClient, project: Project
) -> None:
    response = admin_client.post(
        f"/api/v1/projects/{project.pk}/segments/",
        {
            "name": "r",
            "rules": [
                {
                    "type": "ALL",
                    "conditions": [{"operator": "REGEX", "property": "e", "value": "(["}],
                }
            ],
        },
        format="json",
    )
    assert response.status_code == 400
    assert "rules" in response.json()
    assert not Segment.objects.exists()


def test_segment_list__search_and_query_count(
    admin_client: APIClient, project: Project, segment: Segment, actor: Actor
) -> None:
    url = f"/api/v1/projects/{project.pk}/segments/"
    assert [s["name"] for s in admin_client.get(url + "?q=POWER").json()["results"]] == [
        "power_users"
    ]
    one = _queries(lambda: admin_client.get(url))
    for i in range(3):
        segment_create(project=project, name=f"s{i}", rules=SEGMENT_BODY["rules"], actor=actor)  # type: ignore[arg-type]
    assert _queries(lambda: admin_client.get(url)) == one


def test_segment_get__other_tenant__404(
    other_client: APIClient, project: Project, segment: Segment
) -> None:
    assert (
        other_client.get(f"/api/v1/projects/{project.pk}/segments/{segment.pk}/").status_code == 404
    )
    assert other_client.get(f"/api/v1/projects/{project.pk}/segments/").status_code == 404


# --- Identities, overrides, traits ----------------------------------------------------------


def test_identities__create_search_exact(admin_client: APIClient, environment: Environment) -> None:
    url = f"/api/v1/environments/{environment.api_key}/identities/"
    for identifier in ("alice", "alice2", "bob"):
        assert admin_client.post(url, {"identifier": identifier}, format="json").status_code == 201
    assert admin_client.post(url, {"identifier": "bob"}, format="json").status_code == 400
    found = lambda q: [i["identifier"] for i in admin_client.get(url, {"q": q}).json()["results"]]  # noqa: E731
    assert found("ali") == ["alice", "alice2"]
    assert found('"alice"') == ["alice"]


def test_identity_overrides__crud_and_foreign_feature_refused(
    admin_client: APIClient,
    environment: Environment,
    feature: Feature,
    identity: Identity,
    other_feature: Feature,
) -> None:
    url = f"/api/v1/environments/{environment.api_key}/identities/{identity.pk}/featurestates/"
    foreign = admin_client.post(url, {"feature": other_feature.pk, "enabled": True}, format="json")
    assert foreign.status_code == 400
    created = admin_client.post(
        url, {"feature": feature.pk, "enabled": True, "feature_state_value": False}, format="json"
    )
    assert created.status_code == 201, created.json()
    state_id = created.json()["id"]
    assert admin_client.post(url, {"feature": feature.pk}, format="json").status_code == 400
    updated = admin_client.patch(f"{url}{state_id}/", {"feature_state_value": "x"}, format="json")
    assert updated.json()["feature_state_value"] == "x"
    assert admin_client.delete(f"{url}{state_id}/").status_code == 204
    assert not FeatureState.objects.filter(identity=identity).exists()


def test_traits__typed_values(
    admin_client: APIClient, environment: Environment, identity: Identity
) -> None:
    url = f"/api/v1/environments/{environment.api_key}/identities/{identity.pk}/traits/"
    for key, value in (("age", 42), ("score", 1.5), ("plan", "pro"), ("beta", True)):
        response = admin_client.post(url, {"trait_key": key, "trait_value": value}, format="json")
        assert response.status_code == 201, response.json()
    listed = {
        t["trait_key"]: (t["value_type"], t["trait_value"]) for t in admin_client.get(url).json()
    }
    assert listed == {
        "age": ("int", 42),
        "score": ("float", 1.5),
        "plan": ("unicode", "pro"),
        "beta": ("bool", True),
    }
    too_long = admin_client.post(
        url, {"trait_key": "long", "trait_value": "x" * 2001}, format="json"
    )
    assert too_long.status_code == 400
    assert Trait.objects.count() == 4


def test_identities__other_tenant__404(
    other_client: APIClient, environment: Environment, identity: Identity
) -> None:
    base = f"/api/v1/environments/{environment.api_key}/identities/"
    assert other_client.get(base).status_code == 404
    assert other_client.delete(f"{base}{identity.pk}/").status_code == 404
    assert Identity.objects.filter(pk=identity.pk).exists()


# --- Tags -------------------------------------------------------------------------------------


def test_tags__crud_and_feature_tagging(
    admin_client: APIClient, project: Project, feature: Feature
) -> None:
    url = f"/api/v1/projects/{project.pk}/tags/"
    tag = admin_client.post(url, {"label": "backend", "color": "#ff0000"}, format="json")
    assert tag.status_code == 201, tag.json()
    assert admin_client.post(url, {"label": "backend"}, format="json").status_code == 400
    response = admin_client.patch(
        f"/api/v1/projects/{project.pk}/features/{feature.pk}/",
        {"tags": [tag.json()["id"]]},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["tags"] == [tag.json()["id"]]
