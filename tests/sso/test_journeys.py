"""The two sign-in journeys that need a real browser (Chromium): single sign-on through the
loopback OIDC provider, and the two-factor code step. Everything else is tested below the
browser."""

from __future__ import annotations

import re

import pyotp
import pytest
from playwright.sync_api import Page, expect

from tests.dashboard.browser import DashboardServer, assert_accessible
from tests.sso.conftest import PASSWORD as PROVIDER_PASSWORD
from vexil.organisations.models import Organisation
from vexil.users import two_factor
from vexil.users.models import TOTPDevice, User

pytestmark = pytest.mark.usefixtures("transactional_db")

PASSWORD = "correct horse 1"


@pytest.fixture(autouse=True)
def _fast_password_hashing() -> None:
    """The live server checks passwords with the real hashers, so users get real hashes here."""


def test_sso_journey__sign_in_with_sso__signed_in_at_vexil(
    page: Page, sso_server: DashboardServer, organisation: Organisation
) -> None:
    # Given
    page.goto(sso_server("/"))
    expect(page).to_have_url(re.compile(r"/sign-in/"))
    assert_accessible(page)
    # When: the button, the provider's own login form, and back
    page.get_by_role("link", name="Sign in with SSO").click()
    expect(page.get_by_role("heading", name="Test identity provider")).to_be_visible()
    page.get_by_label("Username").fill("owner@example.com")
    page.get_by_label("Password").fill(PROVIDER_PASSWORD)
    page.get_by_role("button", name="Log in to the provider").click()
    # Then
    expect(page.get_by_role("heading", name="Acme")).to_be_visible()
    expect(page.get_by_role("navigation", name="Account")).to_contain_text("owner@example.com")
    assert page.url.startswith(sso_server("/"))


def test_two_factor_journey__password_then_code__signed_in(
    page: Page, sso_server: DashboardServer, organisation: Organisation, organisation_admin: User
) -> None:
    # Given
    secret = two_factor.totp_activate(user=organisation_admin)["secret"]
    two_factor.totp_confirm(user=organisation_admin, code=pyotp.TOTP(secret).now())
    TOTPDevice.objects.filter(user=organisation_admin).update(last_step=0)
    page.goto(sso_server("/sign-in/"))
    page.get_by_label("Email", exact=True).fill("owner@example.com")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    # When
    expect(page.get_by_role("heading", name="Two-factor sign-in")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Authentication code").fill("000000")
    page.get_by_role("button", name="Verify").click()
    expect(
        page.get_by_role("alert").or_(page.get_by_text("This code is not correct"))
    ).to_be_visible()
    page.get_by_label("Authentication code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Verify").click()
    # Then
    expect(page.get_by_role("heading", name="Acme")).to_be_visible()


def test_force_2fa_journey__member_without_two_factor__set_up_by_qr_code_then_in(
    page: Page, sso_server: DashboardServer, organisation: Organisation, organisation_admin: User
) -> None:
    # Given an organisation that requires two-factor, and a member who has not turned it on
    organisation.force_2fa = True
    organisation.save(update_fields=["force_2fa"])
    page.goto(sso_server("/sign-in/"))
    page.get_by_label("Email", exact=True).fill("owner@example.com")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    # Then they are sent to set it up before anything else
    expect(page).to_have_url(re.compile(r"/account/two-factor/$"))
    expect(page.get_by_role("alert")).to_contain_text("requires two-factor sign-in")
    page.goto(sso_server("/"))
    expect(page).to_have_url(re.compile(r"/account/two-factor/$"))
    # When they scan the QR code (an image the browser renders) and type the app's first code
    page.get_by_role("button", name="Set up two-factor sign-in").click()
    qr = page.get_by_role("img", name="QR code for your authenticator app")
    expect(qr).to_be_visible()
    assert qr.evaluate("image => image.complete && image.naturalWidth > 0")
    assert_accessible(page)
    secret = page.get_by_label("Set-up key").inner_text()
    page.get_by_label("Code from your app").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Turn on").click()
    # Then the five backup codes are shown once, and the organisation's pages open
    expect(page.get_by_role("status")).to_have_text("Two-factor sign-in is on.")
    expect(page.get_by_role("list", name="Backup codes").get_by_role("listitem")).to_have_count(5)
    page.get_by_role("link", name="Continue").click()
    expect(page.get_by_role("heading", name="Acme")).to_be_visible()
    assert TOTPDevice.objects.get(user=organisation_admin).is_active
