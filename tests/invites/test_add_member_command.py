"""``vexil add-member``: the operator adds a person without the dashboard."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.invites.conftest import client_of
from vexil.audit.models import AuditLog
from vexil.common.models import OutboundEmail
from vexil.invites.models import Invite
from vexil.organisations.models import Organisation, OrganisationMembership
from vexil.users.models import User

pytestmark = pytest.mark.django_db


def _run(*args: str) -> str:
    out = io.StringIO()
    call_command("add_member", *args, stdout=out)
    return out.getvalue()


def test_add_member__existing_user__member_with_role_and_audited(
    organisation: Organisation, bob: User
) -> None:
    out = _run("--organisation", "Acme", "--email", "Bob@Example.com", "--role", "admin")
    assert out == "Added Bob@Example.com to 'Acme' as ADMIN.\n"
    assert OrganisationMembership.objects.get(organisation=organisation, user=bob).role == "ADMIN"
    entry = AuditLog.objects.get(resource_type="organisation_membership", log__contains="bob@")
    assert entry.author is None


def test_add_member__no_account__invite_link_printed_and_joinable(
    organisation: Organisation, settings: Any
) -> None:
    # Given
    settings.PUBLIC_URL = "https://flags.acme.test"
    # When
    out = _run("--organisation", str(organisation.pk), "--email", "new@example.com", "--no-email")
    # Then a link is printed, no e-mail queued
    [link] = re.findall(r"https://flags\.acme\.test/invite/(\S+)", out)
    assert Invite.objects.get().email == "new@example.com"
    assert not OutboundEmail.objects.exists()
    # and it joins once the person has signed up
    new = User.objects.create_user(email="new@example.com", password="correct horse 7")
    assert client_of(new).post(f"/api/v1/users/join/{link}/").status_code == 200
    assert OrganisationMembership.objects.get(user=new).role == "USER"


def test_add_member__no_account_with_email__invite_emailed(organisation: Organisation) -> None:
    _run("--organisation", "Acme", "--email", "new@example.com")
    assert OutboundEmail.objects.get().kind == "invite"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--organisation", "Nope", "--email", "a@example.com"), "No organisation 'Nope'"),
        (("--organisation", "99999999999999999999", "--email", "a@example.com"), "No organisation"),
        (("--organisation", "Acme", "--email", "not-an-email"), "is not an e-mail address"),
        (("--organisation", "Acme", "--email", "owner@example.com"), "already a member"),
    ],
)
def test_add_member__refused__error_and_nothing_changed(
    organisation: Organisation, args: tuple[str, ...], message: str
) -> None:
    before = OrganisationMembership.objects.count()
    with pytest.raises(CommandError, match=message):
        _run(*args)
    assert OrganisationMembership.objects.count() == before
    assert not Invite.objects.exists()


def test_add_member__seat_limit__refused(
    organisation: Organisation, bob: User, settings: Any
) -> None:
    settings.MAX_SEATS_PER_ORGANISATION = 1
    with pytest.raises(CommandError, match="no free seat"):
        _run("--organisation", "Acme", "--email", "bob@example.com")
    assert not OrganisationMembership.objects.filter(user=bob).exists()
