"""The README's first run, end to end against `vexil serve`: the setup token it prints, the
first-run page in a browser's shoes (cookie, CSRF token, form post), and SDK calls with the keys
that page shows."""

from __future__ import annotations

import http.cookiejar
import re
import urllib.parse
import urllib.request
from pathlib import Path

from tests.foundation.test_serve import serving


def _sdk_get(url: str, key: str) -> int:
    request = urllib.request.Request(url, headers={"X-Environment-Key": key})
    with urllib.request.urlopen(request, timeout=10) as response:
        status: int = response.status
        return status


def test_first_run_page__as_readme_says__gives_working_sdk_keys(tmp_path: Path) -> None:
    with serving(tmp_path) as server:
        # Given: the token `make run` printed, and the page it names
        printed = server.stdout.read_text()
        token = re.search(r"open (\S+) with the one-time setup token (\S+)\n", printed)
        assert token, printed
        page, setup_token = token[1], token[2]
        browser = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )
        with browser.open(page, timeout=10) as response:
            form = response.read().decode()
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form)
        assert csrf, form
        # When: the form is filled in and sent
        fields = {
            "csrfmiddlewaretoken": csrf[1],
            "setup_token": setup_token,
            "username": "Ada",
            "email": "ada@example.com",
            "password": "a long enough passphrase",
            "site_name": "Vexil",
            "site_domain": "localhost:8000",
        }
        with browser.open(page, urllib.parse.urlencode(fields).encode(), timeout=30) as response:
            status, done = response.status, response.read().decode()
        # Then: the page ends on keys the SDK endpoints accept
        assert status == 201
        rows = re.findall(
            r'<th scope="row">(\w+)</th><td><code>(\w+)</code></td><td><code>(ser\.[\w-]+)</code>',
            done,
        )
        assert [name for name, _, _ in rows] == ["Development", "Production"], done
        for _, client_key, server_key in rows:
            assert _sdk_get(server.url + "/api/v1/flags/", client_key) == 200
            assert _sdk_get(server.url + "/api/v1/environment-document/", server_key) == 200
        # And: the next step it names works from the repository root
        assert "bootstrap --email ada@example.com --json" in done
