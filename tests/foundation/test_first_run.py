from __future__ import annotations

import re

import pytest
from django.contrib.sites.models import Site
from django.test import Client, override_settings

from vexil.environments.models import Environment, EnvironmentAPIKey
from vexil.organisations.models import OrganisationMembership, OrganisationRole
from vexil.users.models import SetupToken, User
from vexil.users.services import setup_token_issue

pytestmark = pytest.mark.django_db
INIT = "/api/v1/users/config/init/"


def _form(token: str, **overrides: str) -> dict[str, str]:
    return {
        "setup_token": token,
        "username": "Ada",
        "email": "ada@example.com",
        "password": "a long enough passphrase",
        "site_name": "Acme flags",
        "site_domain": "flags.acme.test",
        **overrides,
    }


def test_init_page__fresh_install__shows_form() -> None:
    response = Client().get(INIT)
    assert response.status_code == 200
    assert b'name="setup_token"' in response.content


def test_init_page__valid_token__creates_superuser_and_site() -> None:
    # Given
    token = setup_token_issue()
    assert token
    # When
    response = Client().post(INIT, _form(token))
    # Then
    assert response.status_code == 201
    user = User.objects.get()
    assert (user.email, user.is_superuser, user.first_name) == ("ada@example.com", True, "Ada")
    assert user.check_password("a long enough passphrase")
    site = Site.objects.get(pk=1)
    assert (site.name, site.domain) == ("Acme flags", "flags.acme.test")
    assert not SetupToken.objects.exists()


@pytest.mark.parametrize("token", ["", "guessed-token"])
def test_init_page__missing_or_wrong_token__403_nothing_created(token: str) -> None:
    setup_token_issue()
    response = Client().post(INIT, _form(token))
    assert response.status_code == 403
    assert not User.objects.exists()


def test_init_page__expired_token__403() -> None:
    token = setup_token_issue()
    assert token
    SetupToken.objects.update(
        created_at=SetupToken.objects.get().created_at - SetupToken.LIFETIME * 2
    )
    assert Client().post(INIT, _form(token)).status_code == 403
    assert not User.objects.exists()


def test_init_page__weak_password__400_nothing_created() -> None:
    token = setup_token_issue()
    assert token
    response = Client().post(INIT, _form(token, password="123"))
    assert response.status_code == 400
    assert not User.objects.exists()


def test_init_page__after_setup__refuses(superuser: User) -> None:
    assert Client().get(INIT).status_code == 403
    response = Client().post(INIT, _form("anything", email="mallory@example.com"))
    assert response.status_code == 403
    assert list(User.objects.values_list("email", flat=True)) == ["admin@example.com"]


def test_setup_token__initialised_install__none_issued(superuser: User) -> None:
    assert setup_token_issue() is None
    assert not SetupToken.objects.exists()


def test_setup_token__stored__only_as_digest() -> None:
    token = setup_token_issue()
    assert token
    stored = SetupToken.objects.get()
    assert stored.digest != token
    assert stored.digest == SetupToken.digest_of(token)


@override_settings(ALLOWED_ADMIN_IP_ADDRESSES=["10.1.0.0/16"])
def test_admin__address_outside_allowed__404() -> None:
    response = Client(REMOTE_ADDR="192.0.2.7").get("/admin/login/", HTTP_ACCEPT="application/json")
    assert response.status_code == 404


@override_settings(ALLOWED_ADMIN_IP_ADDRESSES=["10.1.0.0/16"])
def test_admin__address_inside_allowed__served() -> None:
    # The admin's login is the dashboard's sign-in (two-factor step included).
    response = Client(REMOTE_ADDR="10.1.2.3").get("/admin/login/")
    assert (response.status_code, response["Location"]) == (302, "/sign-in/?next=%2F")


def test_admin__no_restriction__served() -> None:
    response = Client(REMOTE_ADDR="192.0.2.7").get("/admin/login/?next=/admin/")
    assert (response.status_code, response["Location"]) == (302, "/sign-in/?next=%2Fadmin%2F")


def test_init_page__form__plain_help_texts_and_name_not_called_first_name() -> None:
    content = Client().get(INIT).content.decode()
    assert "`" not in content
    assert "first name" not in content.lower()
    assert '<label for="id_username">Your name</label>' in content


def test_init_page__valid_token__ends_on_keys_and_next_step() -> None:
    # Given
    token = setup_token_issue()
    assert token
    # When
    response = Client().post(INIT, _form(token))
    # Then: the administrator has a workspace and the page shows its working keys
    assert response.status_code == 201
    content = response.content.decode()
    user = User.objects.get()
    membership = OrganisationMembership.objects.get(user=user)
    assert membership.role == OrganisationRole.ADMIN
    environments = Environment.objects.filter(project__organisation=membership.organisation)
    assert sorted(environments.values_list("name", flat=True)) == ["Development", "Production"]
    for environment in environments:
        assert f"<code>{environment.api_key}</code>" in content
        server_key = re.search(
            rf"<th scope=\"row\">{environment.name}</th><td><code>[^<]+</code></td>"
            r"<td><code>(ser\.[^<]+)</code>",
            content,
        )
        assert server_key, content
        assert EnvironmentAPIKey.objects.get(environment=environment).matches(server_key[1])
    assert "bootstrap --email ada@example.com --json" in content
    assert '<a href="/">Continue to the dashboard</a>' in content
