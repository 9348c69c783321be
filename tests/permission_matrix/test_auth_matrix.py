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
    # The e-mailed token is the only credential: the caller's own never matter.
    Case(
        "sign-up confirm with an unknown token",
        "POST",
        lambda w: "/api/v1/auth/users/confirm/",
        body=lambda w: {"token": "not-a-token-of-ours"},
        expected=expect(anonymous=400, **dict.fromkeys(USERS_ONLY, 400)),
    ),
    # Two-factor sign-in: a person's own, never a key's. No one here has it on yet.
    Case(
        "two-factor activate",
        "POST",
        lambda w: "/api/v1/auth/app/activate/",
        expected=expect(**USERS_ONLY),
    ),
    Case(
        "two-factor confirm before activating",
        "POST",
        lambda w: "/api/v1/auth/app/activate/confirm/",
        body=lambda w: {"code": "123456"},
        expected=expect(**{**dict.fromkeys(USERS_ONLY, 400), "master_key": 403}),
    ),
    Case(
        "two-factor deactivate when off",
        "POST",
        lambda w: "/api/v1/auth/app/deactivate/",
        body=lambda w: {"code": "123456"},
        expected=expect(**{**dict.fromkeys(USERS_ONLY, 400), "master_key": 403}),
    ),
    Case(
        "backup codes regenerate when off",
        "POST",
        lambda w: "/api/v1/auth/app/backup-codes/regenerate/",
        body=lambda w: {"code": "123456"},
        expected=expect(**{**dict.fromkeys(USERS_ONLY, 400), "master_key": 403}),
    ),
    Case(
        "two-factor active methods",
        "GET",
        lambda w: "/api/v1/auth/mfa/user-active-methods/",
        expected=expect(**USERS_ONLY),
    ),
    # Open to all (it is the second step of a sign-in); incomplete input is refused alike.
    Case(
        "login code without a token",
        "POST",
        lambda w: "/api/v1/auth/login/code/",
        body=lambda w: {"code": "123456"},
        expected=expect(anonymous=400, **dict.fromkeys(USERS_ONLY, 400)),
    ),
    # Password reset: open to all, the same answer whoever asks (no enumeration).
    Case(
        "password reset request",
        "POST",
        lambda w: "/api/v1/auth/users/reset_password/",
        body=lambda w: {"email": "admin@acme.test"},
        expected=expect(anonymous=204, **dict.fromkeys(USERS_ONLY, 204)),
    ),
    Case(
        "password reset confirm with a bad token",
        "POST",
        lambda w: "/api/v1/auth/users/reset_password_confirm/",
        body=lambda w: {
            "uid": "MQ",
            "token": "bad-token",
            "new_password": "another horse 22",
            "re_new_password": "another horse 22",
        },
        expected=expect(anonymous=400, **dict.fromkeys(USERS_ONLY, 400)),
    ),
    # The organisation's e-mail outbox: its administrators only; 404 for anyone else.
    Case(
        "organisation e-mails",
        "GET",
        lambda w: f"/api/v1/organisations/{w.organisation.pk}/emails/",
        expected=expect(**{**dict.fromkeys(USERS_ONLY, 404), "org_admin": 200, "master_key": 200}),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_auth_endpoints__each_principal__expected_status(world: World, case: Case) -> None:
    run_case(world, case)
