"""Two-factor sign-in with an authenticator app (Flagsmith's routes), codes computed by pyotp."""

from __future__ import annotations

import base64
import time
from typing import Any

import pyotp
import pytest
from django.test import Client
from rest_framework.test import APIClient

from vexil.audit.models import AuditLog
from vexil.audit.services import Actor
from vexil.organisations.models import Organisation, OrganisationRole
from vexil.organisations.services import organisation_create, organisation_member_add
from vexil.users.models import RateLimitBucket, TOTPDevice, User
from vexil.users.services import auth_token_issue

ACTIVATE = "/api/v1/auth/app/activate/"
CONFIRM = "/api/v1/auth/app/activate/confirm/"
DEACTIVATE = "/api/v1/auth/app/deactivate/"
REGENERATE = "/api/v1/auth/app/backup-codes/regenerate/"
METHODS = "/api/v1/auth/mfa/user-active-methods/"
LOGIN = "/api/v1/auth/login/"
LOGIN_CODE = "/api/v1/auth/login/code/"
PASSWORD = "correct horse 1"


@pytest.fixture
def client(organisation_admin: User) -> APIClient:
    return APIClient(HTTP_AUTHORIZATION=f"Token {auth_token_issue(user=organisation_admin)}")


def _code(secret: str, offset_steps: int = 0) -> str:
    return pyotp.TOTP(secret).at(time.time() + 30 * offset_steps)


def _enrol(client: APIClient) -> tuple[str, list[str]]:
    secret = client.post(ACTIVATE).json()["secret"]
    response = client.post(CONFIRM, {"code": _code(secret)})
    assert response.status_code == 200, response.json()
    return secret, response.json()["backup_codes"]


def _step_forward(user: User) -> None:
    """Forget the last accepted step, as if the next code were shown 30 s later."""
    TOTPDevice.objects.filter(user=user).update(last_step=0)


def test_activate__new__secret_uri_and_qr(client: APIClient) -> None:
    response = client.post(ACTIVATE)
    assert response.status_code == 200
    body = response.json()
    assert len(body["secret"]) == 32
    assert body["qr_link"] == (
        f"otpauth://totp/Vexil:owner%40example.com?secret={body['secret']}&issuer=Vexil"
    )
    assert body["qr_svg"].startswith("data:image/svg+xml;base64,")
    assert b"<svg" in base64.b64decode(body["qr_svg"].split(",", 1)[1])
    # repeating it keeps the secret, until confirmed
    assert client.post(ACTIVATE).json()["secret"] == body["secret"]
    assert client.get(METHODS).json() == []


def test_confirm__valid_code__active_and_five_hashed_backup_codes(
    client: APIClient, organisation_admin: User
) -> None:
    _, codes = _enrol(client)
    assert len(codes) == 5
    assert all(len(code) == 10 and code.isalnum() for code in codes)
    device = TOTPDevice.objects.get(user=organisation_admin)
    assert device.is_active
    assert not set(codes) & set(device.backup_codes)  # stored hashed
    assert client.get(METHODS).json() == [{"name": "app", "is_primary": True}]
    assert client.post(ACTIVATE).json()["error"] == "MFA method already active."


@pytest.mark.parametrize("offset", [-2, 2])
def test_confirm__code_outside_one_step__refused(client: APIClient, offset: int) -> None:
    secret = client.post(ACTIVATE).json()["secret"]
    response = client.post(CONFIRM, {"code": _code(secret, offset)})
    assert response.status_code == 400
    assert response.json()["code"] == ["Code invalid or expired."]


def test_confirm__code_one_step_early__accepted(client: APIClient) -> None:
    secret = client.post(ACTIVATE).json()["secret"]
    assert client.post(CONFIRM, {"code": _code(secret, -1)}).status_code == 200


def _password_login() -> dict[str, Any]:
    response = APIClient().post(LOGIN, {"email": "owner@example.com", "password": PASSWORD})
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def test_login__two_factor_on__ephemeral_token_then_code_gives_token(
    client: APIClient, organisation_admin: User
) -> None:
    # Given
    secret, _ = _enrol(client)
    _step_forward(organisation_admin)
    # When
    first = _password_login()
    assert set(first) == {"ephemeral_token", "method"}
    assert first["method"] == "app"
    second = APIClient().post(
        LOGIN_CODE, {"ephemeral_token": first["ephemeral_token"], "code": _code(secret)}
    )
    # Then
    assert second.status_code == 200
    token = second.json()["key"]
    me = APIClient(HTTP_AUTHORIZATION=f"Token {token}").get("/api/v1/auth/users/me/")
    assert me.status_code == 200
    # and the same code cannot be replayed
    replay = APIClient().post(
        LOGIN_CODE, {"ephemeral_token": _password_login()["ephemeral_token"], "code": _code(secret)}
    )
    assert replay.status_code == 401
    assert replay.json()["error"] == "Invalid or expired code."


