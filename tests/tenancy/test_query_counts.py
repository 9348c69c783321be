"""List endpoints cost the same number of queries for 1 row as for many."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.permission_matrix.conftest import World
from vexil.audit.services import Actor
from vexil.organisations.models import OrganisationRole
from vexil.organisations.services import (
    organisation_create,
    organisation_member_add,
    user_group_create,
)
from vexil.permissions.services import environment_grant_create, project_grant_create
from vexil.projects.services import project_create
from vexil.users.models import User


def _queries(world: World, url: str) -> int:
    client = world.clients["org_admin"]
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(captured)


def _more_members(world: World, count: int) -> list[User]:
    users = []
    for index in range(count):
        user = User.objects.create_user(email=f"extra{index}@acme.test")
        organisation_member_add(
            organisation=world.organisation,
            user=user,
            role=OrganisationRole.USER,
            actor=Actor(),
        )
        users.append(user)
    return users


def _grow_organisations(world: World) -> None:
    for index in range(5):
        organisation_create(name=f"Extra {index}", creator=world.users["org_admin"], actor=Actor())


def _grow_projects(world: World) -> None:
    for index in range(5):
        project_create(organisation=world.organisation, name=f"P{index}", actor=Actor())


def _grow_groups(world: World) -> None:
    users = _more_members(world, 3)
    for index in range(5):
        user_group_create(
            organisation=world.organisation,
            name=f"G{index}",
            user_ids=[u.pk for u in users],
            actor=Actor(),
        )


def _grow_project_grants(world: World) -> None:
    for user in _more_members(world, 5):
        project_grant_create(
            project=world.project, user=user, permissions=["VIEW_PROJECT"], actor=Actor()
        )


def _grow_environment_grants(world: World) -> None:
    for user in _more_members(world, 5):
        environment_grant_create(
            environment=world.environment,
            user=user,
            permissions=["VIEW_ENVIRONMENT"],
            actor=Actor(),
        )


def _grow_audit(world: World) -> None:
    _more_members(world, 8)


LISTS: list[tuple[str, Callable[[World], str], Callable[[World], None]]] = [
    ("organisations", lambda w: "/api/v1/organisations/", _grow_organisations),
    ("projects", lambda w: "/api/v1/projects/", _grow_projects),
    ("members", lambda w: f"/api/v1/organisations/{w.organisation.pk}/users/", _grow_audit),
    ("groups", lambda w: f"/api/v1/organisations/{w.organisation.pk}/groups/", _grow_groups),
    (
        "project user grants",
        lambda w: f"/api/v1/projects/{w.project.pk}/user-permissions/",
        _grow_project_grants,
    ),
    (
        "environment user grants",
        lambda w: f"/api/v1/environments/{w.environment.api_key}/user-permissions/",
        _grow_environment_grants,
    ),
    ("audit", lambda w: "/api/v1/audit/?page_size=100", _grow_audit),
    (
        "organisation audit",
        lambda w: f"/api/v1/organisations/{w.organisation.pk}/audit/?page_size=100",
        _grow_audit,
    ),
]


@pytest.mark.parametrize(("name", "url", "grow"), LISTS, ids=[row[0] for row in LISTS])
def test_list__more_rows__same_query_count(world: World, name: str, url, grow) -> None:
    # Given
    few = _queries(world, url(world))
    grow(world)
    # When
    many = _queries(world, url(world))
    # Then
    assert many == few
