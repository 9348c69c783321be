"""Screenshots of the dashboard for docs/dashboard.md, taken from a real server and browser.

    .venv/bin/python scripts/screenshots.py            # writes docs/dashboard/*.png

Starts ``vexil serve`` on a fresh SQLite data directory and a free loopback port, creates an
administrator (``vexil bootstrap``) and the demo organisation (``vexil seed-demo``), then drives
Debian's Chromium (/usr/bin/chromium) through Playwright, at 1280 px and at 375 px wide.
Everything is stopped and removed at the end.
"""

from __future__ import annotations

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


def shoot(page: Page, name: str) -> None:
    page.screenshot(path=str(OUT / f"{name}.png"), full_page=True)
    print(f"docs/dashboard/{name}.png")


def take(url: str, project_path: str) -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        page = browser.new_page(viewport={"width": 1280, "height": 800})
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
        browser.close()


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="vexil-screenshots-") as data:
        env = {
            **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")},
            "VEXIL_DATA_DIR": data,
            "DJANGO_SECRET_KEY": "screenshots-only-secret-key",
            "PYTHONPATH": str(ROOT),
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
            output = vexil("manage", "shell", "-c", _PROJECT_OF_DEMO, env=env)
            project_id = int(output.split()[-1])  # the shell's last line
            take(url, f"/projects/{project_id}/")
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)


_PROJECT_OF_DEMO = (
    "from vexil.projects.models import Project; print(Project.objects.get(name='Demo project').pk)"
)

if __name__ == "__main__":
    main()
