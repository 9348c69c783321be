"""Tenant isolation beyond status codes: what lists contain, and writes that try to reach out."""

from __future__ import annotations

from tests.permission_matrix.conftest import World
from vexil.audit.models import AuditLog
from vexil.organisations.models import Organisation, OrganisationMembership
from vexil.permissions.models import ProjectGrant
from vexil.projects.models import Project


def test_organisations_list__member__only_own_with_role(world: World) -> None:
    response = world.clients["member"].get("/api/v1/organisations/")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    assert [(o["name"], o["role"]) for o in body["results"]] == [("Acme", "USER")]


def test_projects_list__each_principal__only_visible(world: World) -> None:
    seen = {
        name: [p["name"] for p in client.get("/api/v1/projects/").json()]
        for name, client in world.clients.items()
        if name != "anonymous"
    }
    assert seen == {
        "other_org_user": ["Rival shop"],
        "member": [],
        "env_viewer": ["Web shop"],
        "env_editor": ["Web shop"],
        "project_admin": ["Web shop"],
        "org_admin": ["Web shop"],
        "master_key": ["Web shop"],
    }


def test_projects_filter__other_tenants_organisation__empty_list_no_data(world: World) -> None:
    url = f"/api/v1/projects/?organisation={world.other_organisation.pk}"
    response = world.clients["org_admin"].get(url)
    assert response.status_code == 200
    assert response.json() == []


def test_projects_filter__other_tenants_organisation__same_answer_as_unknown_id(
    world: World,
) -> None:
    client = world.clients["org_admin"]
    other = client.get(f"/api/v1/projects/?organisation={world.other_organisation.pk}")
    unknown = client.get("/api/v1/projects/?organisation=987654321")
    assert (other.status_code, other.json()) == (unknown.status_code, unknown.json())


def test_projects_filter__own_organisation__its_projects(world: World) -> None:
    response = world.clients["org_admin"].get(
        f"/api/v1/projects/?organisation={world.organisation.pk}"
    )
    assert response.status_code == 200
    assert [project["name"] for project in response.json()] == ["Web shop"]


def test_projects_filter__not_an_id__400(world: World) -> None:
    response = world.clients["org_admin"].get("/api/v1/projects/?organisation=1.5")
    assert response.status_code == 400
    assert "organisation" in response.json()


def test_project_update__organisation_in_body__ignored_not_moved(world: World) -> None:
    response = world.clients["org_admin"].patch(
        f"/api/v1/projects/{world.project.pk}/",
        {"organisation": world.other_organisation.pk, "name": "Moved?"},
        format="json",
    )
    assert response.status_code == 200
    project = Project.objects.get(pk=world.project.pk)
    assert (project.organisation_id, project.name) == (world.organisation.pk, "Moved?")


def test_organisation_update__read_only_fields__unchanged(world: World) -> None:
    response = world.clients["org_admin"].patch(
        f"/api/v1/organisations/{world.organisation.pk}/",
        {"persist_trait_data": False, "stop_serving_flags": True},
        format="json",
    )
    assert response.status_code == 200
    organisation = Organisation.objects.get(pk=world.organisation.pk)
    assert (organisation.persist_trait_data, organisation.stop_serving_flags) == (True, False)


def test_grant_create__other_tenants_user__400_nothing_created(world: World) -> None:
    before = ProjectGrant.objects.count()
    response = world.clients["org_admin"].post(
        f"/api/v1/projects/{world.project.pk}/user-permissions/",
        {"user": world.users["other_org_user"].pk, "permissions": ["VIEW_PROJECT"]},
        format="json",
    )
    assert response.status_code == 400
    assert "user" in response.json()
    assert ProjectGrant.objects.count() == before


def test_grant_create__other_tenants_group__400(world: World) -> None:
    response = world.clients["org_admin"].post(
        f"/api/v1/projects/{world.project.pk}/user-group-permissions/",
        {"group": world.other_group.pk, "permissions": ["VIEW_PROJECT"]},
        format="json",
    )
    assert response.status_code == 400
    assert "group" in response.json()


def test_grant_create__unknown_permission_key__400(world: World) -> None:
    response = world.clients["org_admin"].post(
        f"/api/v1/environments/{world.environment.api_key}/user-permissions/",
        {"user": world.users["member"].pk, "permissions": ["VIEW_PROJECT"]},
        format="json",
    )
    assert response.status_code == 400
    assert "permissions" in response.json()


