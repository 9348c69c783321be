"""Screenshots of the dashboard for docs/dashboard.md, taken from a real server and browser.

    .venv/bin/python scripts/screenshots.py            # writes docs/dashboard/*.png

Starts ``vexil serve`` on a fresh SQLite data directory and a free loopback port, creates an
administrator (``vexil bootstrap``) and the demo organisation (``vexil seed-demo``), adds what the
access pages show (two members, a group with a project grant, a user's environment grant, an
invite link, a switched-off webhook), then drives Debian's Chromium (/usr/bin/chromium) through
Playwright, at 1280 px and at 375 px wide. SSO is "configured" with a loopback issuer nobody
answers, only so that the sign-in page shows its button. Everything is stopped and removed at the
end. The features pages are shot whole; the others show the first screen (smaller files).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "dashboard"
EMAIL, PASSWORD = "admin@example.com", "a demo passphrase 1"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking"]  # fmt: skip


def vexil(*args: str, env: dict[str, str]) -> str:
    command = [sys.executable, "-m", "vexil.cli", *args]
    return subprocess.run(command, env=env, check=True, capture_output=True, text=True).stdout


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_up(url: str) -> None:
    for _ in range(300):
        try:
            with urllib.request.urlopen(url + "/health/liveness/", timeout=2):  # noqa: S310
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("the server did not start")


def shoot(page: Page, name: str, *, full_page: bool = True) -> None:
    page.wait_for_load_state()
    page.screenshot(path=str(OUT / f"{name}.png"), full_page=full_page)
    print(f"docs/dashboard/{name}.png")


def visit(page: Page, url: str, name: str) -> None:
    page.goto(url)
    shoot(page, name, full_page=False)


def take(url: str, demo: dict[str, str]) -> None:
    project_path = f"/projects/{demo['project']}/"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        visit(page, url + "/password-reset/", "forgot-password")
        visit(page, url + demo["invite"], "invite-accept")
        page.goto(url + "/sign-in/")
        shoot(page, "sign-in")
        page.get_by_label("Email", exact=True).fill(EMAIL)
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_load_state()
        page.goto(url + project_path)
        page.get_by_role("link", name="Production").first.click()
        page.wait_for_load_state()
        shoot(page, "features")
        features_url = page.url
        page.get_by_role("link", name="Create feature").first.click()
        shoot(page, "create-feature")
        page.goto(features_url)
        page.get_by_role("row").nth(1).get_by_role("link").first.click()
        page.wait_for_load_state()
        shoot(page, "feature")
        mobile = browser.new_page(viewport={"width": 375, "height": 812})
        mobile.context.add_cookies(page.context.cookies())
        mobile.goto(features_url)
        shoot(mobile, "features-375px")
        _access_pages(page, url, demo)
        browser.close()


def _access_pages(page: Page, url: str, demo: dict[str, str]) -> None:
    """The settings, access and webhook pages, one screen each."""
    organisation, project = f"/organisations/{demo['organisation']}", f"/projects/{demo['project']}"
    environment = f"{project}/environments/{demo['environment']}"
    visit(page, url + f"{organisation}/settings/", "organisation-settings")
    visit(page, url + f"{organisation}/groups/{demo['group']}/", "group")
    visit(page, url + f"{project}/settings/", "project-settings")
    visit(page, url + f"{project}/permissions/", "project-permissions")
    visit(page, url + f"{environment}/permissions/", "environment-permissions")
    visit(page, url + f"{environment}/webhooks/", "webhooks")
    page.goto(url + "/account/two-factor/")
    page.get_by_role("button", name="Set up two-factor sign-in").click()
    shoot(page, "two-factor-setup", full_page=False)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="vexil-screenshots-") as data:
        env = {
            **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")},
            "VEXIL_DATA_DIR": data,
            "DJANGO_SECRET_KEY": "screenshots-only-secret-key",
            "PYTHONPATH": str(ROOT),
            # Only so that the sign-in page shows "Sign in with SSO": nothing is asked of it.
            "OIDC_ISSUER": "http://127.0.0.1:9/realms/demo",
            "OIDC_CLIENT_ID": "vexil",
        }
        vexil("bootstrap", "--email", EMAIL, "--password", PASSWORD, "--json", env=env)
        vexil("seed-demo", "--features", "24", "--segments", "6", "--identities", "10", env=env)
        port = free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "vexil.cli", "serve", "--port", str(port), "--workers", "1"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            wait_until_up(url)
            output = vexil("manage", "shell", "-c", _ACCESS_DEMO, env=env)
            take(url, json.loads(output.splitlines()[-1]))  # the shell's last line
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)


# Run by `vexil manage shell` on the demo install: through the services, as the admin would.
_ACCESS_DEMO = """
import json
from vexil.audit.services import Actor
from vexil.invites.services import invite_link_create
from vexil.organisations.models import OrganisationRole
from vexil.organisations.services import organisation_member_add, user_group_create
from vexil.permissions.services import environment_grant_create, project_grant_create
from vexil.projects.models import Project
from vexil.users.models import User
from vexil.webhooks.services import webhook_create

project = Project.objects.select_related("organisation").get(name="Demo project")
organisation = project.organisation
production = project.environments.get(name="Production")
actor = Actor(user=User.objects.get(email="admin@example.com"))
people = []
for email, first, last in [
    ("ada@example.com", "Ada", "Lovelace"),
    ("grace@example.com", "Grace", "Hopper"),
]:
    user = User.objects.create_user(email=email, first_name=first, last_name=last)
    organisation_member_add(
        organisation=organisation, user=user, role=OrganisationRole.USER, actor=actor
    )
    people.append(user)
group = user_group_create(
    organisation=organisation, name="Support", user_ids=[u.pk for u in people], actor=actor
)
project_grant_create(
    project=project, group=group, permissions=["VIEW_PROJECT", "CREATE_FEATURE"], actor=actor
)
environment_grant_create(
    environment=production,
    user=people[0],
    permissions=["VIEW_ENVIRONMENT", "UPDATE_FEATURE_STATE"],
    actor=actor,
)
link = invite_link_create(organisation=organisation, actor=actor)
webhook_create(
    organisation=organisation,
    environment=production,
    url="https://hooks.example.com/vexil",
    enabled=False,
    name="Release notes bot",
)
print(json.dumps({
    "organisation": organisation.pk,
    "project": project.pk,
    "environment": production.api_key,
    "group": group.pk,
    "invite": f"/invite-link/{link.hash}",
}))
"""

if __name__ == "__main__":
    main()
