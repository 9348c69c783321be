"""An organisation's administrators see its e-mail outbox, failures included; nobody else does."""

from __future__ import annotations

from rest_framework.test import APIClient

from vexil.common.mail import email_queue
from vexil.common.models import OutboundEmail
from vexil.organisations.models import Organisation
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
