"""Password reset by e-mail (djoser's routes and shapes), and what any password change revokes."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import override_settings
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from knox.models import AuthToken
from rest_framework.test import APIClient

from vexil.audit.models import AuditLog
from vexil.common.models import OutboundEmail
from vexil.organisations.models import Organisation
from vexil.users.limits import login_failure_record
from vexil.users.models import LoginFailureCount, User
from vexil.users.services import auth_token_issue

RESET = "/api/v1/auth/users/reset_password/"
CONFIRM = "/api/v1/auth/users/reset_password_confirm/"
LOGIN = "/api/v1/auth/login/"
NEW = "a brand new horse 7"
LINK = re.compile(
    r"https://flags\.acme\.test/password-reset/confirm/(?P<uid>[\w-]+)/(?P<token>[\w-]+)"
)


@pytest.fixture(autouse=True)
def _public_url(settings: Any) -> None:
    settings.PUBLIC_URL = "https://flags.acme.test"


def _request_reset(email: str, address: str = "10.9.0.1") -> int:
    return APIClient(REMOTE_ADDR=address).post(RESET, {"email": email}).status_code


def _link() -> dict[str, str]:
    row = OutboundEmail.objects.get(kind="password_reset")
    match = LINK.search(row.body_text)
    assert match, row.body_text
    assert f'href="{match[0]}"' in row.body_html
    return {"uid": match["uid"], "token": match["token"]}


def _confirm(link: dict[str, str], password: str = NEW, again: str | None = None) -> Any:
    body = {**link, "new_password": password, "re_new_password": again or password}
    return APIClient().post(CONFIRM, body, format="json")


def test_reset__known_account__204_and_link_mailed(organisation_admin: User) -> None:
    # When
    status = _request_reset("Owner@Example.com")
    # Then
    assert status == 204
    row = OutboundEmail.objects.get()
    assert (row.kind, row.recipient, row.status) == (
        "password_reset",
        "owner@example.com",
        "queued",
    )
    assert "Your username, in case you've forgotten: owner@example.com" in row.body_text
    assert _link()["uid"] == urlsafe_base64_encode(force_bytes(organisation_admin.pk))


@pytest.mark.parametrize("email", ["nobody@example.com", "inactive@example.com"])
def test_reset__no_usable_account__204_and_nothing_sent(db: None, email: str) -> None:
    User.objects.create_user(email="inactive@example.com", password="x", is_active=False)
    assert _request_reset(email) == 204
    assert not OutboundEmail.objects.exists()


def test_reset__invalid_email__400_field_error(db: None) -> None:
    response = APIClient().post(RESET, {"email": "not-an-email"})
    assert response.status_code == 400
    assert response.json()["email"] == ["Enter a valid email address."]


def test_reset_confirm__valid_link__password_set_tokens_revoked_link_spent(
    organisation_admin: User, organisation: Organisation
) -> None:
    # Given a signed-in session elsewhere and failed logins on record
    old_token = auth_token_issue(user=organisation_admin)
    login_failure_record(email="owner@example.com")
    _request_reset("owner@example.com")
    link = _link()
    # When
    response = _confirm(link)
    # Then
    assert response.status_code == 204
    assert (
        APIClient().post(LOGIN, {"email": "owner@example.com", "password": NEW}).status_code == 200
    )
    assert (
        APIClient(HTTP_AUTHORIZATION=f"Token {old_token}").get("/api/v1/auth/users/me/").status_code
        == 401
    )
    assert not LoginFailureCount.objects.exists()
    assert (
        AuditLog.objects.filter(
            organisation=organisation,
            resource_type="user",
            log="Password reset for owner@example.com",
        ).count()
        == 1
    )
    # and the same link does not work twice
    again = _confirm(link, "yet another horse 8")
    assert again.status_code == 400
    assert again.json()["token"] == ["Invalid token for given user."]


def test_reset_confirm__password_changed_since__link_invalid(organisation_admin: User) -> None:
    # Given
    _request_reset("owner@example.com")
    link = _link()
    client = APIClient(HTTP_AUTHORIZATION=f"Token {auth_token_issue(user=organisation_admin)}")
    changed = client.post(
        "/api/v1/auth/users/set_password/",
        {"current_password": "correct horse 1", "new_password": "changed horse 9"},
    )
    assert changed.status_code == 204
    # When
    response = _confirm(link)
    # Then
    assert response.status_code == 400
    assert response.json()["token"] == ["Invalid token for given user."]


@override_settings(PASSWORD_RESET_TIMEOUT=-1)
def test_reset_confirm__expired__400(organisation_admin: User) -> None:
    _request_reset("owner@example.com")
    response = _confirm(_link())
    assert response.status_code == 400
    assert "token" in response.json()


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"uid": "Zm9v"}, "uid", "Invalid user id or user doesn't exist."),
        ({"uid": "!!"}, "uid", "Invalid user id or user doesn't exist."),
        ({"token": "abc-def"}, "token", "Invalid token for given user."),
        (
            {"re_new_password": "something else 1"},
            "non_field_errors",
            "The two password fields didn't match.",
        ),
        (
            {"new_password": "12345678", "re_new_password": "12345678"},
            "new_password",
            "This password is too common.",
        ),
    ],
)
def test_reset_confirm__bad_input__400_per_field_and_password_kept(
    organisation_admin: User, change: dict[str, str], field: str, message: str
) -> None:
    # Given
    _request_reset("owner@example.com")
    body = {**_link(), "new_password": NEW, "re_new_password": NEW, **change}
    # When
    response = APIClient().post(CONFIRM, body, format="json")
    # Then
    assert response.status_code == 400
    assert message in response.json()[field]
    organisation_admin.refresh_from_db()
    assert organisation_admin.check_password("correct horse 1")


def test_set_password__weak__400_under_new_password(organisation_admin: User) -> None:
    client = APIClient(HTTP_AUTHORIZATION=f"Token {auth_token_issue(user=organisation_admin)}")
    response = client.post(
        "/api/v1/auth/users/set_password/",
        {"current_password": "correct horse 1", "new_password": "123"},
    )
    assert response.status_code == 400
    assert response.json()["new_password"] == [
        "This password is too short. It must contain at least 8 characters.",
        "This password is too common.",
        "This password is entirely numeric.",
    ]


def test_set_password__changed__audited_and_other_tokens_revoked(
    organisation_admin: User, organisation: Organisation
) -> None:
    other = auth_token_issue(user=organisation_admin)
    current = auth_token_issue(user=organisation_admin)
    response = APIClient(HTTP_AUTHORIZATION=f"Token {current}").post(
        "/api/v1/auth/users/set_password/",
        {"current_password": "correct horse 1", "new_password": NEW},
    )
    assert response.status_code == 204
    assert AuthToken.objects.filter(user=organisation_admin).count() == 1
    assert (
        APIClient(HTTP_AUTHORIZATION=f"Token {other}").get("/api/v1/auth/users/me/").status_code
        == 401
    )
    assert AuditLog.objects.filter(
        organisation=organisation, log="Password changed for owner@example.com"
    ).exists()


def test_reset__more_than_five_requests_for_an_address__extra_ones_dropped(
    organisation_admin: User,
) -> None:
    statuses = [_request_reset("owner@example.com", f"10.9.1.{n}") for n in range(7)]
    assert statuses == [204] * 7
    assert OutboundEmail.objects.filter(kind="password_reset").count() == 5


def test_reset__e_mail_sent__audited_by_the_system_in_the_organisation_once_per_e_mail(
    organisation_admin: User, organisation: Organisation
) -> None:
    # When: seven requests for the member, of which five send an e-mail, and one for no one
    for n in range(7):
        _request_reset("owner@example.com", f"10.9.2.{n}")
    _request_reset("nobody@example.com")
    # Then: the organisation's administrators read one system entry per e-mail sent
    reader = APIClient(HTTP_AUTHORIZATION=f"Token {auth_token_issue(user=organisation_admin)}")
    rows = reader.get(f"/api/v1/organisations/{organisation.pk}/audit/").json()["results"]
    entries = [
        (row["log"], row["author"], row["is_system_event"], row["related_object_id"])
        for row in rows
        if row["related_object_type"] == "user"
    ]
    expected = (
        "Password reset e-mailed to owner@example.com",
        None,
        True,
        str(organisation_admin.pk),
    )
    assert entries == [expected] * 5


def test_reset__too_many_from_one_address__429(db: None) -> None:
    statuses = [_request_reset(f"u{n}@example.com") for n in range(11)]
    assert statuses == [204] * 10 + [429]
