"""The SSO tests' OpenID Connect provider (tests/sso/provider), one process per test package."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import pytest
import requests

from tests.dashboard.browser import DashboardServer, dashboard_server
from tests.dashboard.conftest import chromium, page
from tests.processes import free_port, http_get, read_text, running, wait_for

__all__ = ["chromium", "page"]  # the dashboard journeys' browser fixtures, used here too

CLIENT_ID = "vexil-dashboard"
CLIENT_SECRET = "s3cret-for-the-test-provider-only"
PASSWORD = "provider horse 9"
REPOSITORY = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Provider:
    issuer: str
    log: Path
    # The port a browser journey's Vexil listens on: the provider knows its callback URL.
    vexil_port: int


@pytest.fixture(scope="package")
def oidc_provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Provider]:
    directory = tmp_path_factory.mktemp("oidc-provider")
    port, vexil_port = free_port(), free_port()
    config = {
        "port": port,
        "database": str(directory / "provider.sqlite3"),
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "redirect_uris": [
            "http://testserver/sso/oidc/callback/",
            f"http://127.0.0.1:{vexil_port}/sso/oidc/callback/",
        ],
        "users": [
            {"email": "owner@example.com", "password": PASSWORD},
            {"email": "newcomer@example.com", "password": PASSWORD, "first_name": "Nia"},
            {"email": "outsider@elsewhere.test", "password": PASSWORD},
            {"email": "unsure@example.com", "password": PASSWORD, "last_name": "unverified"},
        ],
    }
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env["PYTHONPATH"] = str(REPOSITORY)
    log = directory / "provider.log"
    command = [sys.executable, "-m", "tests.sso.provider", json.dumps(config)]
    with running(command, env=env, output=log) as process:
        issuer = f"http://127.0.0.1:{port}/o"
        try:
            wait_for(
                lambda: http_get(issuer + "/.well-known/openid-configuration"),
                timeout=60,
                what="the OIDC provider's discovery document",
                process=process,
            )
        except AssertionError as error:
            raise AssertionError(f"{error}\n{read_text(log)}") from None
        yield Provider(issuer=issuer, log=log, vexil_port=vexil_port)


@pytest.fixture
def sso_settings(settings: Any, oidc_provider: Provider) -> Any:
    settings.OIDC_ISSUER = oidc_provider.issuer
    settings.OIDC_CLIENT_ID = CLIENT_ID
    settings.OIDC_CLIENT_SECRET = CLIENT_SECRET
    settings.OIDC_SCOPES = ["openid", "email", "profile"]
    settings.OIDC_ALLOWED_EMAIL_DOMAINS = []
    settings.OIDC_CREATE_USERS = False
    settings.OIDC_NEW_USER_ORGANISATION = 0
    # The provider is on loopback, which outbound requests refuse unless allowed on purpose.
    settings.VEXIL_WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    settings.PUBLIC_URL = ""
    return settings


def provider_sign_in(authorize_url: str, email: str, password: str = PASSWORD) -> str:
    """Sign in at the provider as a browser would (its login form, its cookies); return the
    URL the provider then sends the browser to (Vexil's callback, with ``code`` and ``state``)."""
    session = requests.Session()
    answer = session.get(authorize_url, allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text[:500]
    login_url = urljoin(authorize_url, answer.headers["Location"])
    session.get(login_url, timeout=10)
    answer = session.post(
        login_url,
        data={
            "username": email,
            "password": password,
            "csrfmiddlewaretoken": session.cookies["provider_csrftoken"],
        },
        headers={"Referer": login_url},
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 302, answer.text[:500]
    answer = session.get(
        urljoin(login_url, answer.headers["Location"]), allow_redirects=False, timeout=10
    )
    assert answer.status_code == 302, answer.text[:500]
    return str(answer.headers["Location"])


# --- Browser journeys: a live Vexil with SSO on, and Chromium (the dashboard tests' fixtures) ---
@pytest.fixture(scope="package")
def sso_server(
    django_db_setup: None, tmp_path_factory: pytest.TempPathFactory, oidc_provider: Provider
) -> Iterator[DashboardServer]:
    port = oidc_provider.vexil_port
    with dashboard_server(
        tmp_path_factory.mktemp("sso-dashboard"),
        port=port,
        VEXIL_PUBLIC_URL=f"http://127.0.0.1:{port}",
        OIDC_ISSUER=oidc_provider.issuer,
        OIDC_CLIENT_ID=CLIENT_ID,
        OIDC_CLIENT_SECRET=CLIENT_SECRET,
        VEXIL_WEBHOOK_ALLOWED_NETWORKS="127.0.0.0/8",
    ) as server:
        yield server
