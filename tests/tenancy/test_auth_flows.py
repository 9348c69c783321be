from __future__ import annotations

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from tests.auth.sign_up import CHECK_EMAIL, sign_up_and_confirm
from tests.permission_matrix.conftest import PASSWORD, World
from vexil.users.models import User
from vexil.users.throttles import AuthRateThrottle

LOGIN = "/api/v1/auth/login/"
REGISTER = "/api/v1/auth/users/"


def test_register__open__confirmed_token_that_works(db: None) -> None:
    # When
    token = sign_up_and_confirm(
        {"email": "New@Example.com", "password": PASSWORD, "first_name": "Ny"}
    )
    # Then
    me = APIClient(HTTP_AUTHORIZATION=f"Token {token}").get("/api/v1/auth/users/me/").json()
    assert (me["email"], me["first_name"]) == ("new@example.com", "Ny")


def test_register__address_in_use__same_201_as_a_new_one_nothing_changed(world: World) -> None:
    before = User.objects.count()
    taken = APIClient().post(REGISTER, {"email": "admin@acme.test", "password": PASSWORD})
    new = APIClient().post(REGISTER, {"email": "nobody@acme.test", "password": PASSWORD})
    assert (taken.status_code, taken.json()) == (new.status_code, new.json()) == (201, CHECK_EMAIL)
    assert User.objects.count() == before


@override_settings(ALLOW_REGISTRATION_WITHOUT_INVITE=False)
def test_register__invite_only__403_and_no_user(db: None) -> None:
    response = APIClient().post(REGISTER, {"email": "x@example.com", "password": PASSWORD})
    assert response.status_code == 403
    assert response.json() == {
        "detail": "Registration is by invitation only.",
        "code": "permission_denied",
    }
    assert User.objects.count() == 0


@override_settings(USER_CREATE_PERMISSIONS=["djoser.permissions.CurrentUserOrAdmin"])
def test_register__admin_only_permissions__anonymous_refused(db: None) -> None:
    response = APIClient().post(REGISTER, {"email": "x@example.com", "password": PASSWORD})
    assert response.status_code == 401
    assert User.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "not-an-email", "password": PASSWORD}, "email"),
        ({"email": "x@example.com", "password": "123"}, "password"),
        ({"password": PASSWORD}, "email"),
    ],
)
def test_register__bad_input__400_names_field(world: World, body: dict, field: str) -> None:
    before = User.objects.count()
    response = APIClient().post(REGISTER, body, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert field in response.json()
    assert User.objects.count() == before


def test_login__right_password__token(world: World) -> None:
    response = APIClient().post(LOGIN, {"email": "ADMIN@acme.test", "password": PASSWORD})
    assert response.status_code == 200
    assert set(response.json()) == {"key"}


def test_login__wrong_password__400_standard_shape(world: World) -> None:
    response = APIClient().post(LOGIN, {"email": "admin@acme.test", "password": "nope"})
    assert response.status_code == 400
    assert response.json() == {
        "detail": "Invalid input.",
        "code": "invalid",
        "non_field_errors": ["Unable to log in with the provided credentials."],
    }


@override_settings(AXES_FAILURE_LIMIT=3, AUTH_THROTTLE_RATE="1000/min")
def test_login__too_many_failures__locked_out_even_with_right_password(world: World) -> None:
    client = APIClient()
    for _ in range(3):
        client.post(LOGIN, {"email": "admin@acme.test", "password": "nope"})
    # When
    response = client.post(LOGIN, {"email": "admin@acme.test", "password": PASSWORD})
    # Then
    assert response.status_code == 429
    assert response.json() == {
        "detail": "Account locked: too many login attempts. Please try again later.",
        "code": "locked_out",
    }
    assert response["Retry-After"] == "1800"


def test_login__throttled_after_rate__429(world: World, monkeypatch) -> None:
    # DRF reads the rates once, at import: patch the class attribute it copied them to.
    monkeypatch.setattr(AuthRateThrottle, "THROTTLE_RATES", {"auth": "2/min"})
    client = APIClient()
    responses = [client.post(LOGIN, {"email": "a@b.test", "password": "x"}) for _ in range(3)]
    assert [r.status_code for r in responses] == [400, 400, 429]
    assert responses[2].json()["code"] == "throttled"


def test_set_password__right_current__other_tokens_revoked(world: World) -> None:
    # Given
    other = APIClient(HTTP_AUTHORIZATION=world.credentials["org_admin"])
    login = APIClient().post(LOGIN, {"email": "admin@acme.test", "password": PASSWORD})
    current = APIClient(HTTP_AUTHORIZATION=f"Token {login.json()['key']}")
    # When
    response = current.post(
        "/api/v1/auth/users/set_password/",
        {"current_password": PASSWORD, "new_password": "a brand new horse 7"},
    )
    # Then
    assert response.status_code == 204
    assert current.get("/api/v1/auth/users/me/").status_code == 200
    assert other.get("/api/v1/auth/users/me/").status_code == 401


def test_delete_me__last_admin_with_members__400_and_kept(world: World) -> None:
    client = world.clients["org_admin"]
    response = client.delete(
        "/api/v1/auth/users/me/", {"current_password": PASSWORD}, format="json"
    )
    assert response.status_code == 400
    assert "Acme" in response.json()["non_field_errors"][0]
    assert User.objects.filter(email="admin@acme.test").exists()
