"""How the management API answers requests it cannot use: the wrong authorization scheme, a body
it cannot read, a browser asking for HTML. Each answer says what was wrong and how to do it right.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from vexil.organisations.models import Organisation
from vexil.projects.models import Project
from vexil.users.models import User
from vexil.users.services import auth_token_issue

ORGANISATIONS = "/api/v1/organisations/"
PROJECTS = "/api/v1/projects/"
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
SEND_JSON = "Send the body as JSON with 'Content-Type: application/json'."


@pytest.fixture
def token_client(organisation: Organisation, organisation_admin: User) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Token {auth_token_issue(user=organisation_admin)}")


# --- Authorization schemes --------------------------------------------------------------------


@pytest.mark.parametrize("header", ["Bearer abc.def.ghi", "Basic YWRhOnNlY3JldA==", "Bearer"])
def test_authorization__unknown_scheme__401_names_accepted_schemes(db: None, header: str) -> None:
    response = Client(HTTP_AUTHORIZATION=header).get(ORGANISATIONS)

    assert response.status_code == 401
    scheme = header.split()[0]
    assert response.json() == {
        "detail": f"Unsupported authorization scheme '{scheme}'. The management API accepts "
        "'Authorization: Token <key>' or 'Authorization: Api-Key <key>'.",
        "code": "unsupported_authorization_scheme",
    }
    assert response["WWW-Authenticate"] == "Token"


def test_authorization__no_header__401_not_provided(db: None) -> None:
    response = Client().get(ORGANISATIONS)

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_authorization__unknown_scheme_beside_a_session__session_user_served(
    organisation: Organisation, organisation_admin: User
) -> None:
    # A browser's session is a credential of its own; a stray header does not take it away.
    client = Client(HTTP_AUTHORIZATION="Bearer abc")
    client.force_login(organisation_admin)

    response = client.get(ORGANISATIONS)

    assert response.status_code == 200
    assert [o["name"] for o in response.json()["results"]] == ["Acme"]


# --- Bodies that are not read as JSON ---------------------------------------------------------


def _post_json_text(client: Client, organisation: Organisation, content_type: str) -> Any:
    body = f'{{"name": "Web shop", "organisation": {organisation.pk}}}'
    return client.generic("POST", PROJECTS, body.encode(), content_type=content_type)


@pytest.mark.parametrize(
    ("content_type", "detail"),
    [
        (
            "application/x-www-form-urlencoded",
            "The body was not read as JSON: it was sent as 'application/x-www-form-urlencoded'. "
            + SEND_JSON,
        ),
        ("", "The body was not read: the request has no Content-Type. " + SEND_JSON),
        (
            "text/plain",
            "The body was not read: Content-Type 'text/plain' is not supported. " + SEND_JSON,
        ),
    ],
)
def test_json_body__not_sent_as_json__415_says_body_not_read(
    token_client: Client, organisation: Organisation, content_type: str, detail: str
) -> None:
    response = _post_json_text(token_client, organisation, content_type)

    assert response.status_code == 415
    assert response.json() == {"detail": detail, "code": "unsupported_media_type"}
    assert not Project.objects.filter(name="Web shop").exists()


def test_json_body__sent_as_json__created(token_client: Client, organisation: Organisation) -> None:
    response = _post_json_text(token_client, organisation, "application/json")

    assert response.status_code == 201


def test_form_body__real_form__still_read(organisation_admin: User) -> None:
    # Flagsmith's login accepts a form; a genuine form keeps working.
    response = Client().post(
        "/api/v1/auth/login/", {"email": organisation_admin.email, "password": "correct horse 1"}
    )

    assert response.status_code == 200
    assert set(response.json()) >= {"key"}


# --- Browsers ----------------------------------------------------------------------------------


@pytest.mark.parametrize("accept", ["text/html", BROWSER_ACCEPT])
def test_browser__anonymous__html_401_page_with_login_link(db: None, accept: str) -> None:
    response = Client().get(ORGANISATIONS, HTTP_ACCEPT=accept)

    assert response.status_code == 401
    assert response["Content-Type"] == "text/html; charset=utf-8"
    page = response.content.decode()
    assert "401 · Authentication credentials were not provided." in page
    assert 'href="/api-auth/login/?next=%2Fapi%2Fv1%2Forganisations%2F"' in page


def test_browser__ordinary_user_session__json_not_406(
    organisation: Organisation, organisation_admin: User
) -> None:
    client = Client()
    client.force_login(organisation_admin)

    response = client.get(ORGANISATIONS, HTTP_ACCEPT="text/html")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert [o["name"] for o in response.json()["results"]] == ["Acme"]


def test_browser__ordinary_user_session_refused__html_page_without_login_link(
    organisation: Organisation, organisation_admin: User
) -> None:
    client = Client()
    client.force_login(organisation_admin)

    response = client.get(f"{ORGANISATIONS}999999/", HTTP_ACCEPT="text/html")

    assert response.status_code == 404
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert "Log in" not in response.content.decode()


def test_browser__format_json_asked__json(db: None) -> None:
    response = Client().get(f"{ORGANISATIONS}?format=json", HTTP_ACCEPT=BROWSER_ACCEPT)

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_browsable_api__development__anonymous_sees_login_link(db: None, settings: Any) -> None:
    settings.DEBUG = True

    response = Client().get("/api/v1/auth/login/", HTTP_ACCEPT="text/html")

    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert "href='/api-auth/login/?next=/api/v1/auth/login/'" in response.content.decode()


def test_browsable_api__superuser_logs_in_through_link__browsable_page(superuser: User) -> None:
    # Given the login page a 401 page links to: the dashboard's sign-in (its two-factor step)
    client = Client()
    login_page = client.get("/api-auth/login/?next=/api/v1/organisations/")
    assert login_page.status_code == 302
    assert login_page["Location"] == "/sign-in/?next=%2Fapi%2Fv1%2Forganisations%2F"

    # When a superuser signs in there (no /admin/ detour)
    response = client.post(
        login_page["Location"],
        {
            "email": superuser.email,
            "password": "correct horse 1",
            "next": "/api/v1/organisations/",
        },
    )

    # Then they land on the browsable API
    assert response.status_code == 302
    assert response["Location"] == "/api/v1/organisations/"
    page = client.get("/api/v1/organisations/", HTTP_ACCEPT=BROWSER_ACCEPT)
    assert page.status_code == 200
    assert page["Content-Type"] == "text/html; charset=utf-8"
    assert "Log out" in page.content.decode()


def test_swagger_ui__browser__still_html(db: None) -> None:
    response = Client().get("/api/v1/docs/", HTTP_ACCEPT=BROWSER_ACCEPT)

    assert response.status_code == 200
    assert "swagger-ui" in response.content.decode()