def test_login_code__backup_code__accepted_once(client: APIClient) -> None:
    _, codes = _enrol(client)
    token = _password_login()["ephemeral_token"]
    first = APIClient().post(LOGIN_CODE, {"ephemeral_token": token, "code": codes[0]})
    again = APIClient().post(LOGIN_CODE, {"ephemeral_token": token, "code": codes[0]})
    assert first.status_code == 200
    assert again.status_code == 401


def test_login_code__bad_token__401(client: APIClient) -> None:
    _enrol(client)
    response = APIClient().post(LOGIN_CODE, {"ephemeral_token": "forged", "code": "123456"})
    assert response.status_code == 401
    assert response.json()["error"] == "Invalid or expired token."


def _guess(token: str) -> int:
    return APIClient().post(LOGIN_CODE, {"ephemeral_token": token, "code": "000000"}).status_code


def test_login_code__guessing__throttled_per_token_and_per_user(client: APIClient) -> None:
    # Given an enrolled user, a minute later (the enrolment's code counted too)
    _enrol(client)
    RateLimitBucket.objects.all().delete()
    # When one token guesses, then a fresh token for the same user does
    first = [_guess(_password_login()["ephemeral_token"]) for _ in range(1)]
    token = _password_login()["ephemeral_token"]
    same_token = [_guess(token) for _ in range(5)]
    # Then five guesses a minute per user, whatever the token
    assert first == [401]
    assert same_token == [401] * 4 + [429]
    RateLimitBucket.objects.filter(key__startswith="mfa:user:").delete()
    # a minute later the user may guess again, but not with a token that spent its five
    assert _guess(token) == 429
    assert _guess(_password_login()["ephemeral_token"]) == 401


def test_deactivate__needs_a_current_code(client: APIClient, organisation_admin: User) -> None:
    secret, _ = _enrol(client)
    _step_forward(organisation_admin)
    refused = client.post(DEACTIVATE, {"code": "000000"})
    assert refused.status_code == 400
    assert TOTPDevice.objects.filter(user=organisation_admin, is_active=True).exists()
    done = client.post(DEACTIVATE, {"code": _code(secret)})
    assert done.status_code == 204
    assert client.get(METHODS).json() == []
    assert set(_password_login()) == {"key"}


def test_backup_codes_regenerate__with_code__old_ones_void(
    client: APIClient, organisation_admin: User
) -> None:
    secret, old = _enrol(client)
    _step_forward(organisation_admin)
    response = client.post(REGENERATE, {"code": _code(secret)})
    assert response.status_code == 200
    new = response.json()["backup_codes"]
    assert len(new) == 5
    token = _password_login()["ephemeral_token"]
    assert (
        APIClient().post(LOGIN_CODE, {"ephemeral_token": token, "code": old[0]}).status_code == 401
    )


def test_dashboard_sign_in__two_factor_on__no_session_from_password_alone(
    client: APIClient,
) -> None:
    _enrol(client)
    browser = Client()
    response = browser.post("/sign-in/", {"email": "owner@example.com", "password": PASSWORD})
    # The password only leads to the code step; the account page still wants a sign-in.
    assert response.status_code == 302
    assert response["Location"] == "/sign-in/code/"
    account = browser.get("/account/")
    assert account.status_code == 302
    assert account["Location"].startswith("/sign-in/")


def test_force_2fa__member_without_two_factor__403_until_enrolled(
    client: APIClient, organisation: Organisation, organisation_admin: User
) -> None:
    # Given
    Organisation.objects.filter(pk=organisation.pk).update(force_2fa=True)
    # When
    refused = client.get("/api/v1/organisations/")
    # Then
    assert refused.status_code == 403
    assert refused.json()["code"] == "two_factor_required"
    # The auth endpoints stay open, so the member can turn it on
    _enrol(client)
    assert client.get("/api/v1/organisations/").status_code == 200


# --- Audit: turning two-factor on and off and new backup codes, in each of the user's logs -----


def _account_entries(organisation_id: int, admin: User) -> list[dict[str, Any]]:
    """The ``user`` rows of an organisation's audit log, read through the API by its admin."""
    reader = APIClient(HTTP_AUTHORIZATION=f"Token {auth_token_issue(user=admin)}")
    response = reader.get(f"/api/v1/organisations/{organisation_id}/audit/?page_size=100")
    assert response.status_code == 200
    return [
        {
            "log": row["log"],
            "author": row["author"]["email"] if row["author"] else None,
            "related_object_id": row["related_object_id"],
        }
        for row in response.json()["results"]
        if row["related_object_type"] == "user"
    ]


