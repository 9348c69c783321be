"""Rows of the permission matrix for the flags half of the management API.

The world gains, through the services, a feature with an MV option, a segment, a segment override,
a second (stateless) override slot, an identity with a trait and an override (alice), a second
identity (carol), a tag and a server-side key, all in
Acme / Web shop / Development.
"""

from __future__ import annotations

import pytest

from tests.permission_matrix.conftest import Case, World, expect, run_case
from vexil.audit.services import Actor
from vexil.environments.models import EnvironmentAPIKey
from vexil.environments.services import environment_api_key_create
from vexil.features.models import Feature, FeatureSegment, FeatureState, MultivariateFeatureOption
from vexil.features.services import (
    OptionSpec,
    feature_create,
    feature_segment_create,
    identity_override_create,
    segment_override_create,
)
from vexil.identities.models import Identity, Trait
from vexil.identities.services import identity_create, trait_create
from vexil.segments.models import Segment
from vexil.segments.services import segment_create
from vexil.tags.models import Tag
from vexil.tags.services import tag_create


def add_flags_objects(world: World) -> World:
    """Give ``world`` the flags objects this module's rows act on (see the module docstring)."""
    actor = Actor(user=world.users["org_admin"])
    feature = feature_create(
        project=world.project,
        name="banner",
        initial_value="hello",
        multivariate_options=[OptionSpec("a", 10)],
        actor=actor,
    )
    feature_create(project=world.project, name="spare", actor=actor)
    segment = segment_create(
        project=world.project,
        name="vip",
        rules=[
            {
                "type": "ALL",
                "conditions": [{"operator": "EQUAL", "property": "plan", "value": "vip"}],
            }
        ],
        actor=actor,
    )
    spare_segment = segment_create(project=world.project, name="spare", actor=actor)
    segment_override_create(
        feature=feature, segment=segment, environment=world.environment, actor=actor
    )
    feature_segment_create(
        feature=Feature.objects.get(name="spare"),
        segment=spare_segment,
        environment=world.environment,
        actor=actor,
    )
    identity = identity_create(environment=world.environment, identifier="alice", actor=actor)
    identity_create(environment=world.environment, identifier="carol", actor=actor)
    trait_create(identity=identity, trait_key="plan", value="vip", actor=actor)
    identity_override_create(
        feature=feature, identity_id=identity.pk, environment=world.environment, actor=actor
    )
    tag_create(project=world.project, label="backend", actor=actor)
    environment_api_key_create(environment=world.environment, name="server", actor=actor)
    return world


@pytest.fixture
def flags_world(world: World) -> World:
    return add_flags_objects(world)


MEMBERS_404 = {"other_org_user": 404, "member": 404}


def project_level(status: int) -> dict[str, int]:
    """Project permission needed: environment-only members see the project but may not act."""
    return expect(**MEMBERS_404, env_viewer=403, env_editor=403, project_admin=status,
                  org_admin=status, master_key=status)  # fmt: skip


def project_readers(status: int) -> dict[str, int]:
    """Reads of project resources: any environment grant in the project implies VIEW_PROJECT."""
    return expect(**MEMBERS_404, env_viewer=status, env_editor=status, project_admin=status,
                  org_admin=status, master_key=status)  # fmt: skip


def env_admin(status: int) -> dict[str, int]:
    return project_level(status)


def env_viewers(status: int) -> dict[str, int]:
    return expect(**MEMBERS_404, env_viewer=status, env_editor=status, project_admin=status,
                  org_admin=status, master_key=status)  # fmt: skip


def env_editors(status: int, outsiders: int = 404) -> dict[str, int]:
    return expect(other_org_user=outsiders, member=outsiders, env_viewer=403, env_editor=status,
                  project_admin=status, org_admin=status, master_key=status)  # fmt: skip


def everyone(status: int) -> dict[str, int]:
    return expect(**dict.fromkeys(
        ("other_org_user", "member", "env_viewer", "env_editor", "project_admin", "org_admin",
         "master_key"), status))  # fmt: skip


