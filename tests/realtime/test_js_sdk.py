"""The official browser SDK (``flagsmith`` from npm) in Chromium with ``realtime: true``, on a page
served by the test from another origin than Vexil's: a change updates the page.

Its npm dependency is installed by ``npm ci`` from the committed lock file in ``browser/`` (as
tests/sdk_clients/test_node_sdk.py does); the browser is Debian's Chromium through Playwright.
"""

from __future__ import annotations

import functools
import hashlib
import http.server
import os
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.dashboard.browser import chromium_or_skip, launch_chromium
from tests.realtime.conftest import document_updated_at, set_banner
from tests.sdk_clients.conftest import LiveServer, World
from tests.sdk_clients.test_node_sdk import _require

BROWSER_PROJECT = Path(__file__).parent / "browser"
INSTALLED_MARK = BROWSER_PROJECT / "node_modules" / ".vexil-lock-sha256"
INSTALL_TIMEOUT = 300
UPDATE_SECONDS = 5  # the SDK refetches its flags after the event; a browser's own pace


@pytest.fixture(scope="module")
def sdk_bundle() -> Path:
    """The flagsmith package's browser build, installed from the committed lock file."""
    npm = _require("npm")
    lock = hashlib.sha256((BROWSER_PROJECT / "package-lock.json").read_bytes()).hexdigest()
    if not INSTALLED_MARK.exists() or INSTALLED_MARK.read_text() != lock:
        installed = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=BROWSER_PROJECT,
            capture_output=True,
            text=True,
            timeout=INSTALL_TIMEOUT,
            check=False,
        )
        assert installed.returncode == 0, installed.stdout + installed.stderr
        INSTALLED_MARK.write_text(lock)
    return BROWSER_PROJECT / "node_modules" / "flagsmith" / "index.js"


class _PageHandler(http.server.SimpleHTTPRequestHandler):
    bundle: Path

    def do_GET(self) -> None:
        if self.path.startswith("/flagsmith.js"):
            self._send(self.bundle.read_bytes(), "text/javascript")
        else:
            self._send((BROWSER_PROJECT / "index.html").read_bytes(), "text/html; charset=utf-8")

    def _send(self, body: bytes, content_type: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def page_origin(sdk_bundle: Path) -> Iterator[str]:
    """The application's own origin on loopback, serving the page and the SDK bundle."""
    handler = type("Handler", (_PageHandler,), {"bundle": sdk_bundle})
    site = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler))
    thread = threading.Thread(target=site.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{site.server_address[1]}"
    site.shutdown()
    site.server_close()
    thread.join(timeout=5)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    chromium_or_skip()
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's loop runs in this thread
    try:
        with sync_playwright() as playwright:
            launched = launch_chromium(playwright)
            yield launched
            launched.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(chromium: Browser) -> Iterator[Page]:
    context = chromium.new_context()
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def test_js_sdk__realtime_in_chromium__page_updates_on_a_change(
    server: LiveServer, world: World, page_origin: str, page: Page
) -> None:
    # Given the application's page, on its own origin, showing the flag
    stream = f"{server.url}/sse/environments/{world.client_key}/stream"
    query = urlencode({"vexil": server.url, "key": world.client_key})
    with page.expect_request(stream) as opened:
        page.goto(f"{page_origin}/?{query}")
    banner = page.get_by_role("status", name="Banner")
    expect(banner).to_have_text("Hello")
    assert opened.value.headers["accept"] == "text/event-stream"
    # The SDK read X-Flagsmith-Document-Updated-At across origins (Vexil exposes it), so it
    # refetches only for an event newer than what it holds
    assert page.evaluate("flagsmith.timestamp") == document_updated_at(server, world)
    # When the flag changes through the management API
    set_banner(world, server, "Spring sale")
    # Then the page shows the new value, without reloading and without polling
    expect(banner).to_have_text("Spring sale", timeout=UPDATE_SECONDS * 1000)
    assert page.evaluate("flagsmith.timestamp") == document_updated_at(server, world)
