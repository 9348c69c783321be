"""Project settings, groups, and the permission pages of a project and an environment.

The rules are the management API's: each write is replayed by every role of the permission
matrix (``tests/permission_matrix``), and a refused one changes nothing, audit log included.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.permission_matrix.conftest import World, build_world, database_snapshot
from vexil.audit.models import AuditLog
from vexil.audit.services import Actor
from vexil.organisations.models import OrganisationRole, UserGroup
from vexil.organisations.services import organisation_member_add, user_group_create
from vexil.permissions.keys import ProjectPermission
from vexil.permissions.models import EnvironmentGrant, ProjectGrant
from vexil.permissions.services import project_grant_create
from vexil.projects.models import Project
from vexil.users.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(db: None) -> World:
    """The permission matrix's two organisations and roles (see its conftest)."""
    return build_world()


ROLES = ("other_org_user", "member", "env_viewer", "env_editor", "project_admin", "org_admin")


def _client(world: World, role: str) -> Client:
    client = Client()
    client.force_login(world.users[role])
    return client


def _project_url(world: World, rest: str = "") -> str:
    return f"/projects/{world.project.pk}/{rest}"


def _environment_url(world: World, rest: str = "") -> str:
    return _project_url(world, f"environments/{world.environment.api_key}/{rest}")


def _groups_url(world: World, rest: str = "") -> str:
    return f"/organisations/{world.organisation.pk}/groups/{rest}"


# --- Every role replays every write ---------------------------------------------------------------


@dataclass(frozen=True)
class Write:
    name: str
    url: Callable[[World], str]
    data: Callable[[World], dict[str, Any]]
    expected: dict[str, int]

    def __str__(self) -> str:
        return self.name


def _roles(**statuses: int) -> dict[str, int]:
    assert set(statuses) == set(ROLES)
    return statuses


PROJECT_ADMINS = _roles(
    other_org_user=404, member=404, env_viewer=403, env_editor=403, project_admin=302, org_admin=302
)
ENVIRONMENT_ADMINS = PROJECT_ADMINS
GROUP_MANAGERS = _roles(
    other_org_user=404, member=403, env_viewer=403, env_editor=403, project_admin=403, org_admin=302
)

WRITES = [
    Write(
        "project settings",
        lambda w: _project_url(w, "settings/save/"),
        lambda w: {"name": "Renamed", "stale_flags_limit_days": "7"},
        PROJECT_ADMINS,
    ),
    Write(
        "project delete",
        lambda w: _project_url(w, "delete/"),
        lambda w: {"confirm": "Web shop"},
        PROJECT_ADMINS,
    ),
    Write(
        "project grant",
        lambda w: _project_url(w, "permissions/add/"),
        lambda w: {"new-grantee": f"group:{w.group.pk}", "new-permissions": ["VIEW_PROJECT"]},
        PROJECT_ADMINS,
    ),
    Write(
        "project grant change",
        lambda w: _project_url(w, f"permissions/{_project_grant(w).pk}/"),
        lambda w: {f"grant-{_project_grant(w).pk}-admin": ""},
        PROJECT_ADMINS,
    ),
    Write(
        "project grant removal",
        lambda w: _project_url(w, f"permissions/{_project_grant(w).pk}/remove/"),
        lambda w: {},
        PROJECT_ADMINS,
    ),
    Write(
        "environment grant",
        lambda w: _environment_url(w, "permissions/add/"),
        lambda w: {"new-grantee": f"user:{w.users['member'].pk}", "new-admin": "on"},
        ENVIRONMENT_ADMINS,
    ),
    Write(
        "environment grant removal",
        lambda w: _environment_url(w, f"permissions/{_viewer_grant(w).pk}/remove/"),
        lambda w: {},
        ENVIRONMENT_ADMINS,
    ),
    Write(
        "group create", lambda w: _groups_url(w, "new/"), lambda w: {"name": "Ops"}, GROUP_MANAGERS
    ),
    Write(
        "group rename",
        lambda w: _groups_url(w, f"{w.group.pk}/rename/"),
        lambda w: {"group-name": "Devs"},
        GROUP_MANAGERS,
    ),
    Write(
        "group member add",
        lambda w: _groups_url(w, f"{w.group.pk}/members/"),
        lambda w: {"member-user": str(w.users["env_viewer"].pk)},
        GROUP_MANAGERS,
    ),
    Write(
        "group member remove",
        lambda w: _groups_url(w, f"{w.group.pk}/members/{w.users['member'].pk}/remove/"),
        lambda w: {},
        GROUP_MANAGERS,
    ),
    Write(
        "group delete",
        lambda w: _groups_url(w, f"{w.group.pk}/delete/"),
        lambda w: {"confirm": "Developers"},
        GROUP_MANAGERS,
    ),
]


