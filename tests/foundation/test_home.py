"""`/` and `/api/v1/`: what a newcomer who opens the printed URL finds."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import Resolver404, resolve

from vexil.users.models import User

pytestmark = pytest.mark.django_db

# Served by the SDK handler in front of Django (vexil/sdk/app.py), not by Django's URLs.
SDK_PATHS = frozenset({"/api/v1/flags/", "/api/v1/identities/", "/api/v1/environment-document/"})


def test_home__fresh_install__200_leading_to_first_run_page() -> None:
    response = Client().get("/")
    assert response.status_code == 200
    content = response.content.decode()
    assert '<a href="/api/v1/users/config/init/">first-run page</a>' in content
    for link in ('href="/api/v1/docs/"', 'href="/admin/"', 'href="/api/v1/"'):
        assert link in content


def test_home__initialised_install__no_set_up_step(superuser: User) -> None:
    response = Client().get("/")
    assert response.status_code == 200
    assert b"first-run page" not in response.content
    assert b'href="/api/v1/docs/"' in response.content


def test_api_index__get__json_entry_points_that_exist() -> None:
    # When
    response = Client().get("/api/v1/")
    # Then
    assert response.status_code == 200
    body = response.json()
    endpoints = body["endpoints"]
    assert endpoints["docs"] == "http://testserver/api/v1/docs/"
    assert {"schema", "first_run", "login", "organisations", "sdk_flags"} <= set(endpoints)
    for url in endpoints.values():
        path = url.removeprefix("http://testserver")
        if path in SDK_PATHS:
            continue
        try:
            resolve(path)
        except Resolver404:
            pytest.fail(f"{path} is listed but not served")


def test_api_index__post__405() -> None:
    assert Client().post("/api/v1/").status_code == 405
