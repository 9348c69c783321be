"""The dashboard's two-factor pages: the sign-in code step, set-up with the QR code and backup
codes shown once, turning off (needs a code), new backup codes, and force_2fa for sessions."""

from __future__ import annotations

import re
import time

import pyotp
import pytest
from django.test import Client

from vexil.organisations.models import Organisation
from vexil.users import two_factor
from vexil.users.models import RateLimitBucket, TOTPDevice, User

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse 1"


def _code(secret: str, offset_steps: int = 0) -> str:
    return pyotp.TOTP(secret).at(time.time() + 30 * offset_steps)


def _forget_last_step(user: User) -> None:
    """As if the next code were shown 30 s later (a code is never accepted twice)."""
    TOTPDevice.objects.filter(user=user).update(last_step=0)


def _enrolled(user: User) -> tuple[str, list[str]]:
    secret = two_factor.totp_activate(user=user)["secret"]
    codes = two_factor.totp_confirm(user=user, code=_code(secret))
    _forget_last_step(user)
    return secret, codes


def _password_step(client: Client, next_path: str = "/account/") -> str:
    response = client.post(
        "/sign-in/", {"email": "owner@example.com", "password": PASSWORD, "next": next_path}
    )
    return str(response["Location"])


def test_sign_in__two_factor_on__code_step_then_session(organisation_admin: User) -> None:
    # Given
    secret, _ = _enrolled(organisation_admin)
    client = Client()
    # When
    assert _password_step(client) == "/sign-in/code/"
    page = client.get("/sign-in/code/")
    done = client.post("/sign-in/code/", {"code": _code(secret)})
    # Then
    assert '<label for="id_code">Authentication code</label>' in page.content.decode()
    assert (done.status_code, done["Location"]) == (302, "/account/")
    assert client.get("/account/").status_code == 200


def test_sign_in_code__wrong_code__400_and_no_session(organisation_admin: User) -> None:
    secret, _ = _enrolled(organisation_admin)
    client = Client()
    _password_step(client)
    wrong = f"{(int(_code(secret)) + 1) % 1_000_000:06d}"

    response = client.post("/sign-in/code/", {"code": wrong})

    assert response.status_code == 400
    assert "This code is not correct" in response.content.decode()
    assert client.get("/account/").status_code == 302


def test_sign_in_code__backup_code__works_once(organisation_admin: User) -> None:
    _, backup = _enrolled(organisation_admin)
    first, second = Client(), Client()
    _password_step(first)
    _password_step(second)

    assert first.post("/sign-in/code/", {"code": backup[0]}).status_code == 302
    assert second.post("/sign-in/code/", {"code": backup[0]}).status_code == 400


def test_sign_in_code__replayed_code__refused(organisation_admin: User) -> None:
    secret, _ = _enrolled(organisation_admin)
    first, second = Client(), Client()
    _password_step(first)
    _password_step(second)
    code = _code(secret)

    assert first.post("/sign-in/code/", {"code": code}).status_code == 302
    assert second.post("/sign-in/code/", {"code": code}).status_code == 400


def test_sign_in_code__too_many_attempts__429(organisation_admin: User) -> None:
    _enrolled(organisation_admin)
    RateLimitBucket.objects.all().delete()  # enrolling spent one of the minute's attempts
    client = Client()
    _password_step(client)

    statuses = [client.post("/sign-in/code/", {"code": "000000"}).status_code for _ in range(6)]

    assert statuses == [400] * 5 + [429]


def test_sign_in_code__without_password_step__back_to_sign_in(db: None) -> None:
    response = Client().get("/sign-in/code/")

    assert (response.status_code, response["Location"]) == (302, "/sign-in/")


def test_sign_in_code__password_changed_meanwhile__expired(organisation_admin: User) -> None:
    secret, _ = _enrolled(organisation_admin)
    client = Client()
    _password_step(client)
    organisation_admin.set_password("another horse 8")
    organisation_admin.save()

    response = client.post("/sign-in/code/", {"code": _code(secret)})

    assert response.status_code == 400
    assert "This sign-in has expired" in response.content.decode()
    assert client.get("/sign-in/code/").status_code == 302