@pytest.fixture
def second_organisation(organisation_admin: User) -> tuple[Organisation, User]:
    """Another organisation, with its own administrator, where the user is a plain member."""
    admin = User.objects.create_user(email="beta-admin@example.com", password=PASSWORD)
    beta = organisation_create(name="Beta", creator=admin, actor=Actor(user=admin))
    organisation_member_add(
        organisation=beta, user=organisation_admin, role=OrganisationRole.USER, actor=Actor()
    )
    return beta, admin


def test_two_factor_audit__enable_regenerate_disable__one_entry_each_in_every_organisation(
    client: APIClient,
    organisation: Organisation,
    organisation_admin: User,
    second_organisation: tuple[Organisation, User],
) -> None:
    # Given
    beta, beta_admin = second_organisation
    outsider = User.objects.create_user(email="gamma-admin@example.com", password=PASSWORD)
    gamma = organisation_create(name="Gamma", creator=outsider, actor=Actor(user=outsider))
    # When
    secret, _ = _enrol(client)
    _step_forward(organisation_admin)
    assert client.post(REGENERATE, {"code": _code(secret)}).status_code == 200
    _step_forward(organisation_admin)
    assert client.post(DEACTIVATE, {"code": _code(secret)}).status_code == 204
    # Then: newest first, authored by the user, about the user, in both of their organisations
    expected = [
        {
            "log": log,
            "author": "owner@example.com",
            "related_object_id": str(organisation_admin.pk),
        }
        for log in (
            "Two-factor sign-in disabled for owner@example.com",
            "Two-factor backup codes regenerated for owner@example.com",
            "Two-factor sign-in enabled for owner@example.com",
        )
    ]
    assert _account_entries(organisation.pk, organisation_admin) == expected
    assert _account_entries(beta.pk, beta_admin) == expected
    assert _account_entries(gamma.pk, outsider) == []


def test_two_factor_audit__enable__before_and_after_in_the_entry(
    client: APIClient, organisation: Organisation, organisation_admin: User
) -> None:
    _enrol(client)
    row = AuditLog.objects.get(organisation=organisation, resource_type="user")
    detail = client.get(f"/api/v1/audit/{row.pk}/").json()
    assert (detail["action"], detail["before"], detail["after"]) == (
        "UPDATE",
        {"two_factor": False},
        {"two_factor": True},
    )


def test_two_factor_audit__refused_codes__no_entry(
    client: APIClient, organisation: Organisation, organisation_admin: User
) -> None:
    # Given
    secret = client.post(ACTIVATE).json()["secret"]
    wrong = f"{(int(_code(secret)) + 500_000) % 1_000_000:06d}"
    # When: a wrong first code; then, enrolled, wrong codes to regenerate and to turn it off
    assert client.post(CONFIRM, {"code": wrong}).status_code == 400
    assert _account_entries(organisation.pk, organisation_admin) == []
    assert client.post(CONFIRM, {"code": _code(secret)}).status_code == 200
    _step_forward(organisation_admin)
    assert client.post(REGENERATE, {"code": wrong}).status_code == 400
    assert client.post(DEACTIVATE, {"code": wrong}).status_code == 400
    # Then: only the enrolment is in the log
    assert [e["log"] for e in _account_entries(organisation.pk, organisation_admin)] == [
        "Two-factor sign-in enabled for owner@example.com"
    ]


def test_two_factor_audit__dashboard_pages__same_entries(
    organisation: Organisation, organisation_admin: User
) -> None:
    # Given: a browser session on the dashboard's two-factor page
    browser = Client()
    browser.force_login(organisation_admin)
    started = browser.post("/account/two-factor/", {"action": "start"})
    assert started.status_code == 200
    secret = TOTPDevice.objects.get(user=organisation_admin).secret
    # When
    on = browser.post("/account/two-factor/", {"action": "confirm", "confirm-code": _code(secret)})
    _step_forward(organisation_admin)
    off = browser.post(
        "/account/two-factor/", {"action": "deactivate", "deactivate-code": _code(secret)}
    )
    # Then
    assert (on.status_code, off.status_code) == (200, 200)
    assert [e["log"] for e in _account_entries(organisation.pk, organisation_admin)] == [
        "Two-factor sign-in disabled for owner@example.com",
        "Two-factor sign-in enabled for owner@example.com",
    ]