def _project_grant(world: World) -> ProjectGrant:
    return ProjectGrant.objects.get(project=world.project, user=world.users["project_admin"])


def _viewer_grant(world: World) -> EnvironmentGrant:
    return EnvironmentGrant.objects.get(
        environment=world.environment, user=world.users["env_viewer"]
    )


class _RollbackError(Exception):
    pass


@pytest.mark.parametrize("write", WRITES, ids=str)
def test_write__replayed_by_every_role__only_admins_change_anything(
    world: World, write: Write
) -> None:
    outcomes = {}
    for role in ROLES:
        client = _client(world, role)
        before = database_snapshot()
        try:
            with transaction.atomic():
                response = client.post(write.url(world), write.data(world))
                changed = database_snapshot() != before
                raise _RollbackError
        except _RollbackError:
            pass
        outcomes[role] = (response.status_code, changed)

    assert outcomes == {role: (status, status == 302) for role, status in write.expected.items()}


@pytest.mark.parametrize(
    ("url", "admins"),
    [
        (lambda w: _project_url(w, "settings/"), "project_admin"),
        (lambda w: _project_url(w, "permissions/"), "project_admin"),
        (lambda w: _environment_url(w, "permissions/"), "project_admin"),
        (lambda w: _groups_url(w, f"{w.group.pk}/delete/"), "org_admin"),
    ],
)
def test_admin_pages__others_refused(
    world: World, url: Callable[[World], str], admins: str
) -> None:
    allowed = {"org_admin", admins}
    statuses = {role: _client(world, role).get(url(world)).status_code for role in ROLES}

    assert {role for role, status in statuses.items() if status == 200} == allowed
    assert statuses["other_org_user"] == 404


def test_groups_page__members_see_their_groups_without_controls(world: World) -> None:
    member = _client(world, "member").get(_groups_url(world)).content.decode()
    outsider = _client(world, "env_viewer").get(_groups_url(world)).content.decode()
    admin = _client(world, "org_admin").get(_groups_url(world)).content.decode()

    assert "Developers" in member
    assert "Create group" not in member
    assert "Developers" not in outsider
    assert "Create group" in admin


# --- Project settings -----------------------------------------------------------------------------


def test_project_settings__saved_audited_and_documents_move(
    world: World,
) -> None:
    client = _client(world, "project_admin")
    revision = world.environment.revision

    response = client.post(
        _project_url(world, "settings/save/"),
        {"name": "Web shop", "hide_disabled_flags": "on", "stale_flags_limit_days": "14"},
    )

    project = Project.objects.get(pk=world.project.pk)
    world.environment.refresh_from_db()
    assert response.status_code == 302
    assert (project.hide_disabled_flags, project.stale_flags_limit_days) == (True, 14)
    assert world.environment.revision > revision
    entry = AuditLog.objects.filter(resource_type="project").latest("id")
    assert entry.author_id == world.users["project_admin"].pk
    assert entry.before is not None
    assert entry.after is not None
    assert (entry.before["hide_disabled_flags"], entry.after["hide_disabled_flags"]) == (
        False,
        True,
    )


