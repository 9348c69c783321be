"""Organisation settings: members' roles, master API keys shown once, settings, deletion."""

from __future__ import annotations

import pytest
from django.test import Client

from vexil.api_keys.models import MasterAPIKey
from vexil.audit.models import AuditLog
from vexil.audit.services import Actor
from vexil.organisations.models import Organisation, OrganisationMembership, OrganisationRole
from vexil.organisations.services import organisation_member_add
from vexil.users.models import User

pytestmark = pytest.mark.django_db


def _url(organisation: Organisation, rest: str = "") -> str:
    return f"/organisations/{organisation.pk}/{rest}"


def test_master_key__shown_once_hashed_then_revoked(
    admin_client: Client, organisation: Organisation
) -> None:
    created = admin_client.post(_url(organisation, "master-keys/"), {"name": "ci"})
    plaintext = created.content.decode().split('id="new-master-key" value="')[1].split('"')[0]
    key = MasterAPIKey.objects.get(organisation=organisation)
    valid_before_revoking = MasterAPIKey.objects.is_valid(plaintext)
    later = admin_client.get(_url(organisation, "settings/")).content.decode()
    revoked = admin_client.post(_url(organisation, f"master-keys/{key.pk}/revoke/"))

    assert created.status_code == 201
    assert "no-store" in created["Cache-Control"]
    assert valid_before_revoking
    assert not MasterAPIKey.objects.is_valid(plaintext)
    assert plaintext not in later
    assert revoked.status_code == 302
    key.refresh_from_db()
    assert key.revoked
    assert AuditLog.objects.filter(resource_type="master_api_key").count() == 2


def test_member_role__changed_and_last_admin_kept(
    admin_client: Client,
    organisation: Organisation,
    organisation_admin: User,
    viewer: User,
) -> None:
    member = OrganisationMembership.objects.get(organisation=organisation, user=viewer)
    me = OrganisationMembership.objects.get(organisation=organisation, user=organisation_admin)

    promoted = admin_client.post(
        _url(organisation, f"members/{member.pk}/role/"), {f"member-{member.pk}-role": "ADMIN"}
    )
    member.refresh_from_db()
    admin_client.post(
        _url(organisation, f"members/{member.pk}/role/"), {f"member-{member.pk}-role": "USER"}
    )
    last = admin_client.post(
        _url(organisation, f"members/{me.pk}/role/"), {f"member-{me.pk}-role": "USER"}
    )

    assert promoted.status_code == 302
    assert member.role == OrganisationRole.ADMIN
    assert last.status_code == 400
    assert "at least one administrator" in last.content.decode()
    me.refresh_from_db()
    assert me.role == OrganisationRole.ADMIN


def test_settings__restrict_project_creation__saved_and_audited(
    admin_client: Client, organisation: Organisation
) -> None:
    response = admin_client.post(
        _url(organisation, "settings/save/"),
        {"name": "Acme", "restrict_project_create_to_admin": "on"},
    )

    organisation.refresh_from_db()
    assert response.status_code == 302
    assert organisation.restrict_project_create_to_admin is True
    assert AuditLog.objects.filter(resource_type="organisation", log__contains="updated").exists()


def test_delete__needs_the_name(admin_client: Client, organisation: Organisation) -> None:
    wrong = admin_client.post(_url(organisation, "delete/"), {"confirm": "acme"})
    right = admin_client.post(_url(organisation, "delete/"), {"confirm": "Acme"})

    assert wrong.status_code == 400
    assert right.status_code == 302
    assert not Organisation.objects.filter(pk=organisation.pk).exists()


def test_plain_member__403_everywhere_nothing_changes(
    organisation: Organisation, actor: Actor
) -> None:
    user = User.objects.create_user(email="member@example.com", password="x" * 12)
    organisation_member_add(
        organisation=organisation, user=user, role=OrganisationRole.USER, actor=actor
    )
    client = Client()
    client.force_login(user)

    responses = [
        client.get(_url(organisation, "settings/")),
        client.post(_url(organisation, "master-keys/"), {"name": "sneaky"}),
        client.post(_url(organisation, "settings/save/"), {"name": "Mine"}),
        client.post(_url(organisation, "delete/"), {"confirm": "Acme"}),
    ]

    assert [r.status_code for r in responses] == [403, 403, 403, 403]
    organisation.refresh_from_db()
    assert organisation.name == "Acme"
    assert not MasterAPIKey.objects.exists()
