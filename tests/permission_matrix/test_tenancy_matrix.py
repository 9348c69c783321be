"""Rows of the permission matrix for the tenancy half of the management API."""

from __future__ import annotations

import pytest

from tests.permission_matrix.conftest import Case, World, expect, run_case
from vexil.audit.models import AuditLog
from vexil.permissions.models import EnvironmentGrant, ProjectGrant

MEMBERS = ("member", "env_viewer", "env_editor", "project_admin")


def everyone(status: int, **overrides: int) -> dict[str, int]:
    statuses = dict.fromkeys(("other_org_user", *MEMBERS, "org_admin", "master_key"), status)
    return expect(**{**statuses, **overrides})


def acme_only(status: int, **overrides: int) -> dict[str, int]:
    """Anyone in Acme gets ``status``; the other organisation's user gets 404."""
    return everyone(status, **{"other_org_user": 404, **overrides})


def org_admins(status: int, master_key: int | None = None) -> dict[str, int]:
    """Acme's administrators (user and admin key) get ``status``; members 403; outsiders 404."""
    return acme_only(403, org_admin=status, master_key=status if master_key is None else master_key)


def project_admins(status: int, member: int = 404) -> dict[str, int]:
    """Project admins and up get ``status``; environment-only members see the project (403)."""
    return acme_only(status, member=member, env_viewer=403, env_editor=403)


def org(w: World) -> str:
    return f"/api/v1/organisations/{w.organisation.pk}"


def project(w: World) -> str:
    return f"/api/v1/projects/{w.project.pk}"


def environment(w: World) -> str:
    return f"/api/v1/environments/{w.environment.api_key}"


def project_grant(w: World) -> int:
    return ProjectGrant.objects.get(project=w.project, user=w.users["project_admin"]).pk


def viewer_grant(w: World) -> int:
    return EnvironmentGrant.objects.get(environment=w.environment, user=w.users["env_viewer"]).pk


def audit_row(resource_type: str, w: World) -> int:
    pk = w.project.pk if resource_type == "project" else w.organisation.pk
    return AuditLog.objects.get(resource_type=resource_type, resource_id=str(pk)).pk


