"""Feature owners, identity override cloning, segment clone and associated features, and the
environment's trait keys: behaviour, validation, audit, revisions and tenant isolation."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from vexil.audit.models import AuditLog
from vexil.audit.services import Actor
from vexil.environments.models import Environment
from vexil.environments.services import environment_create
from vexil.features.models import Feature, FeatureState
from vexil.features.services import (
    feature_create,
    identity_override_create,
    segment_override_create,
)
from vexil.identities.models import Identity, Trait
from vexil.identities.services import identity_create, trait_create
from vexil.organisations.models import Organisation, OrganisationRole
from vexil.organisations.services import organisation_member_add
from vexil.projects.models import Project
from vexil.segments.models import Segment
from vexil.segments.selectors import segment_rule_trees
from vexil.users.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(api_client: APIClient, organisation_admin: User) -> APIClient:
    api_client.force_authenticate(organisation_admin)
    return api_client


@pytest.fixture
def member(organisation: Organisation, actor: Actor) -> User:
    user = User.objects.create_user(email="bob@example.com", password=None)
    organisation_member_add(
        organisation=organisation, user=user, role=OrganisationRole.USER, actor=actor
    )
    return user


def _revision(environment: Environment) -> int:
    return Environment.objects.get(pk=environment.pk).revision


# --- Feature owners -----------------------------------------------------------------------------


def _owners_url(feature: Feature, verb: str) -> str:
    return f"/api/v1/projects/{feature.project_id}/features/{feature.pk}/{verb}-owners/"


def test_add_owners__members__owners_set_and_audited(
    admin_client: APIClient, feature: Feature, member: User, organisation_admin: User
) -> None:
    response = admin_client.post(
        _owners_url(feature, "add"),
        {"user_ids": [member.pk, organisation_admin.pk]},
        format="json",
    )

    assert response.status_code == 200, response.json()
    assert sorted(o["email"] for o in response.json()["owners"]) == [
        "bob@example.com",
        "owner@example.com",
    ]
    row = AuditLog.objects.filter(resource_type="feature").latest("id")
    assert row.before == {"owners": []}
    assert row.after == {"owners": sorted([member.pk, organisation_admin.pk])}


def test_add_owners__user_of_another_organisation__400_nothing_changed(
    admin_client: APIClient, feature: Feature, member: User, other_admin: User
) -> None:
    audit_rows = AuditLog.objects.count()

    response = admin_client.post(
        _owners_url(feature, "add"), {"user_ids": [member.pk, other_admin.pk]}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["user_ids"] == [f"Not members of the organisation: {other_admin.pk}."]
    assert list(feature.owners.all()) == []
    assert AuditLog.objects.count() == audit_rows


@pytest.mark.parametrize("body", [{}, {"user_ids": []}, {"user_ids": ["x"]}, {"user_ids": 3}])
def test_add_owners__malformed_body__400(
    admin_client: APIClient, feature: Feature, body: dict
) -> None:
    response = admin_client.post(_owners_url(feature, "add"), body, format="json")

    assert response.status_code == 400
    assert "user_ids" in response.json()


def test_remove_owners__owner_and_stranger__owner_removed_stranger_ignored(
    admin_client: APIClient, feature: Feature, member: User, organisation_admin: User
) -> None:
    feature.owners.set([member, organisation_admin])
    revision = _revision(Environment.objects.get(project=feature.project))

    response = admin_client.post(
        _owners_url(feature, "remove"), {"user_ids": [member.pk, 987654]}, format="json"
    )

    assert response.status_code == 200
    assert [o["email"] for o in response.json()["owners"]] == ["owner@example.com"]
    # Owners are not part of evaluation.
    assert _revision(Environment.objects.get(project=feature.project)) == revision


def test_add_owners__another_tenants_feature__404(
    admin_client: APIClient, other_feature: Feature, organisation_admin: User
) -> None:
    response = admin_client.post(
        _owners_url(other_feature, "add"), {"user_ids": [organisation_admin.pk]}, format="json"
    )

    assert response.status_code == 404
    assert list(other_feature.owners.all()) == []


# --- Identity overrides cloned from another identity --------------------------------------------


@pytest.fixture
def bob(environment: Environment, actor: Actor) -> Identity:
    return identity_create(environment=environment, identifier="bob", actor=actor)


def _clone_url(target: Identity) -> str:
    return (
        f"/api/v1/environments/{target.environment.api_key}/identities/{target.pk}"
        "/featurestates/clone-from-given-identity/"
    )


def test_clone_from_given_identity__source_overrides__replace_targets(
    admin_client: APIClient,
    project: Project,
    environment: Environment,
    feature: Feature,
    identity: Identity,
    bob: Identity,
    actor: Actor,
) -> None:
    # Given alice overrides "checkout_button", bob overrides another feature
    other = feature_create(project=project, name="other", actor=actor)
    identity_override_create(
        feature=feature,
        identity_id=identity.pk,
        environment=environment,
        enabled=True,
        value=42,
        actor=actor,
    )
    identity_override_create(
        feature=other, identity_id=bob.pk, environment=environment, enabled=True, actor=actor
    )
    revision = _revision(environment)

    # When bob's overrides are cloned from alice's
    response = admin_client.post(
        _clone_url(bob), {"source_identity_id": identity.pk}, format="json"
    )

    # Then bob has exactly alice's override, alice is untouched, and the revision moved
    assert response.status_code == 200, response.json()
    assert [(s["feature"], s["enabled"], s["feature_state_value"]) for s in response.json()] == [
        (feature.pk, True, 42)
    ]
    assert list(
        FeatureState.objects.filter(identity=bob).values_list("feature_id", "integer_value")
    ) == [(feature.pk, 42)]
    assert FeatureState.objects.filter(identity=identity).count() == 1
    assert _revision(environment) == revision + 1
    assert AuditLog.objects.latest("id").log == (
        "Identity overrides of 'bob' copied from 'alice@example.com'"
    )


def test_clone_from_given_identity__source_in_another_environment__400_nothing_changed(
    admin_client: APIClient, project: Project, feature: Feature, bob: Identity, actor: Actor
) -> None:
    production = environment_create(project=project, name="Production", actor=actor)
    stranger = identity_create(environment=production, identifier="carol", actor=actor)
    identity_override_create(
        feature=feature, identity_id=bob.pk, environment=bob.environment, actor=actor
    )
    before = list(FeatureState.objects.filter(identity=bob).values())

    response = admin_client.post(
        _clone_url(bob), {"source_identity_id": stranger.pk}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["source_identity_id"] == [
        f'Invalid pk "{stranger.pk}" - object does not exist.'
    ]
    assert list(FeatureState.objects.filter(identity=bob).values()) == before


def test_clone_from_given_identity__itself__400(admin_client: APIClient, bob: Identity) -> None:
    response = admin_client.post(_clone_url(bob), {"source_identity_id": bob.pk}, format="json")

    assert response.status_code == 400
    assert response.json()["source_identity_id"] == ["An identity cannot be cloned from itself."]


# --- Segment clone and associated features ------------------------------------------------------


def test_segment_clone__named__same_rules_new_ids(
    admin_client: APIClient, project: Project, segment: Segment
) -> None:
    response = admin_client.post(
        f"/api/v1/projects/{project.pk}/segments/{segment.pk}/clone/",
        {"name": "power_users_copy"},
        format="json",
    )

    assert response.status_code == 201, response.json()
    clone = Segment.objects.get(name="power_users_copy")
    assert response.json()["id"] == clone.pk

    def without_ids(tree: list) -> list:
        return [
            {
                "type": r["type"],
                "rules": without_ids(r["rules"]),
                "conditions": [{k: v for k, v in c.items() if k != "id"} for c in r["conditions"]],
            }
            for r in tree
        ]

    trees = segment_rule_trees([segment, clone])
    assert without_ids(trees[clone.pk]) == without_ids(trees[segment.pk])
    assert trees[clone.pk][0]["id"] != trees[segment.pk][0]["id"]


def test_segment_clone__no_name__400_nothing_created(
    admin_client: APIClient, project: Project, segment: Segment
) -> None:
    response = admin_client.post(
        f"/api/v1/projects/{project.pk}/segments/{segment.pk}/clone/", {}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["name"] == ["This field is required."]
    assert Segment.objects.count() == 1


@pytest.fixture
def overrides(
    project: Project, environment: Environment, feature: Feature, segment: Segment, actor: Actor
) -> Environment:
    production = environment_create(project=project, name="Production", actor=actor)
    for target in (environment, production):
        segment_override_create(
            feature=feature, segment=segment, environment=target, enabled=True, actor=actor
        )
    return production


def test_associated_features__overrides_in_two_environments__both_listed(
    admin_client: APIClient,
    project: Project,
    environment: Environment,
    segment: Segment,
    overrides: Environment,
    actor: Actor,
) -> None:
    url = f"/api/v1/projects/{project.pk}/segments/{segment.pk}/associated-features/"

    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get(url)

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert [r["environment"] for r in body["results"]] == [environment.pk, overrides.pk]
    assert {r["segment_name"] for r in body["results"]} == {"power_users"}
    baseline = len(queries)
    segment_override_create(
        feature=feature_create(project=project, name="more", actor=actor),
        segment=segment,
        environment=environment,
        actor=actor,
    )
    with CaptureQueriesContext(connection) as queries:
        assert admin_client.get(url).json()["count"] == 3
    assert len(queries) == baseline


def test_associated_features__environment_filter__one_environment(
    admin_client: APIClient, project: Project, segment: Segment, overrides: Environment
) -> None:
    url = f"/api/v1/projects/{project.pk}/segments/{segment.pk}/associated-features/"

    response = admin_client.get(url, {"environment": overrides.pk})

    assert response.status_code == 200
    assert [r["environment"] for r in response.json()["results"]] == [overrides.pk]
    assert admin_client.get(url, {"environment": "x"}).status_code == 400


# --- Trait keys and delete-traits --------------------------------------------------------------


@pytest.fixture
def traits(environment: Environment, identity: Identity, bob: Identity, actor: Actor) -> None:
    trait_create(identity=identity, trait_key="plan", value="pro", actor=actor)
    trait_create(identity=identity, trait_key="age", value=30, actor=actor)
    trait_create(identity=bob, trait_key="plan", value="free", actor=actor)


def test_trait_keys__two_identities__distinct_sorted(
    admin_client: APIClient, environment: Environment, traits: None
) -> None:
    response = admin_client.get(f"/api/v1/environments/{environment.api_key}/trait-keys/")

    assert response.status_code == 200
    assert response.json() == {"keys": ["age", "plan"]}


def test_delete_traits__key__gone_from_every_identity_one_audit_row(
    admin_client: APIClient, environment: Environment, traits: None
) -> None:
    revision = _revision(environment)

    response = admin_client.post(
        f"/api/v1/environments/{environment.api_key}/delete-traits/", {"key": "plan"}, format="json"
    )

    assert response.status_code == 200
    assert response.json() == {"key": "plan", "deleted": 2}
    assert list(Trait.objects.values_list("trait_key", flat=True)) == ["age"]
    assert AuditLog.objects.latest("id").log == (
        "Trait 'plan' deleted from 2 identities of 'Development'"
    )
    # Traits are not in the environment document.
    assert _revision(environment) == revision


def test_delete_traits__other_environments_trait__untouched(
    admin_client: APIClient, project: Project, environment: Environment, actor: Actor
) -> None:
    production = environment_create(project=project, name="Production", actor=actor)
    carol = identity_create(environment=production, identifier="carol", actor=actor)
    trait_create(identity=carol, trait_key="plan", value="pro", actor=actor)

    response = admin_client.post(
        f"/api/v1/environments/{environment.api_key}/delete-traits/", {"key": "plan"}, format="json"
    )

    assert response.json() == {"key": "plan", "deleted": 0}
    assert Trait.objects.filter(identity=carol).count() == 1


@pytest.mark.parametrize("body", [{}, {"key": ""}, {"key": "k" * 201}])
def test_delete_traits__bad_key__400(
    admin_client: APIClient, environment: Environment, body: dict
) -> None:
    response = admin_client.post(
        f"/api/v1/environments/{environment.api_key}/delete-traits/", body, format="json"
    )

    assert response.status_code == 400
    assert "key" in response.json()


def test_trait_keys__another_tenants_environment__404(
    admin_client: APIClient, other_environment: Environment
) -> None:
    response = admin_client.get(f"/api/v1/environments/{other_environment.api_key}/trait-keys/")

    assert response.status_code == 404


def test_members_remove__owner__ownership_dropped(
    admin_client: APIClient, organisation: Organisation, feature: Feature, member: User
) -> None:
    feature.owners.set([member])

    response = admin_client.post(
        f"/api/v1/organisations/{organisation.pk}/remove-users/", [{"id": member.pk}], format="json"
    )

    assert response.status_code == 204
    assert list(feature.owners.all()) == []
