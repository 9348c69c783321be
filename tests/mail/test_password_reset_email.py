"""A password reset, end to end over a real SMTP server: the e-mail arrives with both parts, its
link sets a new password once, and the account's other tokens and sessions stop working."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from tests.mail.conftest import SMTPServer
from vexil.common.tasks import wait_for_in_process_tasks
from vexil.users.models import User
from vexil.users.services import auth_token_issue

pytestmark = pytest.mark.django_db(transaction=True)

LINK = re.compile(
    r"https://flags\.acme\.test/password-reset/confirm/(?P<uid>[\w-]+)/(?P<token>[\w-]+)"
)
NEW = "a brand new horse 7"


def test_password_reset_email__over_smtp__link_sets_password_and_old_credentials_stop(
    smtp_server: SMTPServer, organisation_admin: User, settings: Any
) -> None:
    # Given an API token and a dashboard session from before
    settings.PUBLIC_URL = "https://flags.acme.test"
    old_token = auth_token_issue(user=organisation_admin)
    browser = Client()
    browser.force_login(organisation_admin)
    assert browser.get("/account/").status_code == 200
    # When a reset is asked for, and the link from the e-mail is followed
    asked = APIClient().post("/api/v1/auth/users/reset_password/", {"email": "owner@example.com"})
    assert asked.status_code == 204
    wait_for_in_process_tasks()
    [message] = smtp_server.handler.received
    text, html = message.get_body(("plain",)), message.get_body(("html",))
    assert text is not None
    assert html is not None
    match = LINK.search(text.get_content())
    assert match is not None
    assert f'href="{match[0]}"' in html.get_content()
    body = {"uid": match["uid"], "token": match["token"]}
    body |= {"new_password": NEW, "re_new_password": NEW}
    confirmed = APIClient().post("/api/v1/auth/users/reset_password_confirm/", body, format="json")
    # Then the new password signs in and the old one does not
    assert (message["To"], confirmed.status_code) == ("owner@example.com", 204)
    login = "/api/v1/auth/login/"
    assert (
        APIClient().post(login, {"email": "owner@example.com", "password": NEW}).status_code == 200
    )
    old = {"email": "owner@example.com", "password": "correct horse 1"}
    assert APIClient().post(login, old).status_code == 400
    # the old API token and the old browser session stop working
    me = APIClient(HTTP_AUTHORIZATION=f"Token {old_token}").get("/api/v1/auth/users/me/")
    assert me.status_code == 401
    account = browser.get("/account/")
    assert (account.status_code, account["Location"].startswith("/sign-in/")) == (302, True)
    # and the link works once
    body |= {"new_password": "yet another horse 8", "re_new_password": "yet another horse 8"}
    again = APIClient().post("/api/v1/auth/users/reset_password_confirm/", body, format="json")
    assert again.status_code == 400
    assert again.json()["token"] == ["Invalid token for given user."]
