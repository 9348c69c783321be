from __future__ import annotations

import subprocess
import sys

import pytest
from django.test import Client, override_settings
from django.urls import clear_url_caches


@pytest.fixture
def client() -> Client:
    return Client()


def test_liveness__get__ok(client: Client) -> None:
    response = client.get("/health/liveness/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readiness__database_and_cache_up__ok(client: Client) -> None:
    response = client.get("/health/readiness/")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"] == {
        "database": {"status": "ok"},
        "cache": {"status": "ok"},
        "sdk_view": {"status": "ok"},
    }


@pytest.mark.django_db
def test_readiness__cache_down__503_names_cache(client: Client) -> None:
    broken = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2},
        }
    }
    with override_settings(CACHES=broken):
        response = client.get("/health/readiness/")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["checks"]["database"] == {"status": "ok"}
    assert body["checks"]["cache"]["status"] == "error"
    assert "ConnectionError" in body["checks"]["cache"]["reason"]


def test_version__json(client: Client) -> None:
    from vexil import __version__

    assert client.get("/version/").json()["version"] == __version__


def test_404__json_client__json_error(client: Client) -> None:
    response = client.get("/no/such/page/", HTTP_ACCEPT="application/json")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found.", "code": "not_found"}


def test_404__any_type__json_error(client: Client) -> None:
    response = client.get("/no/such/page/", HTTP_ACCEPT="*/*")
    assert response["Content-Type"] == "application/json"


def test_404__browser__html_page(client: Client) -> None:
    accept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    response = client.get("/no/such/page/", HTTP_ACCEPT=accept)
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    assert b"404" in response.content


def test_405__django_view__json_error_with_allow_header(client: Client) -> None:
    response = client.post("/health/liveness/", HTTP_ACCEPT="application/json")
    assert response.status_code == 405
    assert response.json() == {"detail": "Method Not Allowed.", "code": "method_not_allowed"}
    assert response["Allow"] == "GET"


@pytest.mark.django_db
def test_500__json_client__json_error_without_traceback() -> None:
    client = Client(raise_request_exception=False)
    with override_settings(ROOT_URLCONF="tests.foundation.failing_urls"):
        clear_url_caches()
        response = client.get("/boom/", HTTP_ACCEPT="application/json")
    clear_url_caches()
    assert response.status_code == 500
    assert response.json() == {"detail": "Internal Server Error.", "code": "internal_server_error"}


@pytest.mark.django_db
def test_drf_error__unauthenticated__standard_shape(api_client) -> None:
    with override_settings(ROOT_URLCONF="tests.foundation.failing_urls"):
        clear_url_caches()
        response = api_client.get("/private/", HTTP_ACCEPT="application/json")
        invalid = api_client.post("/validate/", {"name": ""}, format="json")
    clear_url_caches()
    # 401 with a challenge: token authentication is the first scheme (as in Flagsmith).
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json() == {
        "detail": "Authentication credentials were not provided.",
        "code": "not_authenticated",
    }
    assert invalid.status_code == 400
    assert invalid.json() == {
        "detail": "Invalid input.",
        "code": "invalid",
        "name": ["This field may not be blank."],
    }


@pytest.mark.django_db
def test_pagination__page_size_over_cap__capped_at_100(api_client) -> None:
    with override_settings(ROOT_URLCONF="tests.foundation.failing_urls"):
        clear_url_caches()
        response = api_client.get("/numbers/?page_size=500")
    clear_url_caches()
    body = response.json()
    assert body["count"] == 250
    assert len(body["results"]) == 100
    assert set(body) == {"count", "next", "previous", "results"}


@pytest.mark.django_db
def test_schema__openapi_3__served(api_client) -> None:
    response = api_client.get("/api/v1/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    assert response.json()["openapi"].startswith("3.")


def test_swagger_ui__assets_from_package__no_cdn(client: Client) -> None:
    response = client.get("/api/v1/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html
    assert "cdn" not in html.lower()


@pytest.mark.django_db
def test_browsable_api__ordinary_request__json_only(api_client) -> None:
    with override_settings(ROOT_URLCONF="tests.foundation.failing_urls"):
        clear_url_caches()
        response = api_client.get("/numbers/", HTTP_ACCEPT="text/html")
    clear_url_caches()
    assert response.status_code == 406 or response["Content-Type"] == "application/json"


@pytest.mark.django_db
def test_browsable_api__superuser__html(api_client, superuser) -> None:
    api_client.force_login(superuser)
    with override_settings(ROOT_URLCONF="tests.foundation.failing_urls"):
        clear_url_caches()
        response = api_client.get("/numbers/", HTTP_ACCEPT="text/html")
    clear_url_caches()
    assert response["Content-Type"].startswith("text/html")


def test_gzip__enabled__large_json_compressed(tmp_path) -> None:
    # Settings are read once at start-up, so this runs in a process started with the variable.
    script = (
        "import django, os; django.setup();"
        "from django.test import Client;"
        "r = Client().get('/api/v1/schema/', HTTP_ACCEPT='application/json',"
        " HTTP_ACCEPT_ENCODING='gzip');"
        "print(r.status_code, r.get('Content-Encoding'))"
    )
    env = {
        "ENABLE_GZIP_COMPRESSION": "true",
        "VEXIL_DATA_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "vexil.settings",
        "PATH": "/usr/bin:/bin",
        "DJANGO_SECRET_KEY": "test",
    }
    result = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.stdout.strip().splitlines()[-1] == "200 gzip", result.stderr
