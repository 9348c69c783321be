"""Every link in an e-mail comes from one public base URL (issue 9, item 10): never example.com."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.sites.models import Site
from django.test import RequestFactory

from tests.processes import run_vexil, vexil_environment
from vexil.common.mail import install_name, public_base_url


def _bootstrap_email(tmp_path: Path, **variables: str) -> str:
    env = vexil_environment(VEXIL_DATA_DIR=str(tmp_path / "data"), **variables)
    result = run_vexil(
        "bootstrap",
        "--json",
        "--email",
        "ops@acme.test",
        "--password",
        "a long passphrase 7",
        env=env,
    )
    assert result.returncode == 0, result.stderr
    return result.stderr


def test_bootstrap__no_public_url__links_to_localhost_never_example_com(tmp_path: Path) -> None:
    stderr = _bootstrap_email(tmp_path, VEXIL_PORT="8123")
    assert "Sign in:            http://localhost:8123/admin/" in stderr
    assert 'Your Vexil install "localhost:8123" is set up' in stderr
    assert "example.com" not in stderr


@pytest.mark.parametrize(
    ("variables", "base"),
    [
        ({"FLAGSMITH_DOMAIN": "flags.acme.test"}, "https://flags.acme.test"),
        ({"FLAGSMITH_DOMAIN": "localhost:8000"}, "http://localhost:8000"),
        ({"VEXIL_PUBLIC_URL": "https://acme.test/flags/"}, "https://acme.test/flags"),
        (
            {"VEXIL_PUBLIC_URL": "https://a.acme.test", "FLAGSMITH_DOMAIN": "b.acme.test"},
            "https://a.acme.test",
        ),
    ],
)
def test_bootstrap__public_url_set__links_from_it(
    tmp_path: Path, variables: dict[str, str], base: str
) -> None:
    stderr = _bootstrap_email(tmp_path, **variables)
    assert f"Sign in:            {base}/admin/" in stderr
    assert f"API documentation:  {base}/api/v1/docs/" in stderr


def test_bootstrap__malformed_public_url__refused_naming_variable(tmp_path: Path) -> None:
    env = vexil_environment(VEXIL_DATA_DIR=str(tmp_path / "d"), VEXIL_PUBLIC_URL="flags.acme")
    result = run_vexil("bootstrap", "--email", "ops@acme.test", env=env)
    assert result.returncode != 0
    assert "VEXIL_PUBLIC_URL" in result.stderr


def test_public_base_url__placeholder_site_and_request__request_host(db: None) -> None:
    # Given the site row Django creates (example.com) and no public URL set
    Site.objects.update_or_create(pk=1, defaults={"domain": "example.com", "name": "example.com"})
    request = RequestFactory(HTTP_HOST="flags.internal:8443").get("/")
    # Then
    assert public_base_url(request) == "http://flags.internal:8443"
    assert install_name(public_base_url(request)) == "flags.internal:8443"


def test_public_base_url__site_domain_set__site_domain(db: None) -> None:
    Site.objects.update_or_create(pk=1, defaults={"domain": "flags.acme.test", "name": "Acme"})
    request = RequestFactory(HTTP_HOST="10.1.2.3:8000").get("/")
    assert public_base_url(request) == "https://flags.acme.test"
