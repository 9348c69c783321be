from __future__ import annotations

import pytest

from tests.permission_matrix.conftest import PASSWORD, Case, World, expect, run_case

USERS_ONLY = {
    "other_org_user": 200,
    "member": 200,
    "env_viewer": 200,
    "env_editor": 200,
    "project_admin": 200,
    "org_admin": 200,
    "master_key": 403,
}

CASES = [
    Case("me", "GET", lambda w: "/api/v1/auth/users/me/", expected=expect(**USERS_ONLY)),
    Case(
        "me update",
        "PATCH",
        lambda w: "/api/v1/auth/users/me/",
        body=lambda w: {"first_name": "Renamed"},
        expected=expect(**USERS_ONLY),
    ),
    Case(
        "logout",
        "POST",
        lambda w: "/api/v1/auth/logout/",
        expected=expect(**{**dict.fromkeys(USERS_ONLY, 204), "master_key": 403}),
    ),
    Case(
        "set password with a wrong current password",
        "POST",
        lambda w: "/api/v1/auth/users/set_password/",
        body=lambda w: {"current_password": "wrong", "new_password": "another horse 22"},
        expected=expect(**{**dict.fromkeys(USERS_ONLY, 400), "master_key": 403}),
    ),
    Case(
        "delete account with a wrong password",
        "DELETE",
        lambda w: "/api/v1/auth/users/me/",
        body=lambda w: {"current_password": "wrong"},
        # Users without a password (single sign-on) need none: only org_admin has one here.
        expected=expect(**{**dict.fromkeys(USERS_ONLY, 204), "org_admin": 400, "master_key": 403}),
    ),
    Case(
        "login",
        "POST",
        lambda w: "/api/v1/auth/login/",
        body=lambda w: {"email": "admin@acme.test", "password": PASSWORD},
        expected=expect(anonymous=200, **dict.fromkeys(USERS_ONLY, 200)),
    ),
    Case(
        "register",
        "POST",
        lambda w: "/api/v1/auth/users/",
        body=lambda w: {"email": "new@example.com", "password": PASSWORD},
        expected=expect(anonymous=201, **dict.fromkeys(USERS_ONLY, 201)),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_auth_endpoints__each_principal__expected_status(world: World, case: Case) -> None:
    run_case(world, case)