def env(w: World) -> str:
    return f"/api/v1/environments/{w.environment.api_key}"


def features(w: World) -> str:
    return f"/api/v1/projects/{w.project.pk}/features/"


def banner(w: World) -> Feature:
    return Feature.objects.get(project=w.project, name="banner")


def default_state(w: World) -> int:
    return FeatureState.objects.get(
        feature=banner(w), environment=w.environment, identity=None, feature_segment=None
    ).pk


def override_slot(w: World) -> FeatureSegment:
    return FeatureSegment.objects.get(feature=banner(w), environment=w.environment)


def spare_slot(w: World) -> FeatureSegment:
    return FeatureSegment.objects.get(feature__name="spare", environment=w.environment)


def server_key(w: World) -> str:
    key = EnvironmentAPIKey.objects.get(environment=w.environment)
    return f"{env(w)}/api-keys/{key.pk}/"


def alice(w: World) -> Identity:
    return Identity.objects.get(environment=w.environment, identifier="alice")


def segment_id(w: World, name: str = "vip") -> int:
    return Segment.objects.get(project=w.project, name=name).pk


ENVIRONMENTS = [
    Case("environments list", "GET", lambda w: f"/api/v1/environments/?project={w.project.pk}",
         expected=everyone(200)),
    Case("environment retrieve", "GET", lambda w: f"{env(w)}/", expected=env_viewers(200)),
    Case("environment create", "POST", lambda w: "/api/v1/environments/",
         body=lambda w: {"name": "Staging", "project": w.project.pk},
         expected=expect(other_org_user=400, member=400, env_viewer=403, env_editor=403,
                         project_admin=201, org_admin=201, master_key=201)),
    Case("environment update", "PATCH", lambda w: f"{env(w)}/", body=lambda w: {"name": "Dev"},
         expected=env_admin(200)),
    Case("environment delete", "DELETE", lambda w: f"{env(w)}/", expected=env_admin(204)),
    Case("environment clone", "POST", lambda w: f"{env(w)}/clone/",
         body=lambda w: {"name": "Copy"}, expected=env_admin(201)),
    Case("server keys list", "GET", lambda w: f"{env(w)}/api-keys/", expected=env_admin(200)),
    Case("server key create", "POST", lambda w: f"{env(w)}/api-keys/",
         body=lambda w: {"name": "another"}, expected=env_admin(201)),
    Case("server key update", "PATCH",
         server_key,
         body=lambda w: {"active": False}, expected=env_admin(200)),
    Case("server key delete", "DELETE",
         server_key,
         expected=env_admin(204)),
]  # fmt: skip

FEATURES = [
    Case("features list", "GET", features, expected=project_readers(200)),
    Case("features list with states", "GET",
         lambda w: f"{features(w)}?environment={w.environment.pk}", expected=project_readers(200)),
    Case("feature retrieve", "GET", lambda w: f"{features(w)}{banner(w).pk}/",
         expected=project_readers(200)),
    Case("mv options list", "GET", lambda w: f"{features(w)}{banner(w).pk}/mv-options/",
         expected=project_readers(200)),
    Case("feature create", "POST", features, body=lambda w: {"name": "new_flag"},
         expected=project_level(201)),
    Case("feature update", "PATCH", lambda w: f"{features(w)}{banner(w).pk}/",
         body=lambda w: {"description": "x"}, expected=project_level(200)),
    Case("feature delete", "DELETE", lambda w: f"{features(w)}{banner(w).pk}/",
         expected=project_level(204)),
    Case("feature add owners", "POST", lambda w: f"{features(w)}{banner(w).pk}/add-owners/",
         body=lambda w: {"user_ids": [w.users["env_editor"].pk]}, expected=project_level(200)),
    Case("feature remove owners", "POST",
         lambda w: f"{features(w)}{banner(w).pk}/remove-owners/",
         body=lambda w: {"user_ids": [w.users["env_editor"].pk]}, expected=project_level(200)),
    Case("mv option create", "POST", lambda w: f"{features(w)}{banner(w).pk}/mv-options/",
         body=lambda w: {"value": "b", "default_percentage_allocation": 5},
         expected=project_level(201)),
    Case("mv option update", "PATCH",
         lambda w: f"{features(w)}{banner(w).pk}/mv-options/"
         f"{MultivariateFeatureOption.objects.get(feature=banner(w)).pk}/",
         body=lambda w: {"default_percentage_allocation": 5}, expected=project_level(200)),
    Case("mv option delete", "DELETE",
         lambda w: f"{features(w)}{banner(w).pk}/mv-options/"
         f"{MultivariateFeatureOption.objects.get(feature=banner(w)).pk}/",
         expected=project_level(204)),
]  # fmt: skip

