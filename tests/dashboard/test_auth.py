from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from tests.auth.sign_up import confirmation_token
from tests.dashboard.conftest import PASSWORD
from vexil.users.models import User

pytestmark = pytest.mark.django_db


def test_home__signed_out__redirects_to_sign_in() -> None:
    response = Client().get("/")

    assert response.status_code == 302
    assert response["Location"] == "/sign-in/?next=/"


def test_sign_in_page__fresh_install__points_to_the_first_run_page() -> None:
    body = Client().get("/sign-in/").content.decode()

    assert 'href="/api/v1/users/config/init/"' in body


def test_sign_in_page__administrator_exists__no_first_run_pointer() -> None:
    User.objects.create_superuser(email="root@example.com", password=PASSWORD)

    body = Client().get("/sign-in/").content.decode()

    assert "/api/v1/users/config/init/" not in body


def test_sign_in_page__labels_and_security_headers() -> None:
    response = Client().get("/sign-in/")

    body = response.content.decode()
    assert response.status_code == 200
    assert '<label for="id_email">Email</label>' in body
    assert '<label for="id_password">Password</label>' in body
    assert ">Sign in</button>" in body
    policy = response["Content-Security-Policy"]
    script_src = next(p for p in policy.split(";") if p.strip().startswith("script-src"))
    assert script_src.strip() == "script-src 'self'"
    assert "frame-ancestors 'none'" in policy
    assert response["X-Frame-Options"] == "DENY"


def test_sign_in__right_password__session_cookie_httponly_lax(organisation_admin: User) -> None:
    client = Client(enforce_csrf_checks=True)
    client.get("/sign-in/")
    token = client.cookies["csrftoken"].value

    response = client.post(
        "/sign-in/",
        {"email": "OWNER@example.com", "password": PASSWORD, "csrfmiddlewaretoken": token},
    )

    assert response.status_code == 302
    assert response["Location"] == "/"
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert not cookie["secure"]


def test_sign_in__over_https__cookies_secure(organisation_admin: User) -> None:
    response = Client().post(
        "/sign-in/", {"email": "owner@example.com", "password": PASSWORD}, secure=True
    )

    assert response.status_code == 302
    assert response.cookies[settings.SESSION_COOKIE_NAME]["secure"] is True


def test_sign_in__without_csrf_token__refused(organisation_admin: User) -> None:
    client = Client(enforce_csrf_checks=True)

    response = client.post("/sign-in/", {"email": "owner@example.com", "password": PASSWORD})

    assert response.status_code == 403
    assert settings.SESSION_COOKIE_NAME not in response.cookies


def test_sign_in__wrong_password__inline_error_keeps_email(organisation_admin: User) -> None:
    response = Client().post("/sign-in/", {"email": "owner@example.com", "password": "nope"})

    body = response.content.decode()
    assert response.status_code == 400
    assert "The email or password is not correct." in body
    assert 'value="owner@example.com"' in body
    assert settings.SESSION_COOKIE_NAME not in response.cookies


def test_sign_in__after_failure_limit__locked_out_even_with_right_password(
    organisation_admin: User, settings: object
) -> None:
    client = Client()
    for _ in range(10):  # AXES_FAILURE_LIMIT
        client.post("/sign-in/", {"email": "owner@example.com", "password": "nope"})

    response = client.post("/sign-in/", {"email": "owner@example.com", "password": PASSWORD})

    assert response.status_code == 429
    assert settings.SESSION_COOKIE_NAME not in response.cookies  # type: ignore[attr-defined]


def test_sign_in__api_and_dashboard_share_the_lockout(organisation_admin: User) -> None:
    client = Client()
    for _ in range(10):
        client.post(
            "/api/v1/auth/login/",
            {"email": "owner@example.com", "password": "nope"},
            content_type="application/json",
        )

    response = client.post("/sign-in/", {"email": "owner@example.com", "password": PASSWORD})

    assert response.status_code == 429


def test_sign_in__next__only_local_paths(organisation_admin: User) -> None:
    response = Client().post(
        "/sign-in/",
        {"email": "owner@example.com", "password": PASSWORD, "next": "https://evil.example/"},
    )

    assert response["Location"] == "/"


def test_sign_out__ends_the_session(admin_client: Client) -> None:
    response = admin_client.post("/sign-out/")

    assert response.status_code == 302
    assert admin_client.get("/account/").status_code == 302


def test_sign_up__open__confirmed_link_creates_account_and_signs_in(db: None) -> None:
    client = Client()

    response = client.post(
        "/sign-up/",
        {"email": "new@example.com", "password": "a long passphrase 9", "first_name": "Ann"},
    )
    assert response.status_code == 200
    assert "Check your e-mail to finish signing up." in response.content.decode()
    assert not User.objects.filter(email="new@example.com").exists()
    confirmed = client.post(f"/sign-up/confirm/{confirmation_token('new@example.com')}")

    assert confirmed.status_code == 302
    assert User.objects.get(email="new@example.com").first_name == "Ann"
    assert client.get("/account/").status_code == 200


def test_sign_up__weak_password__field_error_nothing_created(db: None) -> None:
    response = Client().post("/sign-up/", {"email": "new@example.com", "password": "123"})

    assert response.status_code == 400
    assert 'id="id_password_error"' in response.content.decode()
    assert not User.objects.filter(email="new@example.com").exists()


def test_sign_up__registration_closed__refused(db: None, settings: object) -> None:
    settings.ALLOW_REGISTRATION_WITHOUT_INVITE = False  # type: ignore[attr-defined]

    response = Client().post("/sign-up/", {"email": "new@example.com", "password": "x" * 20})

    assert response.status_code == 403
    assert not User.objects.filter(email="new@example.com").exists()


def test_account__change_name(admin_client: Client, organisation_admin: User) -> None:
    response = admin_client.post(
        "/account/", {"form": "profile", "first_name": "Olive", "last_name": "Owner"}
    )

    assert response.status_code == 200
    organisation_admin.refresh_from_db()
    assert (organisation_admin.first_name, organisation_admin.last_name) == ("Olive", "Owner")


def test_account__change_password__session_survives(
    admin_client: Client, organisation_admin: User
) -> None:
    response = admin_client.post(
        "/account/",
        {"form": "password", "current_password": PASSWORD, "new_password": "another long one 7"},
    )

    assert response.status_code == 200
    organisation_admin.refresh_from_db()
    assert organisation_admin.check_password("another long one 7")
    assert admin_client.get("/account/").status_code == 200


def test_account__wrong_current_password__field_error_unchanged(
    admin_client: Client, organisation_admin: User
) -> None:
    response = admin_client.post(
        "/account/",
        {"form": "password", "current_password": "nope", "new_password": "another long one 7"},
    )

    assert response.status_code == 400
    assert 'id="id_current_password_error"' in response.content.decode()
    organisation_admin.refresh_from_db()
    assert organisation_admin.check_password(PASSWORD)
