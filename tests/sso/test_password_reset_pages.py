"""The dashboard's forgot-password and reset pages, at the e-mail link's shape, over the same
services as the API (djoser's routes)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from vexil.common.models import OutboundEmail
from vexil.users.models import User

pytestmark = pytest.mark.django_db

NEW = "a brand new horse 7"
LINK = re.compile(r"https://flags\.acme\.test(/password-reset/confirm/[\w-]+/[\w-]+)")


@pytest.fixture(autouse=True)
def _public_url(settings: Any) -> None:
    settings.PUBLIC_URL = "https://flags.acme.test"


def _emailed_path() -> str:
    match = LINK.search(OutboundEmail.objects.get(kind="password_reset").body_text)
    assert match
    return match[1]


def test_forgot__known_and_unknown_address__same_answer(organisation_admin: User) -> None:
    known = Client().post("/password-reset/", {"email": "owner@example.com"})
    unknown = Client().post("/password-reset/", {"email": "nobody@example.com"})

    assert known.status_code == unknown.status_code == 200
    message = "If an account has this address, we have sent it a link"
    assert message in known.content.decode()
    assert message in unknown.content.decode()
    assert OutboundEmail.objects.filter(kind="password_reset").count() == 1


def test_forgot__not_an_address__400_on_the_field(db: None) -> None:
    response = Client().post("/password-reset/", {"email": "not an address"})

    assert response.status_code == 400
    assert "Enter a valid email address." in response.content.decode()


def test_reset__link_from_the_email__sets_the_password_once(organisation_admin: User) -> None:
    # Given
    Client().post("/password-reset/", {"email": "owner@example.com"})
    path = _emailed_path()
    client = Client()
    # When
    form = client.get(path)
    done = client.post(path, {"new_password": NEW, "re_new_password": NEW})
    again = client.get(path)
    # Then
    assert '<label for="id_new_password">New password</label>' in form.content.decode()
    assert done.status_code == 200
    assert "Your password is changed" in done.content.decode()
    organisation_admin.refresh_from_db()
    assert organisation_admin.check_password(NEW)
    assert "This link is not valid" in again.content.decode()
    assert client.post(path, {"new_password": "x", "re_new_password": "x"}).status_code == 400


def test_reset__trailing_slash__same_page(organisation_admin: User) -> None:
    Client().post("/password-reset/", {"email": "owner@example.com"})

    response = Client().get(_emailed_path() + "/")

    assert response.status_code == 200
    assert "New password again" in response.content.decode()


def test_reset__weak_or_mismatched__errors_and_unchanged(organisation_admin: User) -> None:
    Client().post("/password-reset/", {"email": "owner@example.com"})
    path = _emailed_path()

    weak = Client().post(path, {"new_password": "12345678", "re_new_password": "12345678"})
    mismatch = Client().post(path, {"new_password": NEW, "re_new_password": NEW + "x"})

    assert weak.status_code == mismatch.status_code == 400
    assert "This password is entirely numeric." in weak.content.decode()
    assert "The two password fields didn" in mismatch.content.decode()
    organisation_admin.refresh_from_db()
    assert organisation_admin.check_password("correct horse 1")


def test_reset__forged_token__invalid(organisation_admin: User) -> None:
    response = Client().get("/password-reset/confirm/MQ/abc-0123456789abcdef")

    assert response.status_code == 200
    assert "This link is not valid" in response.content.decode()


def test_sign_in_page__links_to_forgot_password(db: None) -> None:
    assert 'href="/password-reset/"' in Client().get("/sign-in/").content.decode()