FEATURE_STATES = [
    Case("env feature states list", "GET", lambda w: f"{env(w)}/featurestates/",
         expected=env_viewers(200)),
    Case("env feature state update", "PATCH",
         lambda w: f"{env(w)}/featurestates/{default_state(w)}/",
         body=lambda w: {"enabled": True, "feature_state_value": 3}, expected=env_editors(200)),
    Case("generic feature state update", "PATCH",
         lambda w: f"/api/v1/features/featurestates/{default_state(w)}/",
         body=lambda w: {"enabled": True}, expected=env_editors(200)),
    Case("segment override state create", "POST", lambda w: "/api/v1/features/featurestates/",
         body=lambda w: {"feature": spare_slot(w).feature_id, "environment": w.environment.pk,
                         "feature_segment": spare_slot(w).pk, "enabled": True},
         expected=env_editors(201, outsiders=400)),
    Case("segment override state delete", "DELETE",
         lambda w: f"/api/v1/features/featurestates/"
         f"{FeatureState.objects.get(feature_segment=override_slot(w)).pk}/",
         expected=env_editors(204)),
]  # fmt: skip

SEGMENT_OVERRIDES = [
    Case("feature segments list", "GET",
         lambda w: f"/api/v1/features/feature-segments/?environment={w.environment.pk}",
         expected=everyone(200)),
    Case("feature segment create", "POST", lambda w: "/api/v1/features/feature-segments/",
         body=lambda w: {"feature": banner(w).pk, "segment": segment_id(w, "spare"),
                         "environment": w.environment.pk},
         expected=env_editors(201, outsiders=400)),
    Case("feature segment delete", "DELETE",
         lambda w: f"/api/v1/features/feature-segments/{override_slot(w).pk}/",
         expected=env_editors(204)),
    Case("feature segments update priorities", "POST",
         lambda w: "/api/v1/features/feature-segments/update-priorities/",
         body=lambda w: [{"id": override_slot(w).pk, "priority": 0}],
         expected=env_editors(200, outsiders=400)),
    Case("create segment override", "POST",
         lambda w: f"{env(w)}/features/{banner(w).pk}/create-segment-override/",
         body=lambda w: {"segment": segment_id(w, "spare"), "enabled": True},
         expected=env_editors(201)),
]  # fmt: skip

SEGMENTS = [
    Case("segments list", "GET", lambda w: f"/api/v1/projects/{w.project.pk}/segments/",
         expected=project_readers(200)),
    Case("segment retrieve", "GET",
         lambda w: f"/api/v1/projects/{w.project.pk}/segments/{segment_id(w)}/",
         expected=project_readers(200)),
    Case("segment create", "POST", lambda w: f"/api/v1/projects/{w.project.pk}/segments/",
         body=lambda w: {"name": "new", "rules": [{"type": "ALL", "conditions": []}]},
         expected=project_level(201)),
    Case("segment update", "PATCH",
         lambda w: f"/api/v1/projects/{w.project.pk}/segments/{segment_id(w)}/",
         body=lambda w: {"name": "renamed"}, expected=project_level(200)),
    Case("segment clone", "POST",
         lambda w: f"/api/v1/projects/{w.project.pk}/segments/{segment_id(w)}/clone/",
         body=lambda w: {"name": "vip copy"}, expected=project_level(201)),
    Case("segment associated features", "GET",
         lambda w: f"/api/v1/projects/{w.project.pk}/segments/{segment_id(w)}/associated-features/",
         expected=project_readers(200)),
    Case("segment delete", "DELETE",
         lambda w: f"/api/v1/projects/{w.project.pk}/segments/{segment_id(w)}/",
         expected=project_level(204)),
]  # fmt: skip

