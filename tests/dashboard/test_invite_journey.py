"""The invite journey in a real browser (Chromium) against a live ``vexil serve``, axe on
each page: an administrator invites a teammate and makes a link; the teammate opens the
e-mailed link, creates an account there and lands in the organisation with the invited role."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.dashboard.browser import DashboardServer, assert_accessible, sign_in
from tests.dashboard.conftest import PASSWORD
from vexil.common.models import OutboundEmail
from vexil.invites.models import InviteLink
from vexil.organisations.models import Organisation, OrganisationMembership

pytestmark = pytest.mark.usefixtures("transactional_db")


@pytest.fixture(autouse=True)
def _fast_password_hashing() -> None:
    """The live server checks passwords with the real hashers, so users get real hashes here."""


def test_invite_journey__invite_copy_link_then_sign_up_from_email__joined_as_admin(
    page: Page, dashboard_server: DashboardServer, organisation: Organisation
) -> None:
    # The administrator invites Bob as an administrator
    sign_in(page, dashboard_server, "owner@example.com", PASSWORD)
    page.goto(dashboard_server(f"/organisations/{organisation.pk}/settings/"))
    invite_form = page.get_by_role("form", name="Invite people by e-mail")
    invite_form.get_by_label("E-mail addresses").fill("bob@example.com")
    invite_form.get_by_label("Role").select_option(label="Administrator")
    page.get_by_role("button", name="Send invites").click()
    expect(page.get_by_role("button", name="Revoke invite to bob@example.com")).to_be_visible()
    # and makes an invite link, which a button copies
    link_form = page.get_by_role("form", name="Create an invite link")
    link_form.get_by_label("Expires after (days)").fill("7")
    page.get_by_role("button", name="Create invite link").click()
    link = InviteLink.objects.get(organisation=organisation)
    field = page.get_by_label(re.compile(r"^Invite link for users"))
    expect(field).to_have_value(dashboard_server(f"/invite-link/{link.hash}"))
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.get_by_role("button", name=f"Copy invite link {link.pk}").click()
    expect(page.get_by_role("status").filter(has_text="Copied.")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Sign out").click()

    # Bob follows the link in his e-mail (the hash as the e-mail carries it)
    body = OutboundEmail.objects.get(kind="invite", recipient="bob@example.com").body_text
    [invite_path] = re.findall(r"/invite/[A-Za-z0-9_-]{43}", body)
    page.goto(dashboard_server(invite_path))
    expect(page.get_by_role("heading", name="Join Acme")).to_be_visible()
    assert_accessible(page)
    expect(page.get_by_label("Email", exact=True)).to_have_value("bob@example.com")
    page.get_by_label("First name").fill("Bob")
    page.get_by_label("Password", exact=True).fill("a long passphrase 42")
    page.get_by_role("button", name="Create account and join").click()

    # He lands in the organisation, an administrator of it
    expect(page.get_by_role("heading", name="Acme")).to_be_visible()
    assert_accessible(page)
    membership = OrganisationMembership.objects.get(
        organisation=organisation, user__email="bob@example.com"
    )
    assert membership.role == "ADMIN"