ORGANISATIONS = [
    Case("organisations list", "GET", lambda w: "/api/v1/organisations/", expected=everyone(200)),
    Case(
        "organisation create",
        "POST",
        lambda w: "/api/v1/organisations/",
        body=lambda w: {"name": "Initech"},
        expected=everyone(201, master_key=403),
    ),
    Case("organisation retrieve", "GET", lambda w: f"{org(w)}/", expected=acme_only(200)),
    Case(
        "organisation update",
        "PATCH",
        lambda w: f"{org(w)}/",
        body=lambda w: {"name": "Acme Corp"},
        expected=org_admins(200),
    ),
    Case("organisation delete", "DELETE", lambda w: f"{org(w)}/", expected=org_admins(204)),
    Case(
        "organisation my-permissions",
        "GET",
        lambda w: f"{org(w)}/my-permissions/",
        expected=acme_only(200),
    ),
    Case(
        "organisation remove-users",
        "POST",
        lambda w: f"{org(w)}/remove-users/",
        body=lambda w: [{"id": w.users["member"].pk}],
        expected=org_admins(204),
    ),
    Case(
        "organisation permission keys",
        "GET",
        lambda w: "/api/v1/organisations/permissions/",
        expected=everyone(200),
    ),
    Case("members list", "GET", lambda w: f"{org(w)}/users/", expected=acme_only(200)),
    Case(
        "member update-role",
        "POST",
        lambda w: f"{org(w)}/users/{w.users['member'].pk}/update-role/",
        body=lambda w: {"role": "ADMIN"},
        expected=org_admins(200),
    ),
    Case("groups list", "GET", lambda w: f"{org(w)}/groups/", expected=acme_only(200)),
    Case(
        "group create",
        "POST",
        lambda w: f"{org(w)}/groups/",
        body=lambda w: {"name": "QA", "user_ids": [w.users["env_viewer"].pk]},
        expected=org_admins(201),
    ),
    Case(
        "group retrieve (members see their own groups only)",
        "GET",
        lambda w: f"{org(w)}/groups/{w.group.pk}/",
        expected=acme_only(404, member=200, org_admin=200, master_key=200),
    ),
    Case(
        "group update",
        "PATCH",
        lambda w: f"{org(w)}/groups/{w.group.pk}/",
        body=lambda w: {"name": "Engineers"},
        expected=org_admins(200),
    ),
    Case(
        "group delete",
        "DELETE",
        lambda w: f"{org(w)}/groups/{w.group.pk}/",
        expected=org_admins(204),
    ),
    Case(
        "group add-users",
        "POST",
        lambda w: f"{org(w)}/groups/{w.group.pk}/add-users/",
        body=lambda w: {"user_ids": [w.users["env_viewer"].pk]},
        expected=org_admins(200),
    ),
    Case(
        "group remove-users",
        "POST",
        lambda w: f"{org(w)}/groups/{w.group.pk}/remove-users/",
        body=lambda w: {"user_ids": [w.users["member"].pk]},
        expected=org_admins(200),
    ),
    Case(
        "groups my-groups",
        "GET",
        lambda w: f"{org(w)}/groups/my-groups/",
        expected=acme_only(200),
    ),
    Case(
        "other organisation's group, through our organisation",
        "GET",
        lambda w: f"{org(w)}/groups/{w.other_group.pk}/",
        expected=acme_only(404),
    ),
    Case(
        "master keys list",
        "GET",
        lambda w: f"{org(w)}/master-api-keys/",
        expected=org_admins(200, master_key=403),
    ),
    Case(
        "master key create",
        "POST",
        lambda w: f"{org(w)}/master-api-keys/",
        body=lambda w: {"name": "Deploy", "is_admin": False},
        expected=org_admins(201, master_key=403),
    ),
    Case(
        "master key retrieve",
        "GET",
        lambda w: f"{org(w)}/master-api-keys/{w.master_key.prefix}/",
        expected=org_admins(200, master_key=403),
    ),
    Case(
        "master key update",
        "PATCH",
        lambda w: f"{org(w)}/master-api-keys/{w.master_key.prefix}/",
        body=lambda w: {"name": "CI (old)"},
        expected=org_admins(200, master_key=403),
    ),
    Case(
        "master key revoke",
        "DELETE",
        lambda w: f"{org(w)}/master-api-keys/{w.master_key.prefix}/",
        expected=org_admins(204, master_key=403),
    ),
    Case(
        "organisation audit",
        "GET",
        lambda w: f"{org(w)}/audit/",
        expected=org_admins(200),
    ),
]

PROJECTS = [
    Case("projects list", "GET", lambda w: "/api/v1/projects/", expected=everyone(200)),
    Case(
        "project create",
        "POST",
        lambda w: "/api/v1/projects/",
        body=lambda w: {"name": "Mobile", "organisation": w.organisation.pk},
        expected=acme_only(201, other_org_user=400),
    ),
    Case(
        "project create in the other organisation",
        "POST",
        lambda w: "/api/v1/projects/",
        body=lambda w: {"name": "Mobile", "organisation": w.other_organisation.pk},
        expected=everyone(400, other_org_user=201),
    ),
    Case(
        "project retrieve",
        "GET",
        lambda w: f"{project(w)}/",
        expected=acme_only(200, member=404),
    ),
    Case(
        "project update",
        "PATCH",
        lambda w: f"{project(w)}/",
        body=lambda w: {"name": "Web store"},
        expected=project_admins(200),
    ),
    Case("project delete", "DELETE", lambda w: f"{project(w)}/", expected=project_admins(204)),
    Case(
        "project my-permissions",
        "GET",
        lambda w: f"{project(w)}/my-permissions/",
        expected=acme_only(200, member=404),
    ),
    Case(
        "project permission keys",
        "GET",
        lambda w: "/api/v1/projects/permissions/",
        expected=everyone(200),
    ),
    Case(
        "project user grants list",
        "GET",
        lambda w: f"{project(w)}/user-permissions/",
        expected=project_admins(200),
    ),
    Case(
        "project user grant create",
        "POST",
        lambda w: f"{project(w)}/user-permissions/",
        body=lambda w: {"user": w.users["member"].pk, "permissions": ["VIEW_PROJECT"]},
        expected=project_admins(201),
    ),
    Case(
        "project user grant update",
        "PATCH",
        lambda w: f"{project(w)}/user-permissions/{project_grant(w)}/",
        body=lambda w: {"admin": False, "permissions": ["VIEW_PROJECT"]},
        expected=project_admins(200),
    ),
    Case(
        "project user grant delete",
        "DELETE",
        lambda w: f"{project(w)}/user-permissions/{project_grant(w)}/",
        expected=project_admins(204),
    ),
    Case(
        "project group grants list",
        "GET",
        lambda w: f"{project(w)}/user-group-permissions/",
        expected=project_admins(200),
    ),
    Case(
        "project group grant create",
        "POST",
        lambda w: f"{project(w)}/user-group-permissions/",
        body=lambda w: {"group": w.group.pk, "permissions": ["CREATE_FEATURE"]},
        expected=project_admins(201),
    ),
    Case(
        "project audit",
        "GET",
        lambda w: f"{project(w)}/audit/",
        expected=project_admins(200),
    ),
]

