"""``@openfeature/ofrep-web-provider`` in Chromium, on a page of another origin, against a live
Vexil: the bulk endpoint through CORS, its ETag (a 304 observed on a refetch), and a refetch on
a message of the OFREP change channel the bulk answer advertises (``eventStreams``).

The page and the npm packages (``node/node_modules``, installed by the ``node`` fixture) are
served by the test on a loopback port of their own, with an import map: no bundler, no CDN.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from django.db import connection
from playwright.sync_api import Page, sync_playwright

from tests.dashboard.browser import launch_chromium
from tests.ofrep.conftest import BULK, NODE_PROJECT, Flags, LiveServer
from tests.processes import free_port
from vexil.audit.services import Actor
from vexil.features.models import FeatureState
from vexil.features.services import feature_state_update

MODULES = "/node_modules/@openfeature"
IMPORTS = {
    "@openfeature/web-sdk": f"{MODULES}/web-sdk/dist/esm/index.js",
    "@openfeature/core": f"{MODULES}/core/dist/esm/index.js",
    "@openfeature/ofrep-web-provider": f"{MODULES}/ofrep-web-provider/index.esm.js",
    "@openfeature/ofrep-core": (
        f"{MODULES}/ofrep-web-provider/node_modules/@openfeature/ofrep-core/index.esm.js"
    ),
}
PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>OFREP in the browser</title>
<script type="importmap">{"imports": %(imports)s}</script>
<script type="module">
import { OpenFeature, ProviderEvents } from '@openfeature/web-sdk';
import { OFREPWebProvider } from '@openfeature/ofrep-web-provider';

const params = new URLSearchParams(location.search);
const context = { targetingKey: 'web-alice', orders: 12 };
await OpenFeature.setContext(context);
await OpenFeature.setProviderAndWait(new OFREPWebProvider({
  baseUrl: params.get('vexil'),
  headers: [['Authorization', 'Bearer ' + params.get('key')]],
}));
const client = OpenFeature.getClient();
const show = () => {
  document.getElementById('banner').textContent = client.getStringValue('banner_text', 'default');
  document.getElementById('items').textContent = String(client.getNumberValue('max_items', 0));
};
client.addHandler(ProviderEvents.ConfigurationChanged, show);
show();
window.refetch = () => OpenFeature.setContext({ ...context });
</script></head>
<body><main><h1>Flags</h1>
<p>Banner: <output id="banner" aria-label="banner"></output></p>
<p>Items: <output id="items" aria-label="items"></output></p></main></body></html>
"""


class _PageHandler(SimpleHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path.split("?")[0] != "/":
            super().do_GET()
            return
        body = (PAGE % {"imports": json.dumps(IMPORTS)}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def page_origin(node: str) -> Iterator[str]:
    """The page and the packages, on a loopback port (another origin than Vexil's)."""
    port = free_port()
    handler = partial(_PageHandler, directory=str(NODE_PROJECT))
    httpd = ThreadingHTTPServer(("127.0.0.1", port), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://localhost:{port}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def page() -> Iterator[Page]:
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            yield browser.new_page()
        finally:
            browser.close()


def test_web_provider__bulk_through_cors__304_on_refetch_and_update_on_stream_event(
    server: LiveServer, served_flags: Flags, actor: Actor, page_origin: str, page: Page
) -> None:
    # (page last: Playwright's loop must be gone before the database is flushed)
    # Given
    statuses: list[int] = []
    page.on(
        "response",
        lambda r: (
            statuses.append(r.status)
            if urlsplit(r.url).path == BULK and r.request.method == "POST"
            else None
        ),
    )
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    query = urlencode({"vexil": server.url, "key": served_flags.client_key})
    # When
    page.goto(f"{page_origin}/?{query}")
    # Then: the targeted values, through CORS
    banner = page.get_by_label("banner")
    banner.filter(has_text="Welcome back, power user!").wait_for(timeout=15_000)
    assert page.get_by_label("items").text_content() == "10"
    assert statuses == [200]
    # When: the provider refetches the same context
    page.evaluate("window.refetch()")
    # Then: the ETag was sent back and matched
    assert _wait_for_statuses(page, statuses, 2) == [200, 304]
    assert page.get_by_label("items").text_content() == "10"
    # When: the flag changes (the page's provider holds the OFREP change channel open)
    _wait_for_events_channel(page, requested)
    # (on another thread: Playwright's loop runs on this one, and Django refuses it)
    with ThreadPoolExecutor(1) as worker:
        worker.submit(_set_max_items, served_flags, actor, 11).result()
    # Then: the provider is told, refetches and the page shows the new value
    page.get_by_label("items").filter(has_text="11").wait_for(timeout=10_000)
    assert statuses[2:] == [200]
    assert any("flagConfigLastModified=" in url for url in requested)
    assert errors == []


def _set_max_items(flags: Flags, actor: Actor, value: int) -> None:
    state = FeatureState.objects.get(
        feature=flags.features["max_items"], environment=flags.environment, identity=None,
        feature_segment=None,
    )  # fmt: skip
    feature_state_update(feature_state=state, actor=actor, value=value)
    connection.close()


def _wait_for_events_channel(page: Page, requested: list[str]) -> None:
    for _ in range(100):
        if any("/ofrep/v1/events/" in url for url in requested):
            page.wait_for_timeout(300)  # the stream's answer on its way back
            return
        page.wait_for_timeout(100)
    raise AssertionError("the provider never opened the OFREP change channel")


def _wait_for_statuses(page: Page, statuses: list[int], count: int) -> list[int]:
    for _ in range(100):
        if len(statuses) >= count:
            return statuses
        page.wait_for_timeout(100)
    raise AssertionError(f"only {statuses} after 10 s")
