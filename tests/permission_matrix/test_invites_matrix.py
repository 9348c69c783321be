"""Rows of the permission matrix for invites: managing them needs MANAGE_USERS in the
organisation; joining needs a signed-in person (not a key) and the invite's own rules."""

from __future__ import annotations

import pytest

from tests.permission_matrix.conftest import Case, World, expect, run_case
from tests.permission_matrix.test_tenancy_matrix import acme_only, org_admins
from vexil.invites.models import Invite, InviteLink

MEMBERS = ("member", "env_viewer", "env_editor", "project_admin")


def org(w: World) -> str:
    return f"/api/v1/organisations/{w.organisation.pk}"


def invite(w: World) -> Invite:
    return Invite.objects.get(organisation=w.organisation)


def link(w: World) -> InviteLink:
    return InviteLink.objects.get(organisation=w.organisation)


def acme_members(status: int) -> dict[str, int]:
    return dict.fromkeys(("org_admin", *MEMBERS), status)


INVITES = [
    Case(
        "bulk invite",
        "POST",
        lambda w: f"{org(w)}/invite/",
        body=lambda w: {"invites": [{"email": "new@acme.test", "role": "ADMIN"}]},
        expected=org_admins(201),
    ),
    Case("invites list", "GET", lambda w: f"{org(w)}/invites/", expected=org_admins(200)),
    Case(
        "invite create",
        "POST",
        lambda w: f"{org(w)}/invites/",
        body=lambda w: {"email": "new@acme.test"},
        expected=org_admins(201),
    ),
    Case(
        "invite retrieve",
        "GET",
        lambda w: f"{org(w)}/invites/{invite(w).pk}/",
        expected=org_admins(200),
    ),
    Case(
        "invite resend",
        "POST",
        lambda w: f"{org(w)}/invites/{invite(w).pk}/resend/",
        expected=org_admins(200),
    ),
    Case(
        "invite revoke",
        "DELETE",
        lambda w: f"{org(w)}/invites/{invite(w).pk}/",
        expected=org_admins(204),
    ),
    Case(
        "invite update refused",
        "PATCH",
        lambda w: f"{org(w)}/invites/{invite(w).pk}/",
        body=lambda w: {"role": "ADMIN"},
        expected=acme_only(403, org_admin=405, master_key=405),
    ),
    Case("invite links list", "GET", lambda w: f"{org(w)}/invite-links/", expected=org_admins(200)),
    Case(
        "invite link create",
        "POST",
        lambda w: f"{org(w)}/invite-links/",
        body=lambda w: {"role": "USER", "expires_at": None},
        expected=org_admins(201),
    ),
    Case(
        "invite link delete",
        "DELETE",
        lambda w: f"{org(w)}/invite-links/{link(w).pk}/",
        expected=org_admins(204),
    ),
    # The e-mail invite is for Globex's administrator: only that address may use it.
    Case(
        "join by e-mail invite",
        "POST",
        lambda w: f"/api/v1/users/join/{invite(w).hash}/",
        expected=expect(other_org_user=200, master_key=403, **acme_members(400)),
    ),
    # A link admits anyone signed in; Acme's members are members already.
    Case(
        "join by invite link",
        "POST",
        lambda w: f"/api/v1/users/join/link/{link(w).hash}/",
        expected=expect(other_org_user=200, master_key=403, **acme_members(400)),
    ),
    Case(
        "join by unknown hash",
        "POST",
        lambda w: "/api/v1/users/join/link/x/",
        expected=expect(other_org_user=404, master_key=403, **acme_members(404)),
    ),
]


@pytest.mark.parametrize("case", INVITES, ids=str)
def test_invites_matrix(world: World, case: Case) -> None:
    run_case(world, case)
