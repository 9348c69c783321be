"""Sign-up over a real SMTP server: the confirmation e-mail arrives with both parts and its link
makes the account once; a taken address's owner is told, and nothing is made."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.auth.sign_up import CONFIRM, CONFIRM_LINK, REGISTER
from tests.mail.conftest import SMTPServer
from vexil.common.tasks import wait_for_in_process_tasks
from vexil.users.models import PendingSignUp, User

PASSWORD = "correct horse battery 1"
ME = "/api/v1/auth/users/me/"


def _sign_up(email: str, password: str = PASSWORD) -> Any:
    body = {"email": email, "password": password, "first_name": "Ny"}
    return APIClient().post(REGISTER, body, format="json")


@pytest.mark.django_db(transaction=True)
def test_sign_up__over_smtp__link_makes_account_once_and_its_token_works(
    smtp_server: SMTPServer, settings: Any
) -> None:
    # Given a sign-up
    settings.PUBLIC_URL = "https://flags.acme.test"
    assert _sign_up("New@Example.com").status_code == 201
    # When the e-mail arrives over SMTP with both parts
    wait_for_in_process_tasks()
    [message] = smtp_server.handler.received
    text, html = message.get_body(("plain",)), message.get_body(("html",))
    assert text is not None
    assert html is not None
    assert (message["To"], message["Subject"]) == ("new@example.com", "Finish signing up")
    match = CONFIRM_LINK.search(text.get_content())
    assert match is not None
    assert match[0].startswith("https://flags.acme.test/sign-up/confirm/")
    assert f'href="{match[0]}"' in html.get_content()
    # and its token is confirmed
    confirmed = APIClient().post(CONFIRM, {"token": match["token"]}, format="json")
    # Then the account exists and the token works
    assert confirmed.status_code == 201
    assert set(confirmed.json()) == {"key"}
    me = APIClient(HTTP_AUTHORIZATION=f"Token {confirmed.json()['key']}").get(ME).json()
    assert (me["email"], me["first_name"]) == ("new@example.com", "Ny")
    assert User.objects.get(email="new@example.com").check_password(PASSWORD)
    # and the link works once
    again = APIClient().post(CONFIRM, {"token": match["token"]}, format="json")
    assert again.status_code == 400
    assert again.json()["token"] == [
        "This sign-up link is not valid or has expired: sign up again."
    ]
    assert User.objects.filter(email="new@example.com").count() == 1


@pytest.mark.django_db(transaction=True)
def test_sign_up__taken_address_over_smtp__owner_told_nothing_made(
    smtp_server: SMTPServer, organisation_admin: User, settings: Any
) -> None:
    settings.PUBLIC_URL = "https://flags.acme.test"
    assert _sign_up("owner@example.com", password="another horse 99").status_code == 201
    wait_for_in_process_tasks()
    [message] = smtp_server.handler.received
    assert message["To"] == "owner@example.com"
    assert message["Subject"] == "Someone tried to sign up with your address"
    text, html = message.get_body(("plain",)), message.get_body(("html",))
    assert text is not None
    assert html is not None
    for part in (text.get_content(), html.get_content()):
        assert "https://flags.acme.test/sign-in/" in part
        assert "https://flags.acme.test/password-reset/" in part
    assert "/sign-up/confirm/" not in text.get_content()
    assert not PendingSignUp.objects.exists()
    assert User.objects.get().check_password("correct horse 1")
