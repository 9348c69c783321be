"""Sign-up without account enumeration: a new and a taken address get the same answer; the
account is made by the e-mailed link (once, before it expires); the owner of a taken address is
told by e-mail."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.hashers import check_password
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from tests.auth.sign_up import (
    CHECK_EMAIL,
    CONFIRM,
    REGISTER,
    confirmation_token,
    sign_up_and_confirm,
)
from vexil.audit.services import Actor
from vexil.common.models import OutboundEmail
from vexil.invites.models import InviteLink
from vexil.invites.services import invite_link_create
from vexil.organisations.models import Organisation, OrganisationMembership
from vexil.users.models import PendingSignUp, User

PASSWORD = "correct horse battery 1"
ME = "/api/v1/auth/users/me/"


def _sign_up(email: str, password: str = PASSWORD) -> Any:
    body = {"email": email, "password": password, "first_name": "Ny"}
    return APIClient().post(REGISTER, body, format="json")


def test_sign_up__new_and_taken_address__same_status_body_and_headers(
    organisation_admin: User,
) -> None:
    # When one address has an account and the other has not
    new = _sign_up("new@example.com")
    taken = _sign_up("Owner@Example.com")
    # Then nothing in the answer tells them apart
    assert (new.status_code, new.json()) == (201, CHECK_EMAIL)
    assert (taken.status_code, taken.json()) == (201, CHECK_EMAIL)
    assert dict(new.headers) == dict(taken.headers)
    assert new.content == taken.content
    # and no account is made yet, nor is the existing one changed
    assert list(User.objects.values_list("email", flat=True)) == ["owner@example.com"]
    assert User.objects.get().check_password("correct horse 1")


def test_sign_up__weak_password__same_400_for_new_and_taken_address(
    organisation_admin: User,
) -> None:
    new = _sign_up("new@example.com", password="123")
    taken = _sign_up("owner@example.com", password="123")
    assert new.status_code == taken.status_code == 400
    assert new.json() == taken.json()
    assert "password" in new.json()
    assert not PendingSignUp.objects.exists()
    assert not OutboundEmail.objects.exists()


def test_sign_up__pending_row__password_hashed_token_digest_only(db: None) -> None:
    _sign_up("new@example.com")
    pending = PendingSignUp.objects.get()
    token = confirmation_token("new@example.com")
    assert PASSWORD not in pending.password
    assert check_password(PASSWORD, pending.password)
    assert token not in pending.token_digest
    assert pending.token_digest == PendingSignUp.digest_of(token)
    assert timedelta(hours=23) < pending.expires_at - timezone.now() <= timedelta(hours=24)


def test_sign_up__beyond_emails_per_address__same_answer_nothing_sent(
    organisation_admin: User, settings: Any
) -> None:
    settings.MAX_PASSWORD_RESET_EMAILS = 2
    answers = [_sign_up(address).json() for address in ["owner@example.com"] * 3]
    answers += [_sign_up(address).json() for address in ["new@example.com"] * 3]
    assert answers == [CHECK_EMAIL] * 6
    sent = OutboundEmail.objects.values_list("kind", "recipient")
    assert sorted(sent) == [
        *[("sign_up_confirm", "new@example.com")] * 2,
        *[("sign_up_taken", "owner@example.com")] * 2,
    ]
    assert PendingSignUp.objects.count() == 2


def test_confirm__expired__400_no_account(db: None) -> None:
    _sign_up("new@example.com")
    PendingSignUp.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    token = confirmation_token("new@example.com")
    response = APIClient().post(CONFIRM, {"token": token}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert not User.objects.exists()


@pytest.mark.parametrize("token", ["", "nope", "x" * 101, "é" * 50])
def test_confirm__unknown_or_malformed_token__400(db: None, token: str) -> None:
    response = APIClient().post(CONFIRM, {"token": token}, format="json")
    assert response.status_code == 400
    assert "token" in response.json()


def test_confirm__address_got_an_account_meanwhile__400_sign_in(db: None) -> None:
    _sign_up("new@example.com")
    token = confirmation_token("new@example.com")
    User.objects.create_user(email="new@example.com", password="someone else 1")
    response = APIClient().post(CONFIRM, {"token": token}, format="json")
    assert response.status_code == 400
    assert response.json()["email"] == ["This address already has an account: sign in."]
    assert User.objects.get().check_password("someone else 1")


def test_confirm__two_sign_ups_of_one_address__first_confirmed_spends_both(db: None) -> None:
    _sign_up("new@example.com")
    first = confirmation_token("new@example.com")
    _sign_up("new@example.com", password="a second horse 2")
    second = confirmation_token("new@example.com")
    assert APIClient().post(CONFIRM, {"token": second}, format="json").status_code == 201
    assert APIClient().post(CONFIRM, {"token": first}, format="json").status_code == 400
    assert User.objects.get().check_password("a second horse 2")


def test_confirm__prevent_signup_since__403_no_account(db: None, settings: Any) -> None:
    _sign_up("new@example.com")
    settings.PREVENT_SIGNUP = True
    token = confirmation_token("new@example.com")
    response = APIClient().post(CONFIRM, {"token": token}, format="json")
    assert response.status_code == 403
    assert not User.objects.exists()


def test_sign_up_and_confirm__helper__token_works(db: None) -> None:
    key = sign_up_and_confirm({"email": "helper@example.com", "password": PASSWORD})
    assert APIClient(HTTP_AUTHORIZATION=f"Token {key}").get(ME).json()["email"] == (
        "helper@example.com"
    )


# --- The dashboard's pages


def test_dashboard_sign_up__new_and_taken_address__check_your_email_page(
    organisation_admin: User,
) -> None:
    pages = [
        Client().post("/sign-up/", {"email": address, "password": PASSWORD})
        for address in ("new@example.com", "owner@example.com")
    ]
    assert [page.status_code for page in pages] == [200, 200]
    assert b"Check your e-mail to finish signing up." in pages[0].content
    # the same page, but for the CSRF token (per request)
    per_request = re.compile(rb'(value="|X-CSRFToken": ")[A-Za-z0-9]{32,}"')
    assert per_request.sub(b"", pages[0].content) == per_request.sub(b"", pages[1].content)
    assert "_auth_user_id" not in pages[0].client.session
    assert User.objects.count() == 1


def test_dashboard_confirm__get_asks_post_makes_account_and_signs_in(db: None) -> None:
    # Given a sign-up from the dashboard
    browser = Client()
    browser.post("/sign-up/", {"email": "new@example.com", "password": PASSWORD})
    link = f"/sign-up/confirm/{confirmation_token('new@example.com')}"
    # When the e-mailed link is opened (a GET makes nothing: mail scanners follow links)
    page = browser.get(link)
    assert page.status_code == 200
    assert b"new@example.com" in page.content
    assert not User.objects.exists()
    # and its button pressed
    done = browser.post(link)
    # Then the account is made and signed in
    assert (done.status_code, done["Location"]) == (302, "/")
    user = User.objects.get()
    assert browser.session["_auth_user_id"] == str(user.pk)
    # and the link is spent
    assert browser.get(link).status_code == 400
    assert Client().post(link).status_code == 400


def test_dashboard_confirm__unknown_token__400_page(db: None) -> None:
    page = Client().get("/sign-up/confirm/unknown-token")
    assert page.status_code == 400
    assert b"This link is not valid" in page.content


def test_invite_link_sign_up__check_email_then_link_joins_organisation(
    organisation: Organisation, organisation_admin: User, settings: Any
) -> None:
    # Given an invite link while registration without an invite is closed
    settings.ALLOW_REGISTRATION_WITHOUT_INVITE = False
    link = invite_link_create(
        organisation=organisation, role="USER", actor=Actor(user=organisation_admin)
    )
    browser = Client()
    # When someone signs up from it
    page = browser.post(
        f"/invite-link/{link.hash}/sign-up/", {"email": "carol@example.com", "password": PASSWORD}
    )
    # Then they are asked to check their e-mail, and nothing is made yet
    assert page.status_code == 200
    assert b"Check your e-mail to finish signing up." in page.content
    assert not User.objects.filter(email="carol@example.com").exists()
    # and the e-mailed link makes the account and joins the organisation
    done = browser.post(f"/sign-up/confirm/{confirmation_token('carol@example.com')}")
    carol = User.objects.get(email="carol@example.com")
    assert (done.status_code, done["Location"]) == (302, f"/organisations/{organisation.pk}/")
    membership = OrganisationMembership.objects.get(user=carol, organisation=organisation)
    assert membership.role == "USER"
    assert InviteLink.objects.filter(pk=link.pk).exists()
