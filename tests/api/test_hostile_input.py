"""A corpus of hostile requests over every management operation of the OpenAPI schema.

For each operation (on the seeded two-tenant world, with the seeded objects' ids in the path, as
Acme's organisation admin and as an anonymous client), oversized, over-many-field, over-deep and
malformed bodies, NUL characters and integers beyond 64 bits in every documented field, query
parameter and path parameter. None may answer 5xx; every refusal has the house error shape; and
some answers are exact (a 3 MB body is a 413, a NUL character a 400). Each request runs in a
transaction that is rolled back, so every request meets the same world; CI runs this on SQLite and
PostgreSQL, so both give these answers.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pytest
from django.core.cache import cache
from django.db import transaction
from django.test import Client

from tests.api.test_schemathesis import (
    _seeded_ids,
    seed_integrations,
    seed_resources,
    seeded_path_parameters,
)
from tests.permission_matrix.conftest import World, build_world
from tests.permission_matrix.test_flags_matrix import add_flags_objects
from vexil.common.openapi import TAG as SDK_TAG

HUGE = 2**64 + 7
NUL = "a\x00b"
FORM_FIELDS = "&".join(f"f{i}=1" for i in range(1_001))
BIG_JSON = json.dumps({"name": "x" * 3_000_000})
DEEP_JSON = "[" * 10_000 + "]" * 10_000
BODY_METHODS = {"post", "put", "patch"}


@dataclass(frozen=True)
class Hostile:
    what: str
    method: str
    path: str
    body: bytes = b""
    content_type: str = "application/json"
    exact: int | None = None  # the one status this request must get, where it is certain


class _RollbackError(Exception):
    pass


@pytest.fixture
def world(db: None) -> World:
    return add_flags_objects(build_world())


@pytest.fixture
def schema(world: World) -> dict[str, Any]:
    document: dict[str, Any] = Client().get("/api/v1/schema/?format=json").json()
    return document


def _operations(schema: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            wanted = method in {"get", "post", "put", "patch", "delete"}
            if wanted and SDK_TAG not in operation.get("tags", []):
                yield path, method, operation


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


def _body_properties(schema: dict[str, Any], operation: dict[str, Any]) -> dict[str, Any]:
    content = operation.get("requestBody", {}).get("content", {})
    body = content.get("application/json", {}).get("schema")
    if body is None:
        return {}
    body = _resolve(schema, body)
    if body.get("type") == "array":
        body = _resolve(schema, body.get("items", {}))
    return {name: _resolve(schema, p) for name, p in body.get("properties", {}).items()}


def _kind(schema: dict[str, Any], prop: dict[str, Any]) -> str | None:
    if "oneOf" in prop or "allOf" in prop:
        options = prop.get("oneOf") or prop.get("allOf") or []
        kinds = {_resolve(schema, option).get("type") for option in options}
        return "string" if "string" in kinds else next(iter(kinds), None)
    kind = prop.get("type")
    return kind if isinstance(kind, str) else None


def _fill(path: str, ids: dict[str, Any], override: Any = None) -> str:
    values = seeded_path_parameters(path, ids)
    for name in path.split("{")[1:]:
        name = name.split("}")[0]
        value = override if override is not None else values.get(name, 1)
        path = path.replace("{" + name + "}", quote(str(value), safe=""))
    return path


def _corpus(schema: dict[str, Any], ids: dict[str, Any]) -> Iterator[Hostile]:
    for template, method, operation in _operations(schema):
        path = _fill(template, ids)
        if method in BODY_METHODS:
            yield Hostile("1,001 form fields", method, path, FORM_FIELDS.encode(),
                          "application/x-www-form-urlencoded")  # fmt: skip
            # An operation that reads no body (logout) may ignore it; one that reads it says 413.
            yield Hostile("3 MB JSON", method, path, BIG_JSON.encode())
            yield Hostile("JSON 10,000 deep", method, path, DEEP_JSON.encode())
            yield Hostile("invalid UTF-8", method, path, b'{"name": "\xff\xfe"}')
            yield Hostile("NaN literal", method, path, b'{"name": NaN}')
            bodies: list[Any] = [[], "x", 1, None, [[{}]]]
            for body in bodies:
                yield Hostile(f"JSON body {body!r}", method, path, json.dumps(body).encode())
            for name, prop in _body_properties(schema, operation).items():
                kind = _kind(schema, prop)
                if kind == "string":
                    yield Hostile(f"NUL in {name}", method, path,
                                  json.dumps({name: NUL}).encode(), exact=400)  # fmt: skip
                    yield Hostile(f"1 MB {name}", method, path,
                                  json.dumps({name: "x" * 1_000_000}).encode())  # fmt: skip
                elif kind in ("integer", "number"):
                    yield Hostile(f"2**64 in {name}", method, path,
                                  json.dumps({name: HUGE}).encode())  # fmt: skip
                    yield Hostile(f"1e400 in {name}", method, path,
                                  f'{{"{name}": 1e400}}'.encode(), exact=400)  # fmt: skip
                elif kind == "array":
                    yield Hostile(f"2**64 list in {name}", method, path,
                                  json.dumps({name: [HUGE]}).encode())  # fmt: skip
        for parameter in operation.get("parameters", []):
            if parameter.get("in") != "query":
                continue
            name = parameter["name"]
            yield Hostile(f"?{name}=NUL", method, f"{path}?{name}=a%00b", exact=400)
            yield Hostile(f"?{name}=2**64", method, f"{path}?{name}={HUGE}")
            yield Hostile(f"?{name}=long", method, f"{path}?{name}={'x' * 10_000}")
        if "{" in template:
            yield Hostile("NUL in path", method, _fill(template, ids, NUL), exact=400)
            yield Hostile("2**64 in path", method, _fill(template, ids, HUGE))


def _send(client: Client, request: Hostile) -> Any:
    cache.clear()  # throttles and lock-outs count per address; every request starts afresh
    kwargs: dict[str, Any] = {}
    if request.body or request.method in BODY_METHODS:
        kwargs = {"data": request.body, "content_type": request.content_type}
    try:
        with transaction.atomic():
            response = client.generic(request.method.upper(), request.path, **kwargs)
            raise _RollbackError(response)
    except _RollbackError as rolled_back:
        return rolled_back.args[0]


def _problem(request: Hostile, response: Any) -> str | None:
    status = response.status_code
    if status >= 500:
        return f"{status}"
    if request.exact is not None and status != request.exact and status not in (401, 403, 404):
        return f"{status}, expected {request.exact}"
    if status >= 400:
        try:
            body = json.loads(response.content)
        except ValueError:
            return f"{status} without a JSON body"
        if not (isinstance(body, dict) and {"detail", "code"} <= set(body)):
            return f"{status} not in the house error shape: {body!r}"[:300]
    return None


@pytest.mark.parametrize("principal", ["org_admin", "anonymous"])
def test_management_api__hostile_corpus__no_5xx_and_house_shape(
    world: World, schema: dict[str, Any], principal: str
) -> None:
    # Given every management operation and its hostile requests
    ids = _seeded_ids(world) | seed_integrations(world) | seed_resources(world)
    corpus = list(_corpus(schema, ids))
    if principal == "anonymous":
        corpus = [r for r in corpus if r.what in {"1,001 form fields", "3 MB JSON",
                                                   "JSON 10,000 deep", "NUL in path"}]  # fmt: skip
    client = Client(raise_request_exception=False)
    if principal != "anonymous":
        client.defaults["HTTP_AUTHORIZATION"] = world.credentials[principal]

    # When each is sent
    problems = [
        f"{request.method.upper()} {request.path[:120]} [{request.what}]: {problem}"
        for request in corpus
        if (problem := _problem(request, _send(client, request))) is not None
    ]

    # Then none answers 5xx, and every refusal is the house error
    assert len(corpus) > (500 if principal == "org_admin" else 300)
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize(
    ("body", "content_type", "status", "detail"),
    [
        (FORM_FIELDS, "application/x-www-form-urlencoded", 400, "DATA_UPLOAD_MAX_NUMBER_FIELDS"),
        (BIG_JSON, "application/json", 413, "Request body too large"),
        (DEEP_JSON, "application/json", 400, "nested deeper than 32 levels"),
        ('{"email": 1e400, "password": "x"}', "application/json", 400, "Number out of range"),
        ('{"email": "a\\u0000b", "password": "x"}', "application/json", 400, "Invalid input."),
    ],
)
def test_login__hostile_body_unauthenticated__4xx_house_shape(
    db: None, body: str, content_type: str, status: int, detail: str
) -> None:
    response = Client().post("/api/v1/auth/login/", body, content_type=content_type)

    assert response.status_code == status
    assert detail in response.json()["detail"]
    assert set(response.json()) >= {"detail", "code"}


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/environments/ab%00cd/",
        "/api/v1/organisations/?search=a%00b",
        "/api/v1/audit/?search=%00",
    ],
)
def test_url__nul_character__400_on_every_database(world: World, url: str) -> None:
    client = Client(HTTP_AUTHORIZATION=world.credentials["org_admin"])

    response = client.get(url)

    assert response.status_code == 400
    assert response.json() == {
        "detail": "Null characters are not allowed in the URL.",
        "code": "bad_request",
    }
