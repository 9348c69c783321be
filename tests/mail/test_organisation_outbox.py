"""An organisation's administrators see its e-mail outbox, failures included; nobody else does."""

from __future__ import annotations

from django.test import Client
from rest_framework.test import APIClient

from vexil.audit.services import Actor
from vexil.common.mail import email_queue
from vexil.common.models import OutboundEmail
from vexil.organisations.models import Organisation, OrganisationRole
from vexil.organisations.services import organisation_member_add
from vexil.users.models import User
from vexil.users.services import auth_token_issue


def _as(user: User) -> APIClient:
    return APIClient(HTTP_AUTHORIZATION=f"Token {auth_token_issue(user=user)}")


def _failed_email(organisation: Organisation) -> OutboundEmail:
    email = email_queue(
        kind="instance_initialised",
        recipient="someone@example.com",
        subject="Hello",
        template="users/emails/instance_initialised",
        context={"user": User(email="someone@example.com")},
        base_url="https://flags.acme.test",
        organisation_id=organisation.pk,
    )
    OutboundEmail.objects.filter(pk=email.pk).update(
        status="failed", attempts=5, last_error="SMTPDataError: (451, b'Try again later')"
    )
    return email


def test_organisation_emails__admin__sees_failed_message_and_error(
    organisation: Organisation, organisation_admin: User
) -> None:
    email = _failed_email(organisation)
    response = _as(organisation_admin).get(f"/api/v1/organisations/{organisation.pk}/emails/")
    assert response.status_code == 200
    [row] = response.json()["results"]
    assert (row["id"], row["status"], row["attempts"], row["recipient"]) == (
        email.pk,
        "failed",
        5,
        "someone@example.com",
    )
    assert row["last_error"] == "SMTPDataError: (451, b'Try again later')"


def test_organisation_emails__other_organisations_admin__404(
    organisation: Organisation, other_admin: User, other_project: object
) -> None:
    _failed_email(organisation)
    response = _as(other_admin).get(f"/api/v1/organisations/{organisation.pk}/emails/")
    assert response.status_code == 404


def test_settings_page__admin__lists_failed_message_with_its_error(
    organisation: Organisation, organisation_admin: User
) -> None:
    # Given
    _failed_email(organisation)
    browser = Client()
    browser.force_login(organisation_admin)
    # When
    page = browser.get(f"/organisations/{organisation.pk}/settings/")
    # Then
    assert page.status_code == 200
    html = page.content.decode()
    assert '<h2 id="emails-heading">E-mails sent</h2>' in html
    row = html.split('<th scope="row">someone@example.com</th>', 1)[1].split("</tr>", 1)[0]
    assert "<td>Failed</td>" in row
    assert "<td>5</td>" in row
    assert "SMTPDataError: (451, b&#x27;Try again later&#x27;)" in row


def test_settings_page__member_not_admin__no_outbox(
    organisation: Organisation, organisation_admin: User
) -> None:
    _failed_email(organisation)
    member = User.objects.create_user(email="member@example.com", password="correct horse 1")
    organisation_member_add(
        organisation=organisation, user=member, role=OrganisationRole.USER, actor=Actor()
    )
    browser = Client()
    browser.force_login(member)
    page = browser.get(f"/organisations/{organisation.pk}/settings/")
    assert page.status_code == 403
    assert "someone@example.com" not in page.content.decode()
    assert "emails-heading" not in page.content.decode()
