"""Invites in the dashboard, below the browser: the members section, its permissions enforced
on the server, and the accept page's paths (join, sign up and join, refusals)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from tests.auth.sign_up import confirmation_token
from vexil.audit.models import AuditLog
from vexil.audit.services import Actor
from vexil.common.models import OutboundEmail
from vexil.invites import services
from vexil.invites.models import Invite, InviteLink
from vexil.organisations.models import Organisation, OrganisationMembership
from vexil.organisations.services import user_group_create
from vexil.users.models import User

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery 9"


def _url(organisation: Organisation, rest: str = "") -> str:
    return f"/organisations/{organisation.pk}/{rest}"


def _invite(organisation: Organisation, email: str = "bob@example.com", **kw: Any) -> Invite:
    [invite] = services.invites_create(
        organisation=organisation,
        invites=[services.InviteRequest(email, **kw)],
        invited_by=None,
        actor=Actor(),
    )
    return invite


def _signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_settings_page__admin__invite_sections_with_links(
    admin_client: Client, organisation: Organisation
) -> None:
    invite = _invite(organisation)
    link = services.invite_link_create(organisation=organisation, actor=Actor())
    page = admin_client.get(_url(organisation, "settings/")).content.decode()
    assert "Invite people" in page
    assert "Resend invite to bob@example.com" in page
    assert f"http://testserver/invite-link/{link.hash}" in page
    assert f"Copy invite link {link.pk}" in page
    assert invite.hash not in page  # an e-mail invite's link goes to its address only


def test_invite_form__emails_role_groups__invites_and_emails(
    admin_client: Client, organisation: Organisation
) -> None:
    group = user_group_create(organisation=organisation, name="Devs", actor=Actor())
    response = admin_client.post(
        _url(organisation, "invites/"),
        {"emails": "bob@example.com, carol@example.com", "role": "ADMIN", "groups": [group.pk]},
    )
    assert response.status_code == 302
    invites = Invite.objects.order_by("email")
    assert [(i.email, i.role) for i in invites] == [
        ("bob@example.com", "ADMIN"),
        ("carol@example.com", "ADMIN"),
    ]
    assert [list(i.permission_groups.all()) for i in invites] == [[group], [group]]
    assert OutboundEmail.objects.filter(kind="invite").count() == 2


@pytest.mark.parametrize(
    ("emails", "message"),
    [("not-an-address", "is not an e-mail address"), ("owner@example.com", "already a member")],
)
def test_invite_form__refused__400_message_and_nothing_created(
    admin_client: Client, organisation: Organisation, emails: str, message: str
) -> None:
    response = admin_client.post(_url(organisation, "invites/"), {"emails": emails, "role": "USER"})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Invite.objects.exists()


def test_resend_and_revoke__admin__done_and_audited(
    admin_client: Client, organisation: Organisation
) -> None:
    invite = _invite(organisation)
    assert admin_client.post(_url(organisation, f"invites/{invite.pk}/resend/")).status_code == 302
    assert OutboundEmail.objects.filter(kind="invite").count() == 2
    assert admin_client.post(_url(organisation, f"invites/{invite.pk}/revoke/")).status_code == 302
    assert not Invite.objects.exists()
    assert AuditLog.objects.filter(resource_type="invite").count() == 3


def test_invite_links__create_and_delete(admin_client: Client, organisation: Organisation) -> None:
    created = admin_client.post(
        _url(organisation, "invite-links/"), {"role": "USER", "expires_in_days": "3"}
    )
    assert created.status_code == 302
    link = InviteLink.objects.get()
    assert link.expires_at is not None
    assert timedelta(days=2) < link.expires_at - timezone.now() <= timedelta(days=3)
    deleted = admin_client.post(_url(organisation, f"invite-links/{link.pk}/delete/"))
    assert deleted.status_code == 302
    assert not InviteLink.objects.exists()


def test_invite_pages__member_replays_posts__403_and_nothing_changed(
    viewer_client: Client, organisation: Organisation
) -> None:
    invite = _invite(organisation)
    link = services.invite_link_create(organisation=organisation, actor=Actor())
    before = (OutboundEmail.objects.count(), AuditLog.objects.count())
    for path, body in (
        ("invites/", {"emails": "x@example.com", "role": "ADMIN"}),
        (f"invites/{invite.pk}/resend/", {}),
        (f"invites/{invite.pk}/revoke/", {}),
        ("invite-links/", {"role": "ADMIN"}),
        (f"invite-links/{link.pk}/delete/", {}),
    ):
        assert viewer_client.post(_url(organisation, path), body).status_code == 403, path
    assert list(Invite.objects.all()) == [invite]
    assert list(InviteLink.objects.all()) == [link]
    assert (OutboundEmail.objects.count(), AuditLog.objects.count()) == before
    page = viewer_client.get(_url(organisation, "settings/"))
    assert page.status_code == 403


def test_invite_pages__other_organisations_invite__404(
    admin_client: Client, organisation: Organisation, other_project: Any
) -> None:
    theirs = _invite(other_project.organisation, "x@example.com")
    response = admin_client.post(_url(organisation, f"invites/{theirs.pk}/revoke/"))
    assert response.status_code == 404
    assert Invite.objects.filter(pk=theirs.pk).exists()


def test_accept_page__signed_out__offers_sign_in_and_sign_up(organisation: Organisation) -> None:
    invite = _invite(organisation)
    page = Client().get(f"/invite/{invite.hash}")
    text = page.content.decode()
    assert page.status_code == 200
    assert "Join Acme" in text
    assert f"/sign-in/?next=/invite/{invite.hash}" in text
    assert "Create account and join" in text
    assert 'value="bob@example.com"' in text


def test_accept_page__signed_in_invitee__joins_with_role(organisation: Organisation) -> None:
    invite = _invite(organisation, role="ADMIN")
    bob = User.objects.create_user(email="bob@example.com", password=PASSWORD)
    client = _signed_in(bob)
    assert "Join Acme" in client.get(f"/invite/{invite.hash}").content.decode()
    response = client.post(f"/invite/{invite.hash}")
    assert response.status_code == 302
    assert response["Location"] == f"/organisations/{organisation.pk}/"
    assert OrganisationMembership.objects.get(user=bob).role == "ADMIN"
    assert client.get(f"/invite/{invite.hash}").status_code == 404


def test_accept_page__signed_in_as_someone_else__refused(organisation: Organisation) -> None:
    invite = _invite(organisation)
    carol = User.objects.create_user(email="carol@example.com", password=PASSWORD)
    client = _signed_in(carol)
    page = client.get(f"/invite/{invite.hash}").content.decode()
    assert "This invitation is for bob@example.com" in page
    assert client.post(f"/invite/{invite.hash}").status_code == 400
    assert not OrganisationMembership.objects.filter(user=carol).exists()


def test_accept_page__sign_up_while_registration_closed__account_and_membership(
    organisation: Organisation, settings: Any
) -> None:
    settings.ALLOW_REGISTRATION_WITHOUT_INVITE = False
    link = services.invite_link_create(organisation=organisation, actor=Actor())
    client = Client()
    response = client.post(
        f"/invite-link/{link.hash}/sign-up/",
        {"email": "dora@example.com", "password": PASSWORD, "first_name": "Dora"},
    )
    assert response.status_code == 200  # check your e-mail: a link does not prove the address
    assert not User.objects.filter(email="dora@example.com").exists()
    response = client.post(f"/sign-up/confirm/{confirmation_token('dora@example.com')}")
    assert response.status_code == 302
    dora = User.objects.get(email="dora@example.com")
    assert OrganisationMembership.objects.get(user=dora).role == "USER"
    assert client.get(f"/organisations/{organisation.pk}/").status_code == 200


def test_accept_page__sign_up_other_address_for_email_invite__403_no_account(
    organisation: Organisation, settings: Any
) -> None:
    settings.ALLOW_REGISTRATION_WITHOUT_INVITE = False
    invite = _invite(organisation)
    response = Client().post(
        f"/invite/{invite.hash}/sign-up/", {"email": "eve@example.com", "password": PASSWORD}
    )
    assert response.status_code == 403
    assert "This invitation is for bob@example.com" in response.content.decode()
    assert not User.objects.filter(email="eve@example.com").exists()


def test_accept_page__prevent_signup__no_form_and_post_refused(
    organisation: Organisation, settings: Any
) -> None:
    settings.PREVENT_SIGNUP = True
    invite = _invite(organisation)
    page = Client().get(f"/invite/{invite.hash}").content.decode()
    assert "Create account and join" not in page
    refused = Client().post(
        f"/invite/{invite.hash}/sign-up/", {"email": "bob@example.com", "password": PASSWORD}
    )
    assert refused.status_code == 403
    assert not User.objects.filter(email="bob@example.com").exists()


def test_accept_page__unknown_or_expired__404_or_message(organisation: Organisation) -> None:
    assert Client().get("/invite/not-a-real-hash").status_code == 404
    invite = _invite(organisation)
    Invite.objects.filter(pk=invite.pk).update(expires_at=timezone.now() - timedelta(1))
    page = Client().get(f"/invite/{invite.hash}").content.decode()
    assert "This invitation has expired" in page
