"""The new sign-in pages by principal (anonymous, a member, a member that force_2fa holds back)
and under hostile input: none answers 5xx, and each principal gets the page or the redirect it
should."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from vexil.organisations.models import Organisation
from vexil.users.models import User

pytestmark = pytest.mark.django_db

HUGE_UID = urlsafe_base64_encode(force_bytes(2**64 + 7))
RESET = "/password-reset/confirm/{uid}/abc-0123456789abcdef0123456789abcdef"


@pytest.fixture
def clients(organisation: Organisation, organisation_admin: User) -> dict[str, Client]:
    held_back = User.objects.create_user(email="held@example.com", password="correct horse 1")
    forcing = Organisation.objects.create(name="Strict", force_2fa=True)
    forcing.memberships.create(user=held_back, role="USER")
    member, held = Client(), Client()
    member.force_login(organisation_admin)
    held.force_login(held_back)
    return {"anonymous": Client(), "member": member, "held_back": held}


PAGES: list[tuple[str, dict[str, tuple[int, str]]]] = [
    (
        "/account/two-factor/",
        {
            "anonymous": (302, "/sign-in/?next=/account/two-factor/"),
            "member": (200, ""),
            "held_back": (200, ""),
        },
    ),
    (
        "/account/",
        {
            "anonymous": (302, "/sign-in/?next=/account/"),
            "member": (200, ""),
            "held_back": (302, "/account/two-factor/"),
        },
    ),
    ("/sign-in/code/", dict.fromkeys(("anonymous", "member", "held_back"), (302, "/sign-in/"))),
    ("/password-reset/", dict.fromkeys(("anonymous", "member", "held_back"), (200, ""))),
    (RESET.format(uid="MQ"), dict.fromkeys(("anonymous", "member", "held_back"), (200, ""))),
    ("/sso/oidc/login/", dict.fromkeys(("anonymous", "member", "held_back"), (404, ""))),
    ("/sso/oidc/callback/", dict.fromkeys(("anonymous", "member", "held_back"), (404, ""))),
]


@pytest.mark.parametrize(("path", "expected"), PAGES, ids=[p for p, _ in PAGES])
def test_pages__each_principal__expected_answer(
    clients: dict[str, Client], path: str, expected: dict[str, tuple[int, str]]
) -> None:
    actual = {}
    for name, client in clients.items():
        response = client.get(path)
        actual[name] = (response.status_code, response.get("Location", ""))
    assert actual == expected


HOSTILE_POSTS: list[tuple[str, dict[str, Any]]] = [
    ("/password-reset/", {"email": "a\x00b@example.com"}),
    ("/password-reset/", {"email": "x" * 100_000 + "@example.com"}),
    ("/password-reset/", {"email": ["a@example.com", "b@example.com"]}),
    (RESET.format(uid=HUGE_UID), {"new_password": "x", "re_new_password": "x"}),
    (RESET.format(uid="!!!!"), {"new_password": "x", "re_new_password": "x"}),
    (RESET.format(uid="MQ"), {"new_password": "\x00" * 10, "re_new_password": "\x00" * 10}),
    (RESET.format(uid="MQ"), {"new_password": "é" * 50_000, "re_new_password": "é"}),
    ("/sign-in/code/", {"code": "\x00"}),
    ("/sign-in/code/", {"code": "9" * 100_000}),
    ("/account/two-factor/", {"action": "confirm", "confirm-code": "\x00"}),
    ("/account/two-factor/", {"action": "deactivate", "deactivate-code": "1" * 10_000}),
    ("/account/two-factor/", {"action": "regenerate", "regenerate-code": ""}),
    ("/account/two-factor/", {"action": "\x00" * 3}),
    ("/sign-in/", {"email": "a@b.c", "password": "p" * 100_000}),
]


@pytest.mark.parametrize(("path", "body"), HOSTILE_POSTS, ids=lambda v: str(v)[:40])
def test_pages__hostile_posts__never_5xx(
    clients: dict[str, Client], path: str, body: dict[str, Any]
) -> None:
    for name, client in clients.items():
        status = client.post(path, body).status_code
        assert 400 <= status < 500 or status in (200, 302), f"{name}: {status}"


HOSTILE_GETS = [
    RESET.format(uid=HUGE_UID),
    "/password-reset/confirm/" + "A" * 64 + "/" + "1-" + "f" * 120,
    "/sso/oidc/callback/?state=%00&code=" + "c" * 10_000,
    "/sso/oidc/callback/?state=a&state=b&error=%00",
    "/sso/oidc/login/?next=https://evil.example/",
    "/sign-in/code/?next=%00",
]


@pytest.mark.parametrize("path", HOSTILE_GETS, ids=lambda v: v[:40])
def test_pages__hostile_gets__never_5xx(clients: dict[str, Client], path: str) -> None:
    for name, client in clients.items():
        status = client.get(path).status_code
        assert status < 500, f"{name}: {status}"


@pytest.mark.usefixtures("sso_settings")
@pytest.mark.parametrize(
    "path",
    [
        "/sso/oidc/callback/?state=forged&code=" + "c" * 10_000,
        "/sso/oidc/callback/?state=a&state=b&error=access_denied",
        "/sso/oidc/callback/?code=stolen",
    ],
    ids=["huge code", "two states", "no state"],
)
def test_sso_callback__hostile_query_with_sso_on__400(
    clients: dict[str, Client], path: str
) -> None:
    client = clients["anonymous"]
    client.get("/sso/oidc/login/")  # a pending sign-in in the session

    response = client.get(path)

    assert response.status_code == 400
    assert "could not be verified" in response.content.decode()