def test_grant_update__user_in_body__grantee_unchanged(world: World) -> None:
    grant = ProjectGrant.objects.get(user=world.users["project_admin"])
    response = world.clients["org_admin"].patch(
        f"/api/v1/projects/{world.project.pk}/user-permissions/{grant.pk}/",
        {"user": world.users["member"].pk, "admin": False},
        format="json",
    )
    assert response.status_code == 200
    grant.refresh_from_db()
    assert (grant.user_id, grant.admin) == (world.users["project_admin"].pk, False)


def test_group_add_users__other_tenants_user__400(world: World) -> None:
    response = world.clients["org_admin"].post(
        f"/api/v1/organisations/{world.organisation.pk}/groups/{world.group.pk}/add-users/",
        {"user_ids": [world.users["other_org_user"].pk]},
        format="json",
    )
    assert response.status_code == 400
    assert not world.group.users.filter(pk=world.users["other_org_user"].pk).exists()


def test_update_role__last_admin_demoted__400_unchanged(world: World) -> None:
    admin = world.users["org_admin"]
    response = world.clients["org_admin"].post(
        f"/api/v1/organisations/{world.organisation.pk}/users/{admin.pk}/update-role/",
        {"role": "USER"},
        format="json",
    )
    assert response.status_code == 400
    membership = OrganisationMembership.objects.get(user=admin, organisation=world.organisation)
    assert membership.role == "ADMIN"


def test_remove_users__member__grants_and_groups_go_too(world: World) -> None:
    # Given
    viewer = world.users["env_viewer"]
    # When
    response = world.clients["org_admin"].post(
        f"/api/v1/organisations/{world.organisation.pk}/remove-users/",
        [{"id": viewer.pk}],
        format="json",
    )
    # Then
    assert response.status_code == 204
    assert not OrganisationMembership.objects.filter(user=viewer).exists()
    assert world.clients["env_viewer"].get("/api/v1/projects/").json() == []


def test_audit_list__project_admin__only_their_projects_rows(world: World) -> None:
    response = world.clients["project_admin"].get("/api/v1/audit/?page_size=100")
    rows = response.json()["results"]
    assert rows
    assert {row["project"] for row in rows} == {world.project.pk}


def test_audit_list__filters__narrow_rows(world: World) -> None:
    client = world.clients["org_admin"]
    searched = client.get("/api/v1/audit/?search=Developers").json()["results"]
    assert [row["log"] for row in searched] == ["Group 'Developers' created"]
    by_env = client.get(f"/api/v1/audit/?environments={world.environment.pk}").json()
    assert by_env["count"] == AuditLog.objects.filter(environment=world.environment).count()
    assert {row["log"] for row in by_env["results"]} == {
        "Environment 'Development' created",
        f"Permissions of user {world.users['env_editor'].pk} on environment 'Development' granted",
        f"Permissions of user {world.users['env_viewer'].pk} on environment 'Development' granted",
    }
    assert by_env["count"] == 3


def test_write_by_master_key__audit_names_the_key(world: World) -> None:
    world.clients["master_key"].patch(
        f"/api/v1/projects/{world.project.pk}/", {"name": "Renamed"}, format="json"
    )
    row = AuditLog.objects.filter(resource_type="project", action="UPDATE").get()
    assert (row.author_id, row.master_api_key_name) == (None, "CI")
    assert row.changes == {"name": ("Web shop", "Renamed")}


def test_master_key_create__key_shown_once(world: World) -> None:
    url = f"/api/v1/organisations/{world.organisation.pk}/master-api-keys/"
    created = world.clients["org_admin"].post(url, {"name": "Deploy"}, format="json").json()
    assert created["key"].startswith(created["prefix"] + ".")
    listed = world.clients["org_admin"].get(url).json()
    assert all("key" not in row for row in listed)
    assert sorted(row["name"] for row in listed) == ["CI", "Deploy"]


def test_non_admin_master_key__reads_organisation_only(world: World) -> None:
    url = f"/api/v1/organisations/{world.organisation.pk}/master-api-keys/"
    plaintext = (
        world.clients["org_admin"]
        .post(url, {"name": "Read", "is_admin": False}, format="json")
        .json()["key"]
    )
    from rest_framework.test import APIClient

    client = APIClient(HTTP_AUTHORIZATION=f"Api-Key {plaintext}")
    assert client.get(f"/api/v1/organisations/{world.organisation.pk}/").status_code == 200
    assert client.get("/api/v1/projects/").json() == []
    assert client.get(f"/api/v1/projects/{world.project.pk}/").status_code == 404
    assert client.get("/api/v1/audit/").json()["count"] == 0
    patch = client.patch(
        f"/api/v1/organisations/{world.organisation.pk}/", {"name": "X"}, format="json"
    )
    assert patch.status_code == 403
