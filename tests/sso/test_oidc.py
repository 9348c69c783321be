"""OpenID Connect sign-in against a real provider on loopback (tests/sso/provider), without a
browser: Django's test client is Vexil's browser, ``requests`` signs in at the provider."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pyotp
import pytest
from django.test import Client
from rest_framework.test import APIClient

from tests.sso.conftest import provider_sign_in
from vexil.audit.models import AuditLog
from vexil.audit.services import Actor
from vexil.invites.services import InviteRequest, invites_create
from vexil.organisations.models import Organisation, OrganisationMembership
from vexil.users import two_factor
from vexil.users.models import User

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sso_settings")]


def _start(client: Client, next_path: str = "/") -> str:
    response = client.get("/sso/oidc/login/", {"next": next_path})
    assert response.status_code == 302
    return str(response["Location"])


def _callback(client: Client, location: str) -> Any:
    parts = urlsplit(location)
    assert (parts.scheme, parts.netloc, parts.path) == ("http", "testserver", "/sso/oidc/callback/")
    return client.get(f"{parts.path}?{parts.query}")


def _signed_in_as(client: Client) -> str | None:
    response = client.get("/account/")
    return response.context["user"].email if response.status_code == 200 else None


def test_sso__existing_account__signed_in_and_sent_on(organisation_admin: User) -> None:
    # Given
    client = Client()
    authorize = _start(client, "/account/")
    # When
    response = _callback(client, provider_sign_in(authorize, "owner@example.com"))
    # Then
    assert response.status_code == 302
    assert response["Location"] == "/account/"
    assert _signed_in_as(client) == "owner@example.com"


def test_sso__authorization_request__pkce_state_and_nonce(sso_settings: Any) -> None:
    query = parse_qs(urlsplit(_start(Client())).query)

    assert query["response_type"] == ["code"]
    assert query["client_id"] == ["vexil-dashboard"]
    assert query["scope"] == ["openid email profile"]
    assert query["redirect_uri"] == ["http://testserver/sso/oidc/callback/"]
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) == 43
    assert len(query["state"][0]) >= 32
    assert len(query["nonce"][0]) >= 32


def test_sso__callback_twice__second_refused(organisation_admin: User) -> None:
    client = Client()
    location = provider_sign_in(_start(client), "owner@example.com")
    assert _callback(client, location).status_code == 302
    client.post("/sign-out/")

    response = _callback(client, location)

    assert response.status_code == 400
    assert _signed_in_as(client) is None


def test_sso__state_from_another_browser__refused(organisation_admin: User) -> None:
    # Given: a code and state obtained for one browser, delivered to another (login CSRF)
    victim, attacker = Client(), Client()
    location = provider_sign_in(_start(attacker), "owner@example.com")
    _start(victim)
    # When
    response = _callback(victim, location)
    # Then
    assert response.status_code == 400
    assert "could not be verified" in response.content.decode()
    assert _signed_in_as(victim) is None


def test_sso__nonce_mismatch__id_token_refused(organisation_admin: User) -> None:
    client = Client()
    location = provider_sign_in(_start(client), "owner@example.com")
    session = client.session
    session["vexil_sso_pending"]["nonce"] = "not-the-nonce-sent"
    session.save()

    response = _callback(client, location)

    assert response.status_code == 400
    assert "could not be verified" in response.content.decode()
    assert _signed_in_as(client) is None


def test_sso__wrong_pkce_verifier__provider_refuses_the_code(organisation_admin: User) -> None:
    client = Client()
    location = provider_sign_in(_start(client), "owner@example.com")
    session = client.session
    session["vexil_sso_pending"]["verifier"] = "x" * 64
    session.save()

    response = _callback(client, location)

    assert response.status_code == 400
    assert _signed_in_as(client) is None


def test_sso__no_account_and_no_creation__refused(db: None) -> None:
    client = Client()

    response = _callback(client, provider_sign_in(_start(client), "newcomer@example.com"))

    assert response.status_code == 400
    assert "no Vexil account" in response.content.decode()
    assert not User.objects.filter(email="newcomer@example.com").exists()


def test_sso__creation_on__account_made_in_the_organisation_with_the_role(
    sso_settings: Any, organisation: Organisation
) -> None:
    # Given
    sso_settings.OIDC_CREATE_USERS = True
    sso_settings.OIDC_NEW_USER_ORGANISATION = organisation.pk
    sso_settings.OIDC_NEW_USER_ROLE = "USER"
    client = Client()
    # When
    response = _callback(client, provider_sign_in(_start(client), "newcomer@example.com"))
    # Then
    assert response.status_code == 302
    user = User.objects.get(email="newcomer@example.com")
    assert (user.first_name, user.has_usable_password()) == ("Nia", False)
    membership = OrganisationMembership.objects.get(user=user)
    assert (membership.organisation_id, membership.role) == (organisation.pk, "USER")
    assert _signed_in_as(client) == "newcomer@example.com"
    # audited in that organisation: the membership, and the account made by SSO
    entries = AuditLog.objects.filter(organisation=organisation, author=user).order_by("id")
    assert [(e.resource_type, e.log) for e in entries] == [
        ("organisation_membership", "newcomer@example.com joined 'Acme' as USER"),
        ("user", "Account newcomer@example.com created by its first single sign-on"),
    ]


def test_sso__creation_on_but_organisation_full__refused_and_nothing_made(
    sso_settings: Any, organisation: Organisation, organisation_admin: User
) -> None:
    # Given an organisation whose one seat is taken (by its administrator)
    sso_settings.OIDC_CREATE_USERS = True
    sso_settings.OIDC_NEW_USER_ORGANISATION = organisation.pk
    sso_settings.MAX_SEATS_PER_ORGANISATION = 1
    client = Client()
    # When a newcomer signs in for the first time
    response = _callback(client, provider_sign_in(_start(client), "newcomer@example.com"))
    # Then the sign-in is refused, saying why, and no account or membership is made
    assert response.status_code == 400
    assert "no free seat" in response.content.decode()
    assert _signed_in_as(client) is None
    assert not User.objects.filter(email="newcomer@example.com").exists()
    assert OrganisationMembership.objects.filter(organisation=organisation).count() == 1


def test_sso__unverified_email__refused(sso_settings: Any) -> None:
    sso_settings.OIDC_CREATE_USERS = True
    User.objects.create_user(email="unsure@example.com", password="whatever horse 5")
    client = Client()

    response = _callback(client, provider_sign_in(_start(client), "unsure@example.com"))

    assert response.status_code == 400
    assert "not verified" in response.content.decode()
    assert _signed_in_as(client) is None


def test_sso__domain_not_allowed__refused(sso_settings: Any) -> None:
    sso_settings.OIDC_CREATE_USERS = True
    sso_settings.OIDC_ALLOWED_EMAIL_DOMAINS = ["example.com"]
    client = Client()

    response = _callback(client, provider_sign_in(_start(client), "outsider@elsewhere.test"))

    assert response.status_code == 400
    assert "elsewhere.test may not sign in" in response.content.decode()
    assert not User.objects.filter(email="outsider@elsewhere.test").exists()


def test_sso__two_factor_on__code_step_before_the_session(organisation_admin: User) -> None:
    # Given
    secret = two_factor.totp_activate(user=organisation_admin)["secret"]
    two_factor.totp_confirm(user=organisation_admin, code=pyotp.TOTP(secret).now())
    two_factor.TOTPDevice.objects.filter(user=organisation_admin).update(last_step=0)
    client = Client()
    # When
    response = _callback(client, provider_sign_in(_start(client, "/account/"), "owner@example.com"))
    # Then
    assert response.status_code == 302
    assert response["Location"] == "/sign-in/code/"
    assert _signed_in_as(client) is None
    finished = client.post("/sign-in/code/", {"code": pyotp.TOTP(secret).now()})
    assert (finished.status_code, finished["Location"]) == (302, "/account/")
    assert _signed_in_as(client) == "owner@example.com"


def test_sso__provider_on_loopback_not_allowed__refused_before_connecting(
    sso_settings: Any,
) -> None:
    sso_settings.VEXIL_WEBHOOK_ALLOWED_NETWORKS = []

    response = Client().get("/sso/oidc/login/")

    assert response.status_code == 502
    assert "could not be reached" in response.content.decode()


def test_sso__not_configured__404(sso_settings: Any) -> None:
    sso_settings.OIDC_ISSUER = ""

    assert Client().get("/sso/oidc/login/").status_code == 404
    assert "Sign in with SSO" not in Client().get("/sign-in/").content.decode()


def test_sign_in_page__sso_on__button_shown(sso_settings: Any) -> None:
    body = Client().get("/sign-in/").content.decode()

    assert ">Sign in with SSO</a>" in body
    assert 'href="/sso/oidc/login/?next=/"' in body


def test_prevent_email_password__api_and_dashboard_refuse_passwords(
    sso_settings: Any, organisation_admin: User
) -> None:
    # Given
    sso_settings.PREVENT_EMAIL_PASSWORD = True
    credentials = {"email": "owner@example.com", "password": "correct horse 1"}
    # When
    api = APIClient().post("/api/v1/auth/login/", credentials)
    browser = Client()
    page = browser.post("/sign-in/", credentials)
    # Then
    assert api.status_code == 403
    assert api.json()["detail"] == "Password login is disabled: sign in with single sign-on."
    assert page.status_code == 403
    assert _signed_in_as(browser) is None
    body = browser.get("/sign-in/").content.decode()
    assert 'name="password"' not in body
    assert ">Sign in with SSO</a>" in body


def test_prevent_email_password__password_sign_up__refused_and_invitee_joins_by_sso(
    sso_settings: Any, organisation: Organisation, organisation_admin: User
) -> None:
    # Given password sign-in off, accounts made by SSO, and an e-mail invite for a newcomer
    sso_settings.PREVENT_EMAIL_PASSWORD = True
    sso_settings.OIDC_CREATE_USERS = True
    [invite] = invites_create(
        organisation=organisation,
        invites=[InviteRequest("newcomer@example.com", "ADMIN")],
        invited_by=organisation_admin,
        actor=Actor(user=organisation_admin),
        send_email=False,
    )
    new = {"email": "newcomer@example.com", "password": "a long passphrase 7"}
    browser = Client()
    # When they try to sign up with a password: by the API, the sign-up page, the invite page
    api = APIClient().post("/api/v1/auth/users/", new | {"sign_up_type": "NO_INVITE"})
    page = browser.post("/sign-up/", new | {"first_name": "Nia", "last_name": "N"})
    invite_page = f"/invite/{invite.hash}"
    by_invite = browser.post(f"{invite_page}/sign-up/", new | {"first_name": "Nia"})
    # Then each is refused, and no account is made
    assert api.status_code == 403
    assert api.json()["detail"] == (
        "Sign-up with a password is disabled: sign in with single sign-on."
    )
    assert (page.status_code, by_invite.status_code) == (403, 403)
    assert "Sign in with SSO" in page.content.decode()
    assert not User.objects.filter(email="newcomer@example.com").exists()
    assert "Create an account" not in browser.get("/sign-in/").content.decode()
    offer = browser.get(invite_page).content.decode()
    assert 'name="password"' not in offer
    assert "/sso/oidc/login/?next=/invite/" in offer
    # When they sign in by SSO from the invite page instead
    response = _callback(browser, provider_sign_in(_start(browser, invite_page), new["email"]))
    assert (response.status_code, response["Location"]) == (302, invite_page)
    joined = browser.post(invite_page)
    # Then the account exists and joins with the invite's role
    assert joined.status_code == 302
    membership = OrganisationMembership.objects.get(user__email="newcomer@example.com")
    assert (membership.organisation_id, membership.role) == (organisation.pk, "ADMIN")
