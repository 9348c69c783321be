"""Browser-test helpers: a live ``vexil serve``, Debian's Chromium through Playwright, and axe.

Journeys drive pages through accessible names (labels, roles), never CSS selectors, so they also
prove the pages work with a screen reader. Keep to what needs a browser; the rest is tested
with Django's test client.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, ConsoleMessage, Page, Response

from tests.processes import (
    free_port,
    http_get,
    read_text,
    running,
    shared_database_url,
    vexil_command,
    vexil_environment,
    wait_for,
)

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
]
START_TIMEOUT = 60
# Short, so the journeys' waits stay short: the SDK sees a change within this, and an open
# features page asks for changes this often.
REFRESH_SECONDS = "0.2"
POLL_SECONDS = "1"
BLOCKING_IMPACTS = ("serious", "critical")


def chromium_or_skip() -> str:
    """Debian's Chromium (scripts/test installs it); missing fails under CI=true, else skips."""
    if Path(CHROMIUM).exists() or shutil.which("chromium"):
        return CHROMIUM if Path(CHROMIUM).exists() else str(shutil.which("chromium"))
    message = f"{CHROMIUM} is missing (apt-get install chromium; scripts/test does it)"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@dataclass(frozen=True)
class DashboardServer:
    url: str
    log: Path

    def __call__(self, path: str) -> str:
        return self.url + path


@contextmanager
def dashboard_server(
    directory: Path, *, port: int | None = None, **settings: str
) -> Iterator[DashboardServer]:
    """``vexil serve`` (one worker) on the test database and a free loopback port (or ``port``),
    with ``settings`` as extra environment variables."""
    port, log = port or free_port(), directory / "server.log"
    env = vexil_environment(
        DATABASE_URL=shared_database_url(),
        VEXIL_DATA_DIR=str(directory / "data"),
        VEXIL_SDK_REFRESH_SECONDS=REFRESH_SECONDS,
        DASHBOARD_POLL_SECONDS=POLL_SECONDS,
        # Journeys sign in many times from 127.0.0.1; the throttle has its own tests.
        AUTH_THROTTLE_RATE="1000/min",
        **settings,
    )
    command = vexil_command("serve", "--port", str(port), "--workers", "1", "--no-migrate")
    with running(command, env=env, output=log) as process:
        server = DashboardServer(f"http://127.0.0.1:{port}", log)
        try:
            wait_for(
                lambda: http_get(server("/health/liveness/")),
                timeout=START_TIMEOUT,
                what="/health/liveness/ to answer",
                process=process,
            )
        except AssertionError as error:
            raise AssertionError(f"{error}\n{read_text(log)}") from None
        yield server


def launch_chromium(playwright: object) -> Browser:
    browser: Browser = playwright.chromium.launch(  # type: ignore[attr-defined]
        executable_path=chromium_or_skip(), args=CHROMIUM_ARGS
    )
    return browser


class PageProblems:
    """Script errors, CSP violations and failed sub-resources (scripts, styles, htmx requests);
    a journey ends with none. Pages themselves may answer 4xx (a form with errors is a 400)."""

    def __init__(self, page: Page) -> None:
        self.messages: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.messages.append(f"page error: {error}"))
        page.on("response", self._response)

    def _console(self, message: ConsoleMessage) -> None:
        if message.text.startswith("Failed to load resource"):
            return  # the response handler tells which, and whether it matters
        if message.type == "error" or "Content Security Policy" in message.text:
            self.messages.append(f"{message.type}: {message.text}")

    def _response(self, response: Response) -> None:
        expected = response.request.resource_type == "document" or response.status == 403
        if response.status >= 400 and not expected:
            self.messages.append(f"{response.status} for {response.url}")


def assert_accessible(page: Page) -> None:
    """axe finds no serious or critical violation on the page as it is now."""
    results = Axe().run(page)
    blocking = [
        violation
        for violation in results.response["violations"]
        if violation.get("impact") in BLOCKING_IMPACTS
    ]
    report = "\n".join(
        f"{v['impact']}: {v['id']} ({v['help']}): "
        + "; ".join(node["target"][0] if node["target"] else "?" for node in v["nodes"][:5])
        for v in blocking
    )
    assert not blocking, f"axe on {page.url}:\n{report}"


def sign_in(page: Page, server: DashboardServer, email: str, password: str) -> None:
    page.goto(server("/sign-in/"))
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/sign-in/" not in url)