ENVIRONMENTS = [
    Case(
        "environment user grants list",
        "GET",
        lambda w: f"{environment(w)}/user-permissions/",
        expected=project_admins(200),
    ),
    Case(
        "environment user grant create",
        "POST",
        lambda w: f"{environment(w)}/user-permissions/",
        body=lambda w: {"user": w.users["member"].pk, "permissions": ["VIEW_ENVIRONMENT"]},
        expected=project_admins(201),
    ),
    Case(
        "environment user grant update",
        "PUT",
        lambda w: f"{environment(w)}/user-permissions/{viewer_grant(w)}/",
        body=lambda w: {"admin": False, "permissions": ["VIEW_IDENTITIES"]},
        expected=project_admins(200),
    ),
    Case(
        "environment user grant delete",
        "DELETE",
        lambda w: f"{environment(w)}/user-permissions/{viewer_grant(w)}/",
        expected=project_admins(204),
    ),
    Case(
        "environment group grants list",
        "GET",
        lambda w: f"{environment(w)}/user-group-permissions/",
        expected=project_admins(200),
    ),
    Case(
        "environment group grant create",
        "POST",
        lambda w: f"{environment(w)}/user-group-permissions/",
        body=lambda w: {"group": w.group.pk, "admin": True},
        expected=project_admins(201),
    ),
    Case(
        "environment my-permissions",
        "GET",
        lambda w: f"{environment(w)}/my-permissions/",
        expected=acme_only(200, member=404),
    ),
    Case(
        "environment without grants, my-permissions",
        "GET",
        lambda w: f"/api/v1/environments/{w.production.api_key}/my-permissions/",
        expected=acme_only(200, member=404, env_viewer=404, env_editor=404),
    ),
    Case(
        "environment permission keys",
        "GET",
        lambda w: "/api/v1/environments/permissions/",
        expected=everyone(200),
    ),
]

AUDIT = [
    Case("audit list", "GET", lambda w: "/api/v1/audit/", expected=everyone(200)),
    Case(
        "audit row of a project",
        "GET",
        lambda w: f"/api/v1/audit/{audit_row('project', w)}/",
        expected=acme_only(404, project_admin=200, org_admin=200, master_key=200),
    ),
    Case(
        "audit row of an organisation",
        "GET",
        lambda w: f"/api/v1/audit/{audit_row('organisation', w)}/",
        expected=acme_only(404, org_admin=200, master_key=200),
    ),
]

CASES = ORGANISATIONS + PROJECTS + ENVIRONMENTS + AUDIT


@pytest.mark.parametrize("case", CASES, ids=str)
def test_tenancy_endpoints__each_principal__expected_status(world: World, case: Case) -> None:
    run_case(world, case)