def test_setup__qr_code_then_confirm__backup_codes_shown_once(organisation_admin: User) -> None:
    # Given
    client = Client()
    client.force_login(organisation_admin)
    assert "Set up two-factor sign-in" in client.get("/account/two-factor/").content.decode()
    # When
    started = client.post("/account/two-factor/", {"action": "start"}).content.decode()
    secret = re.search(r'aria-label="Set-up key">([A-Z2-7]{32})<', started)
    assert secret, started
    confirmed = client.post(
        "/account/two-factor/", {"action": "confirm", "confirm-code": _code(secret[1])}
    )
    # Then
    assert 'src="data:image/svg+xml;base64,' in started
    assert 'alt="QR code for your authenticator app"' in started
    body = confirmed.content.decode()
    assert confirmed.status_code == 200
    codes = re.findall(r"<li><code>([A-Za-z0-9]{10})</code></li>", body)
    assert len(codes) == 5
    assert two_factor.two_factor_is_active(organisation_admin)
    again = client.get("/account/two-factor/").content.decode()
    assert "Backup codes left: 5." in again
    assert not any(code in again for code in codes)


def test_setup__wrong_first_code__still_off(organisation_admin: User) -> None:
    client = Client()
    client.force_login(organisation_admin)
    client.post("/account/two-factor/", {"action": "start"})

    response = client.post("/account/two-factor/", {"action": "confirm", "confirm-code": "1"})

    assert response.status_code == 400
    assert "QR code for your authenticator app" in response.content.decode()
    assert not two_factor.two_factor_is_active(organisation_admin)


def test_turn_off__needs_a_valid_code(organisation_admin: User) -> None:
    secret, _ = _enrolled(organisation_admin)
    client = Client()
    client.force_login(organisation_admin)

    refused = client.post(
        "/account/two-factor/", {"action": "deactivate", "deactivate-code": "123"}
    )
    assert refused.status_code == 400
    assert two_factor.two_factor_is_active(organisation_admin)
    done = client.post(
        "/account/two-factor/", {"action": "deactivate", "deactivate-code": _code(secret)}
    )
    assert done.status_code == 200
    assert "Two-factor sign-in is off." in done.content.decode()
    assert not two_factor.two_factor_is_active(organisation_admin)


def test_new_backup_codes__old_ones_stop_working(organisation_admin: User) -> None:
    secret, old = _enrolled(organisation_admin)
    client = Client()
    client.force_login(organisation_admin)

    response = client.post(
        "/account/two-factor/", {"action": "regenerate", "regenerate-code": _code(secret)}
    )

    new = re.findall(r"<li><code>([A-Za-z0-9]{10})</code></li>", response.content.decode())
    assert len(new) == 5
    assert set(new).isdisjoint(old)
    browser = Client()
    _password_step(browser)
    assert browser.post("/sign-in/code/", {"code": old[0]}).status_code == 400
    assert browser.post("/sign-in/code/", {"code": new[0]}).status_code == 302


def test_force_2fa__session_without_two_factor__sent_to_set_up(
    organisation: Organisation, organisation_admin: User
) -> None:
    # Given
    organisation.force_2fa = True
    organisation.save(update_fields=["force_2fa"])
    client = Client()
    client.force_login(organisation_admin)
    # When
    page = client.get(f"/organisations/{organisation.pk}/")
    api = client.get("/api/v1/organisations/")
    setup = client.get("/account/two-factor/")
    # Then
    assert (page.status_code, page["Location"]) == (302, "/account/two-factor/")
    assert api.status_code == 403
    assert api.json()["code"] == "two_factor_required"
    assert setup.status_code == 200
    assert "requires two-factor sign-in" in setup.content.decode()


def test_force_2fa__after_enrolling__pages_open(
    organisation: Organisation, organisation_admin: User
) -> None:
    organisation.force_2fa = True
    organisation.save(update_fields=["force_2fa"])
    client = Client()
    client.force_login(organisation_admin)
    assert client.get("/").status_code == 302
    secret = two_factor.totp_activate(user=organisation_admin)["secret"]

    client.post("/account/two-factor/", {"action": "confirm", "confirm-code": _code(secret)})

    assert client.get(f"/organisations/{organisation.pk}/").status_code == 200


def test_admin_login__sent_to_the_dashboard_sign_in(db: None) -> None:
    admin = Client().get("/admin/login/?next=/admin/")
    browsable = Client().get("/api-auth/login/?next=/api/v1/")

    assert (admin.status_code, admin["Location"]) == (302, "/sign-in/?next=%2Fadmin%2F")
    assert (browsable.status_code, browsable["Location"]) == (302, "/sign-in/?next=%2Fapi%2Fv1%2F")


def test_admin__superuser_with_two_factor__needs_the_code_step(db: None) -> None:
    root = User.objects.create_superuser(email="root@example.com", password=PASSWORD)
    root.is_staff = True
    root.save()
    secret, _ = _enrolled(root)
    client = Client()
    client.post("/sign-in/", {"email": "root@example.com", "password": PASSWORD, "next": "/admin/"})
    assert client.get("/admin/").status_code == 302

    done = client.post("/sign-in/code/", {"code": _code(secret)})

    assert done["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
