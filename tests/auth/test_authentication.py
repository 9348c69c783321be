from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from vexil.api_keys.models import MasterAPIKey
from vexil.api_keys.services import master_api_key_create, master_api_key_revoke
from vexil.audit.services import Actor
from vexil.organisations.models import Organisation
from vexil.users.models import User
from vexil.users.services import auth_token_issue

ME = "/api/v1/auth/users/me/"
ORGANISATIONS = "/api/v1/organisations/"
PASSWORD = "correct horse 1"


def _client(header: str) -> APIClient:
    return APIClient(HTTP_AUTHORIZATION=header)


@pytest.fixture
def user(db: None) -> User:
    return User.objects.create_user(email="ada@example.com", password=PASSWORD)


def test_token__issued__stored_only_as_digest(user: User) -> None:
    # When
    token = auth_token_issue(user=user)
    # Then
    row = AuthToken.objects.get(user=user)
    assert row.digest == hashlib.sha512(token.encode()).hexdigest()
    assert token not in {row.digest, row.token_key} | {str(v) for v in vars(row).values()}
    assert _client(f"Token {token}").get(ME).json()["email"] == "ada@example.com"


def test_token__default_ttl__expires_in_720_hours(user: User) -> None:
    auth_token_issue(user=user)
    expiry = AuthToken.objects.get(user=user).expiry
    assert expiry is not None
    assert abs(expiry - (timezone.now() + timedelta(hours=720))) < timedelta(minutes=1)


def test_token__expired__401_and_deleted(user: User) -> None:
    # Given
    token = auth_token_issue(user=user)
    AuthToken.objects.filter(user=user).update(expiry=timezone.now() - timedelta(seconds=1))
    # When
    response = _client(f"Token {token}").get(ME)
    # Then
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid token.", "code": "authentication_failed"}
    assert AuthToken.objects.filter(user=user).count() == 0


@pytest.mark.parametrize(
    "header",
    ["Token", "Token a b", "Token nonsense", "Token " + "f" * 64, "token " + "0" * 64],
)
def test_token__malformed_or_unknown__401_standard_shape(user: User, header: str) -> None:
    response = _client(header).get(ME)
    assert response.status_code == 401
    assert set(response.json()) == {"detail", "code"}


def test_token__non_utf8_bytes__401_not_500(user: User) -> None:
    response = APIClient().get(ME, HTTP_AUTHORIZATION="Token \xff\xfe")
    assert response.status_code == 401


def test_token__user_deactivated__401(user: User) -> None:
    token = auth_token_issue(user=user)
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert _client(f"Token {token}").get(ME).status_code == 401


def test_token__several_per_user__logout_revokes_only_the_one_used(user: User) -> None:
    # Given
    laptop, phone = auth_token_issue(user=user), auth_token_issue(user=user)
    # When
    response = _client(f"Token {laptop}").post("/api/v1/auth/logout/")
    # Then
    assert response.status_code == 204
    assert _client(f"Token {laptop}").get(ME).status_code == 401
    assert _client(f"Token {phone}").get(ME).status_code == 200


@pytest.fixture
def organisation(user: User) -> Organisation:
    from vexil.organisations.services import organisation_create

    return organisation_create(name="Acme", creator=user, actor=Actor(user=user))


def test_api_key__valid__principal_is_organisation_key(organisation: Organisation) -> None:
    # Given
    key, plaintext = master_api_key_create(
        organisation=organisation, name="CI", actor=Actor(api_key_name="setup")
    )
    # When
    response = _client(f"Api-Key {plaintext}").get(ORGANISATIONS)
    # Then
    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [organisation.pk]
    assert plaintext.startswith(key.prefix + ".")
    assert plaintext.split(".", 1)[1] not in key.hashed_key


def test_api_key__revoked__401(organisation: Organisation) -> None:
    key, plaintext = master_api_key_create(organisation=organisation, name="CI", actor=Actor())
    master_api_key_revoke(key=key, actor=Actor())
    response = _client(f"Api-Key {plaintext}").get(ORGANISATIONS)
    assert response.status_code == 401
    assert response.json() == {
        "detail": "This API key has been revoked.",
        "code": "authentication_failed",
    }


def test_api_key__expired__401(organisation: Organisation) -> None:
    key, plaintext = master_api_key_create(organisation=organisation, name="CI", actor=Actor())
    MasterAPIKey.objects.filter(pk=key.pk).update(expiry_date=timezone.now() - timedelta(days=1))
    response = _client(f"Api-Key {plaintext}").get(ORGANISATIONS)
    assert response.status_code == 401
    assert response.json()["detail"] == "This API key has expired."


@pytest.mark.parametrize(
    "header", ["Api-Key", "Api-Key x y", "Api-Key nodot", "Api-Key abc.def", "api-key \xff.x"]
)
def test_api_key__malformed_or_unknown__401(organisation: Organisation, header: str) -> None:
    response = APIClient().get(ORGANISATIONS, HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert set(response.json()) == {"detail", "code"}


def test_api_key__right_prefix_wrong_secret__401(organisation: Organisation) -> None:
    key, _ = master_api_key_create(organisation=organisation, name="CI", actor=Actor())
    response = _client(f"Api-Key {key.prefix}.wrongsecret").get(ORGANISATIONS)
    assert response.status_code == 401


def test_api_key__on_user_only_endpoint__403(organisation: Organisation) -> None:
    _, plaintext = master_api_key_create(organisation=organisation, name="CI", actor=Actor())
    response = _client(f"Api-Key {plaintext}").get(ME)
    assert response.status_code == 403


def test_no_credentials__401_with_token_challenge(db: None) -> None:
    response = APIClient().get(ORGANISATIONS)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
