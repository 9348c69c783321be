"""Members with only an environment grant: they read the project's flags, and change none of it.

Any environment grant in a project implies read-only VIEW_PROJECT on that project
(``vexil.permissions.selectors.project_permissions``).
"""

from __future__ import annotations

import json

import pytest

from tests.permission_matrix.conftest import World, database_snapshot
from tests.permission_matrix.test_flags_matrix import add_flags_objects
from vexil.audit.services import Actor
from vexil.features.models import Feature
from vexil.permissions.keys import EnvironmentPermission, ProjectPermission
from vexil.permissions.selectors import project_permissions
from vexil.permissions.services import environment_grant_create
from vexil.projects.services import project_create


@pytest.fixture
def flags_world(world: World) -> World:
    return add_flags_objects(world)


@pytest.mark.parametrize("principal", ["env_viewer", "env_editor"])
def test_project_permissions__environment_grant_only__view_project_alone(
    world: World, principal: str
) -> None:
    assert project_permissions(world.users[principal], world.project) == frozenset(
        {ProjectPermission.VIEW_PROJECT}
    )


def test_project_permissions__grant_in_another_project__nothing(world: World) -> None:
    admin = world.users["org_admin"]
    second = project_create(organisation=world.organisation, name="Second", actor=Actor(user=admin))

    assert project_permissions(world.users["env_editor"], second) == frozenset()


def test_project_permissions__group_environment_grant__view_project(world: World) -> None:
    # Given "member" is in the group "Developers", which gets an environment grant
    environment_grant_create(
        environment=world.production,
        group=world.group,
        permissions=[EnvironmentPermission.VIEW_ENVIRONMENT],
        actor=Actor(user=world.users["org_admin"]),
    )

    assert project_permissions(world.users["member"], world.project) == frozenset(
        {ProjectPermission.VIEW_PROJECT}
    )


def test_my_permissions__env_viewer__view_project_only(world: World) -> None:
    response = world.clients["env_viewer"].get(
        f"/api/v1/projects/{world.project.pk}/my-permissions/"
    )

    assert response.status_code == 200
    assert response.json() == {"permissions": ["VIEW_PROJECT"], "admin": False}


def test_features_list__env_viewer_with_environment__sees_its_states(flags_world: World) -> None:
    w = flags_world
    url = f"/api/v1/projects/{w.project.pk}/features/?environment={w.environment.pk}"

    response = flags_world.clients["env_viewer"].get(url)

    assert response.status_code == 200
    body = response.json()
    assert [f["name"] for f in body["results"]] == ["banner", "spare"]
    assert body["results"][0]["environment_feature_state"]["feature_state_value"] == "hello"


def test_features_list__env_viewer_names_environment_without_grant__400(
    flags_world: World,
) -> None:
    w = flags_world
    url = f"/api/v1/projects/{w.project.pk}/features/?environment={w.production.pk}"

    response = flags_world.clients["env_viewer"].get(url)

    assert response.status_code == 400


WRITES = [
    ("POST", "features/", {"name": "sneaky"}),
    ("PATCH", "features/{feature}/", {"description": "changed"}),
    ("PUT", "features/{feature}/", {"name": "banner", "description": "changed"}),
    ("DELETE", "features/{feature}/", None),
    ("POST", "features/{feature}/mv-options/", {"value": "b", "default_percentage_allocation": 5}),
    ("POST", "segments/", {"name": "sneaky", "rules": []}),
    ("PATCH", "segments/{segment}/", {"name": "renamed"}),
    ("DELETE", "segments/{segment}/", None),
    ("POST", "tags/", {"label": "sneaky"}),
]


@pytest.mark.parametrize("principal", ["env_viewer", "env_editor"])
@pytest.mark.parametrize(("method", "path", "body"), WRITES)
def test_project_writes__environment_member__403_nothing_changed(
    flags_world: World, principal: str, method: str, path: str, body: dict | None
) -> None:
    w = flags_world
    url = f"/api/v1/projects/{w.project.pk}/" + path.format(
        feature=Feature.objects.get(project=w.project, name="banner").pk,
        segment=w.project.segments.get(name="vip").pk,
    )
    before = database_snapshot()

    response = w.clients[principal].generic(
        method,
        url,
        data="" if body is None else json.dumps(body),
        content_type="application/json",
    )

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert database_snapshot() == before
