"""`/api/v1/`: the root of the API lists its entry points instead of answering 404."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import Resolver404, resolve

pytestmark = pytest.mark.django_db

# Served by the SDK handler in front of Django (vexil/sdk/app.py), not by Django's URLs.
SDK_PATHS = frozenset({"/api/v1/flags/", "/api/v1/identities/", "/api/v1/environment-document/"})


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