IDENTITIES = [
    Case("identities list", "GET", lambda w: f"{env(w)}/identities/", expected=env_editors(200)),
    Case("identity create", "POST", lambda w: f"{env(w)}/identities/",
         body=lambda w: {"identifier": "bob"}, expected=env_editors(201)),
    Case("identity delete", "DELETE", lambda w: f"{env(w)}/identities/{alice(w).pk}/",
         expected=env_editors(204)),
    Case("identity overrides list", "GET",
         lambda w: f"{env(w)}/identities/{alice(w).pk}/featurestates/", expected=env_editors(200)),
    Case("identity override create", "POST",
         lambda w: f"{env(w)}/identities/{alice(w).pk}/featurestates/",
         body=lambda w: {"feature": Feature.objects.get(name="spare").pk, "enabled": True},
         expected=env_editors(201)),
    Case("identity override update", "PATCH",
         lambda w: f"{env(w)}/identities/{alice(w).pk}/featurestates/"
         f"{FeatureState.objects.get(identity=alice(w)).pk}/",
         body=lambda w: {"enabled": True}, expected=env_editors(200)),
    Case("identity overrides clone from identity", "POST",
         lambda w: f"{env(w)}/identities/"
         f"{Identity.objects.get(environment=w.environment, identifier='carol').pk}"
         "/featurestates/clone-from-given-identity/",
         body=lambda w: {"source_identity_id": alice(w).pk}, expected=env_editors(200)),
    Case("trait keys", "GET", lambda w: f"{env(w)}/trait-keys/", expected=env_editors(200)),
    Case("delete traits", "POST", lambda w: f"{env(w)}/delete-traits/",
         body=lambda w: {"key": "plan"}, expected=env_editors(200)),
    Case("traits list", "GET", lambda w: f"{env(w)}/identities/{alice(w).pk}/traits/",
         expected=env_editors(200)),
    Case("trait create", "POST", lambda w: f"{env(w)}/identities/{alice(w).pk}/traits/",
         body=lambda w: {"trait_key": "age", "trait_value": 30}, expected=env_editors(201)),
    Case("trait delete", "DELETE",
         lambda w: f"{env(w)}/identities/{alice(w).pk}/traits/"
         f"{Trait.objects.get(identity=alice(w)).pk}/",
         expected=env_editors(204)),
]  # fmt: skip

TAGS = [
    Case("tags list", "GET", lambda w: f"/api/v1/projects/{w.project.pk}/tags/",
         expected=project_readers(200)),
    Case("tag create", "POST", lambda w: f"/api/v1/projects/{w.project.pk}/tags/",
         body=lambda w: {"label": "frontend"}, expected=project_level(201)),
    Case("tag update", "PATCH",
         lambda w: f"/api/v1/projects/{w.project.pk}/tags/{Tag.objects.get(label='backend').pk}/",
         body=lambda w: {"label": "back"}, expected=project_level(200)),
    Case("tag delete", "DELETE",
         lambda w: f"/api/v1/projects/{w.project.pk}/tags/{Tag.objects.get(label='backend').pk}/",
         expected=project_level(204)),
]  # fmt: skip

CASES = ENVIRONMENTS + FEATURES + FEATURE_STATES + SEGMENT_OVERRIDES + SEGMENTS + IDENTITIES + TAGS


@pytest.mark.parametrize("case", CASES, ids=str)
def test_flags_endpoints__each_principal__expected_status(flags_world: World, case: Case) -> None:
    run_case(flags_world, case)