def test_project_settings__bad_regex__inline_error_input_kept_nothing_saved(world: World) -> None:
    response = _client(world, "org_admin").post(
        _project_url(world, "settings/save/"),
        {"name": "Renamed", "feature_name_regex": "([a-z", "stale_flags_limit_days": "30"},
    )

    body = response.content.decode()
    assert response.status_code == 400
    assert "Not a valid regular expression" in body
    assert 'value="([a-z"' in body
    assert Project.objects.get(pk=world.project.pk).name == "Web shop"


def test_project_delete__wrong_name_refused_right_name_deletes(world: World) -> None:
    client = _client(world, "org_admin")

    wrong = client.post(_project_url(world, "delete/"), {"confirm": "web shop"})
    kept = Project.objects.filter(pk=world.project.pk).exists()
    right = client.post(_project_url(world, "delete/"), {"confirm": "Web shop"})

    assert wrong.status_code == 400
    assert kept
    assert right.status_code == 302
    assert right["Location"] == f"/organisations/{world.organisation.pk}/"
    assert not Project.objects.filter(pk=world.project.pk).exists()


# --- Grants ---------------------------------------------------------------------------------------


def test_project_grant__given_changed_removed_and_audited(world: World) -> None:
    client = _client(world, "project_admin")
    member = world.users["member"]

    given = client.post(
        _project_url(world, "permissions/add/"),
        {"new-grantee": f"user:{member.pk}", "new-permissions": ["VIEW_PROJECT", "CREATE_FEATURE"]},
    )
    grant = ProjectGrant.objects.get(project=world.project, user=member)
    keys_given = sorted(grant.permissions)
    page = client.get(_project_url(world, "permissions/")).content.decode()
    changed = client.post(
        _project_url(world, f"permissions/{grant.pk}/"),
        {f"grant-{grant.pk}-admin": "on", f"grant-{grant.pk}-permissions": ["VIEW_PROJECT"]},
    )
    grant.refresh_from_db()
    removed = client.post(_project_url(world, f"permissions/{grant.pk}/remove/"))

    assert [given.status_code, changed.status_code, removed.status_code] == [302, 302, 302]
    assert keys_given == ["CREATE_FEATURE", "VIEW_PROJECT"]
    assert "Permissions of member@acme.test" in page
    assert (grant.admin, grant.permissions) == (True, ["VIEW_PROJECT"])
    assert not ProjectGrant.objects.filter(pk=grant.pk).exists()
    actions = list(
        AuditLog.objects.filter(resource_type="project_grant", resource_id=str(grant.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["CREATE", "UPDATE", "DELETE"]


def test_environment_grant__to_a_group__member_gets_the_permission(world: World) -> None:
    client = _client(world, "org_admin")

    response = client.post(
        _environment_url(world, "permissions/add/"),
        {
            "new-grantee": f"group:{world.group.pk}",
            "new-permissions": ["VIEW_ENVIRONMENT", "UPDATE_FEATURE_STATE"],
        },
    )
    member_page = _client(world, "member").get(_environment_url(world, "features/"))

    assert response.status_code == 302
    grant = EnvironmentGrant.objects.get(environment=world.environment, group=world.group)
    assert sorted(grant.permissions) == ["UPDATE_FEATURE_STATE", "VIEW_ENVIRONMENT"]
    assert member_page.status_code == 200


def test_grant__unknown_key_or_grantee__refused_inline_nothing_saved(world: World) -> None:
    client = _client(world, "org_admin")
    rival = world.users["other_org_user"]
    before = database_snapshot()

    unknown_key = client.post(
        _project_url(world, "permissions/add/"),
        {"new-grantee": f"group:{world.group.pk}", "new-permissions": ["DROP_TABLES"]},
    )
    outsider = client.post(
        _project_url(world, "permissions/add/"), {"new-grantee": f"user:{rival.pk}"}
    )
    granted_already = client.post(
        _environment_url(world, "permissions/add/"),
        {"new-grantee": f"user:{world.users['env_viewer'].pk}"},
    )

    assert [unknown_key.status_code, outsider.status_code, granted_already.status_code] == [
        400,
        400,
        400,
    ]
    assert "DROP_TABLES is not one of the available choices" in unknown_key.content.decode()
    assert database_snapshot() == before


def test_grant_of_another_project__not_found(world: World) -> None:
    grant = ProjectGrant.objects.get(project=world.project, user=world.users["project_admin"])
    other = Project.objects.create(organisation=world.organisation, name="Other")
    response = _client(world, "org_admin").post(
        f"/projects/{other.pk}/permissions/{grant.pk}/remove/"
    )

    assert response.status_code == 404
    assert ProjectGrant.objects.filter(pk=grant.pk).exists()


def _add_grants(world: World, count: int, start: int) -> None:
    actor = Actor(user=world.users["org_admin"])
    for number in range(start, start + count):
        user = User.objects.create_user(email=f"user{number}@acme.test", password=None)
        organisation_member_add(
            organisation=world.organisation, user=user, role=OrganisationRole.USER, actor=actor
        )
        group = user_group_create(
            organisation=world.organisation, name=f"Group {number}", actor=actor
        )
        project_grant_create(
            project=world.project,
            user=user,
            permissions=[ProjectPermission.VIEW_PROJECT],
            actor=actor,
        )
        project_grant_create(project=world.project, group=group, admin=True, actor=actor)


def _queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def test_permissions_and_groups_pages__queries_do_not_grow_with_rows(world: World) -> None:
    client = _client(world, "org_admin")
    urls = [
        _project_url(world, "permissions/"),
        _groups_url(world),
        _groups_url(world, f"{world.group.pk}/"),
    ]
    _add_grants(world, 3, 0)
    for url in urls:  # a session's first request does its own one-off bookkeeping
        client.get(url)
    few = [_queries(client, url) for url in urls]
    _add_grants(world, 12, 3)
    UserGroup.objects.get(pk=world.group.pk).users.add(
        *User.objects.filter(email__startswith="user")
    )
    many = [_queries(client, url) for url in urls]

    assert few == many


# --- Groups ---------------------------------------------------------------------------------------


def test_group__created_renamed_members_changed_deleted(world: World) -> None:
    client = _client(world, "org_admin")
    viewer = world.users["env_viewer"]

    created = client.post(_groups_url(world, "new/"), {"name": "Ops"})
    group = UserGroup.objects.get(organisation=world.organisation, name="Ops")
    clash = client.post(_groups_url(world, f"{group.pk}/rename/"), {"group-name": "developers"})
    renamed = client.post(_groups_url(world, f"{group.pk}/rename/"), {"group-name": "Operations"})
    added = client.post(_groups_url(world, f"{group.pk}/members/"), {"member-user": str(viewer.pk)})
    members_after_add = list(group.users.values_list("email", flat=True))
    removed = client.post(_groups_url(world, f"{group.pk}/members/{viewer.pk}/remove/"))
    members_after_remove = list(group.users.values_list("email", flat=True))
    deleted = client.post(_groups_url(world, f"{group.pk}/delete/"), {"confirm": "Operations"})

    assert created.status_code == 302
    assert created["Location"] == _groups_url(world, f"{group.pk}/")
    assert clash.status_code == 400
    assert "A group with this name already exists." in clash.content.decode()
    assert [renamed.status_code, added.status_code, removed.status_code] == [302, 302, 302]
    assert members_after_add == ["env-viewer@acme.test"]
    assert members_after_remove == []
    assert deleted.status_code == 302
    assert not UserGroup.objects.filter(pk=group.pk).exists()
    assert (
        AuditLog.objects.filter(resource_type="user_group", resource_id=str(group.pk)).count() == 5
    )


def test_group_member_add__not_a_member_of_the_organisation__refused(world: World) -> None:
    rival = world.users["other_org_user"]

    response = _client(world, "org_admin").post(
        _groups_url(world, f"{world.group.pk}/members/"), {"member-user": str(rival.pk)}
    )

    assert response.status_code == 400
    assert not world.group.users.filter(pk=rival.pk).exists()
