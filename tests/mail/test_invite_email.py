"""An invite, end to end over a real SMTP server: the e-mail arrives with both parts, and the
hash taken from its link joins the organisation with the invite's role."""

from __future__ import annotations

import re
from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.mail.conftest import SMTPServer
from vexil.common.models import OutboundEmail
from vexil.common.tasks import wait_for_in_process_tasks
from vexil.organisations.models import Organisation, OrganisationMembership
from vexil.users.models import User
from vexil.users.services import auth_token_issue

pytestmark = pytest.mark.django_db(transaction=True)


def test_invite_email__over_smtp__link_joins_with_role(
    smtp_server: SMTPServer, organisation: Organisation, organisation_admin: User, settings: Any
) -> None:
    # Given
    settings.PUBLIC_URL = "https://flags.acme.test"
    organisation_admin.first_name, organisation_admin.last_name = "Olive", "Owner"
    organisation_admin.save()
    admin = APIClient(HTTP_AUTHORIZATION=f"Token {auth_token_issue(user=organisation_admin)}")
    # When the administrator invites Bob as an administrator
    response = admin.post(
        f"/api/v1/organisations/{organisation.pk}/invite/",
        {"invites": [{"email": "bob@example.com", "role": "ADMIN"}]},
        format="json",
    )
    assert response.status_code == 201
    wait_for_in_process_tasks()
    # Then one multipart e-mail arrives
    [message] = smtp_server.handler.received
    assert message["To"] == "bob@example.com"
    assert message["Subject"] == (
        "Olive Owner has invited you to join the organisation 'Acme' on Vexil"
    )
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None
    assert html is not None
    [link] = re.findall(r"https://flags\.acme\.test/invite/[A-Za-z0-9_-]{43}", text.get_content())
    assert f'href="{link}"' in html.get_content()
    assert OutboundEmail.objects.get(kind="invite").status == "sent"
    # and Bob, signed up, joins by the hash from the e-mail, with the invite's role
    bob = User.objects.create_user(email="bob@example.com", password="correct horse 9")
    bob_client = APIClient(HTTP_AUTHORIZATION=f"Token {auth_token_issue(user=bob)}")
    invite_hash = link.rsplit("/", 1)[1]
    joined = bob_client.post(f"/api/v1/users/join/{invite_hash}/")
    assert joined.status_code == 200
    assert OrganisationMembership.objects.get(organisation=organisation, user=bob).role == "ADMIN"
