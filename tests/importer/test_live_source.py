"""``vexil import-flagsmith`` from a second, live ``vexil serve`` (which serves Flagsmith's admin
API shapes) built through its admin API with every kind of object: multivariate weights, a 50%
split segment, nested rules, segment-override priorities, identities with traits and overrides.

The source has its own SQLite database in a temporary directory; the import writes into this
test run's database, where other objects were made first so no id matches the source's.
"""

from __future__ import annotations

import io
import json
import random
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from rest_framework.test import APIClient

from tests.processes import (
    free_port,
    http_get,
    run_vexil,
    running,
    shared_database_url,
    vexil_command,
    vexil_environment,
    wait_for,
)
from tests.sdk.conftest import SDKClient
from vexil.audit.services import Actor
from vexil.environments.models import Environment
from vexil.features.models import Feature
from vexil.features.services import feature_create
from vexil.identities.services import identity_create
from vexil.importer import source as source_module
from vexil.importer.hashing import segment_hashing_id_set
from vexil.importer.models import ImportedObject
from vexil.organisations.services import organisation_create
from vexil.projects.services import project_create
from vexil.segments.models import Segment
from vexil.segments.services import segment_create
from vexil.users.models import User

pytestmark = pytest.mark.django_db

IDENTITIES = 12  # per environment; user1 has an identity override


@dataclass
class Source:
    url: str
    token: str
    client_keys: dict[str, str]  # environment name -> client key
    server_key: str
    api_key: str = ""  # an organisation API key (Flagsmith's master API key)

    def call(self, method: str, path: str, body: Any = None, *, key: str | None = None) -> Any:
        headers = {"Content-Type": "application/json"}
        if key:
            headers["X-Environment-Key"] = key
        else:
            headers["Authorization"] = f"Token {self.token}"
        request = urllib.request.Request(
            f"{self.url}/api/v1/{path}",
            data=None if body is None else json.dumps(body).encode(),
            method=method,
            headers=headers,
        )
        try:
            with urllib.request.urlopen(request, timeout=20) as response:
                raw = response.read()
        except urllib.error.HTTPError as error:
            raise AssertionError(f"{method} {path}: {error.code} {error.read()!r}") from None
        return json.loads(raw) if raw else None


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Source]:
    directory = tmp_path_factory.mktemp("flagsmith-source")
    env = vexil_environment(VEXIL_DATA_DIR=str(directory / "data"))
    assert run_vexil("migrate", "-v", "0", env=env, timeout=180).returncode == 0
    boot = run_vexil("bootstrap", "--email", "source@example.com", "--json", env=env)
    assert boot.returncode == 0, boot.stderr
    keys = json.loads(boot.stdout.splitlines()[0])
    port = free_port()
    command = vexil_command("serve", "--port", str(port), "--workers", "1", "--no-migrate")
    with running(command, env=env, output=directory / "server.log") as process:
        url = f"http://127.0.0.1:{port}"
        wait_for(
            lambda: http_get(url + "/health/liveness/"),
            timeout=60,
            what="the source server",
            process=process,
        )
        login = {"email": "source@example.com", "password": keys["user"]["password"]}
        token = Source(url, "", {}, "").call("POST", "auth/login/", login)["key"]
        environments = {e["name"]: e["client_key"] for e in keys["environments"]}
        server_key = keys["environments"][0]["server_key"]
        built = Source(url, token, environments, server_key)
        _build(built, keys["project"]["id"])
        organisation = keys["organisation"]["id"]
        master = built.call(
            "POST", f"organisations/{organisation}/master-api-keys/", {"name": "import"}
        )
        built.api_key = master["key"]
        yield built


def _build(source: Source, project: int) -> None:
    """Every kind of object, through the admin API."""
    call = source.call
    tag = call("POST", f"projects/{project}/tags/", {"label": "checkout", "color": "#3d4db6"})
    checkout = call(
        "POST",
        f"projects/{project}/features/",
        {
            "name": "checkout_button",
            "initial_value": "blue",
            "default_enabled": True,
            "tags": [tag["id"]],
        },
    )["id"]
    options = [
        call(
            "POST",
            f"projects/{project}/features/{checkout}/mv-options/",
            {"type": "unicode", "string_value": v, "default_percentage_allocation": p, "key": k},
        )["id"]
        for v, p, k in [("green", 30, "green_button"), ("red", 20, None)]
    ]
    banner = call(
        "POST",
        f"projects/{project}/features/",
        {"name": "banner_text", "initial_value": "Hello", "default_enabled": True},
    )["id"]
    limit = call(
        "POST", f"projects/{project}/features/", {"name": "max_items", "initial_value": "25"}
    )["id"]
    call(
        "POST",
        f"projects/{project}/features/",
        {
            "name": "api_rate_limit",
            "initial_value": "500",
            "default_enabled": True,
            "is_server_key_only": True,
        },
    )
    call(
        "POST",
        f"projects/{project}/features/",
        {"name": "old_banner", "initial_value": "Sale!", "is_archived": True},
    )
    big_baskets = call(  # a feature-specific segment
        "POST",
        f"projects/{project}/segments/",
        {
            "name": "big_baskets",
            "feature": limit,
            "rules": [
                {
                    "type": "ALL",
                    "conditions": [
                        {"operator": "GREATER_THAN", "property": "orders", "value": "5"}
                    ],
                }
            ],
        },
    )["id"]
    half = call(
        "POST",
        f"projects/{project}/segments/",
        {
            "name": "half",
            "rules": [
                {"type": "ALL", "conditions": [{"operator": "PERCENTAGE_SPLIT", "value": "50"}]}
            ],
        },
    )["id"]
    power = call(
        "POST",
        f"projects/{project}/segments/",
        {
            "name": "power_users",
            "rules": [
                {
                    "type": "ALL",
                    "rules": [
                        {
                            "type": "ANY",
                            "conditions": [
                                {
                                    "operator": "GREATER_THAN_INCLUSIVE",
                                    "property": "orders",
                                    "value": "10",
                                },
                                {"operator": "EQUAL", "property": "plan", "value": "premium"},
                            ],
                        },
                        {
                            "type": "NONE",
                            "conditions": [
                                {"operator": "EQUAL", "property": "banned", "value": "true"}
                            ],
                        },
                    ],
                }
            ],
        },
    )["id"]
    # Development hides disabled flags and hashes stored identities on their ids (Flagsmith's
    # django_id), not on the composite key
    call(
        "PATCH",
        f"environments/{source.client_keys['Development']}/",
        {"hide_disabled_flags": True, "use_identity_composite_key_for_hashing": False},
    )
    for name, key in source.client_keys.items():
        states = call("GET", f"environments/{key}/featurestates/?feature={checkout}")["results"]
        call(
            "PATCH",
            f"environments/{key}/featurestates/{states[0]['id']}/",
            {
                "enabled": True,
                "multivariate_feature_state_values": [
                    {"multivariate_feature_option": options[0], "percentage_allocation": 40},
                    {"multivariate_feature_option": options[1], "percentage_allocation": 35},
                ],
            },
        )
        for segment, value in [(half, f"half {name}"), (power, "Welcome back!")]:
            call(
                "POST",
                f"environments/{key}/features/{banner}/create-segment-override/",
                {"segment": segment, "enabled": True, "feature_state_value": value},
            )
        call(
            "POST",
            f"environments/{key}/features/{checkout}/create-segment-override/",
            {"segment": power, "enabled": True, "feature_state_value": "gold"},
        )
        call(
            "POST",
            f"environments/{key}/features/{limit}/create-segment-override/",
            {"segment": big_baskets, "enabled": True, "feature_state_value": 50},
        )
        # power_users first for banner_text: the later override made the stronger one
        environment = _environment_id(source, key)
        slots = call(
            "GET", f"features/feature-segments/?environment={environment}&feature={banner}"
        )["results"]
        by_segment = {slot["segment"]: slot["id"] for slot in slots}
        call(
            "POST",
            "features/feature-segments/update-priorities/",
            [{"id": by_segment[power], "priority": 0}, {"id": by_segment[half], "priority": 1}],
        )
        for n in range(IDENTITIES):
            traits = [
                {"trait_key": "orders", "trait_value": n},
                {"trait_key": "plan", "trait_value": "premium" if n % 4 == 0 else "free"},
                {"trait_key": "banned", "trait_value": n % 9 == 0},
            ]
            call("POST", "identities/", {"identifier": f"user{n}", "traits": traits}, key=key)
        identities = call("GET", f"environments/{key}/identities/?q=user1")["results"]
        call(
            "POST",
            f"environments/{key}/identities/{identities[0]['id']}/featurestates/",
            {"feature": limit, "enabled": True, "feature_state_value": 100},
        )


def _environment_id(source: Source, key: str) -> int:
    return int(source.call("GET", f"environments/{key}/")["id"])


@pytest.fixture
def renumbered(db: None) -> User:
    """Objects in Vexil before the import, so none of the imported ids can match the source's."""
    owner = User.objects.create_superuser(email="owner@example.com", password="correct horse 1")
    actor = Actor(user=owner)
    organisation = organisation_create(name="Existing", creator=owner, actor=actor)
    project = project_create(
        organisation=organisation, name="Existing", actor=actor, environment_names=["A", "B", "C"]
    )
    for n in range(7):
        feature_create(project=project, name=f"existing_{n}", actor=actor)
        segment_create(project=project, name=f"existing_{n}", rules=[], actor=actor)
    existing = Environment.objects.filter(project=project).first()
    assert existing is not None
    for n in range(5):  # so that imported identities' ids differ from Flagsmith's (django_id)
        identity_create(environment=existing, identifier=f"existing_{n}", actor=actor)
    return owner


def _import(
    source: Source, *extra: str, auth: tuple[str, str] | None = None
) -> tuple[int, dict[str, Any]]:
    out = io.StringIO()
    args = [
        "--url",
        source.url,
        *(auth or ("--token", source.token)),
        "--allow-network",
        "127.0.0.0/8",
        "--identities",
        "--json",
        *extra,
    ]
    try:
        call_command("import_flagsmith", *args, stdout=out, stderr=io.StringIO(), verbosity=0)
        status = 0
    except SystemExit as exit_:
        status = int(exit_.code or 0)
    return status, json.loads(out.getvalue())


def test_import__live_source__zero_mismatches_keys_kept_second_run_unchanged(
    source: Source, renumbered: User
) -> None:
    # When
    status, report = _import(source, "--verify-transient", "200")
    # Then
    assert report["error"] is None
    assert report["skipped"] == []
    assert report["verification"]["details"] == []
    assert report["verification"]["mismatches"] == 0
    assert report["verification"]["environments"] == 2
    assert report["verification"]["identities"] == 2 * IDENTITIES
    assert report["verification"]["transient"] == 400
    assert status == 0
    imported = dict(
        Environment.objects.filter(project__name="Default project").values_list("name", "api_key")
    )
    assert imported == source.client_keys
    assert sorted(k["client_key"] for k in report["server_keys"]) == sorted(
        source.client_keys.values()
    )
    assert all(k["server_key"].startswith("ser.") for k in report["server_keys"])
    # every kind of object, with its settings
    features = {f.name: f for f in Feature.objects.filter(project__name="Default project")}
    assert [t.label for t in features["checkout_button"].tags.all()] == ["checkout"]
    assert (features["old_banner"].is_archived, features["api_rate_limit"].is_server_key_only) == (
        True,
        True,
    )
    big_baskets = Segment.objects.get(project__name="Default project", name="big_baskets")
    assert big_baskets.feature == features["max_items"]
    development = Environment.objects.get(api_key=source.client_keys["Development"])
    assert (
        development.hide_disabled_flags,
        development.use_identity_composite_key_for_hashing,
    ) == (True, False)

    # When: again
    status, again = _import(source, "--verify-transient", "20")
    # Then: nothing changes
    assert status == 0
    assert {
        kind: c["created"] + c["updated"] for kind, c in again["counts"].items()
    } == dict.fromkeys(again["counts"], 0)
    assert again["server_keys"] == []
    assert again["verification"]["mismatches"] == 0


def test_import__interrupted__next_run_carries_on(
    source: Source, renumbered: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given: a run that loses the source while reading the second environment's document
    real_document = source_module.FlagsmithSource.document
    calls = []

    def failing_document(self: source_module.FlagsmithSource, client_key: str) -> Any:
        calls.append(client_key)
        if len(calls) == 2:
            raise source_module.SourceError("Cannot reach the source: connection reset.")
        return real_document(self, client_key)

    with monkeypatch.context() as patched:
        patched.setattr(source_module.FlagsmithSource, "document", failing_document)
        status, interrupted = _import(source, "--no-verify")
    assert status == 1
    assert interrupted["error"] == "Cannot reach the source: connection reset."
    done_before = ImportedObject.objects.count()
    # When
    status, resumed = _import(source, "--verify-transient", "20")
    # Then: what was imported stays, the rest is created, and everything matches
    assert (status, resumed["error"], resumed["verification"]["mismatches"]) == (0, None, 0)
    assert resumed["counts"]["feature"] == {"created": 0, "updated": 0, "unchanged": 5}
    assert resumed["counts"]["environment"]["unchanged"] == 2
    assert resumed["counts"]["feature states"]["created"] == 5  # the second environment's
    assert resumed["counts"]["identity"]["created"] == IDENTITIES
    assert ImportedObject.objects.count() > done_before


@pytest.mark.django_db(transaction=True)
def test_cli__unreachable_url__message_no_traceback(tmp_path: Path) -> None:
    # Given: a port nothing listens on; the command runs on this test run's database
    User.objects.create_superuser(email="admin@example.com", password="correct horse 1")
    env = vexil_environment(
        VEXIL_DATA_DIR=str(tmp_path / "data"), DATABASE_URL=shared_database_url()
    )
    url = f"http://127.0.0.1:{free_port()}/api/v1/"
    # When
    result = subprocess.run(
        vexil_command(
            "import-flagsmith", "--url", url, "--token", "t", "--allow-network", "127.0.0.0/8"
        ),
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    # Then
    assert result.returncode == 1
    assert f"Error: Cannot reach {url}organisations/" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_import__buckets_not_kept__verification_reports_mismatches_and_fails(
    source: Source, renumbered: User
) -> None:
    """The verification is what proves buckets are kept: with the 50% split hashed on Vexil's
    own segment id instead of Flagsmith's, it finds the transient identities that moved."""
    # Given: an import, then the split segment's Flagsmith id dropped in Vexil
    status, _ = _import(source, "--no-verify")
    assert status == 0
    half = Segment.objects.get(project__name="Default project", name="half")
    assert half.hashing_id is not None
    assert half.hashing_id != half.pk
    segment_hashing_id_set(segment=half, hashing_id=half.pk)
    # When: a second run, which finds the source unchanged and so rewrites nothing, verifies
    status, report = _import(source, "--verify-identities", "0", "--verify-transient", "60")
    # Then
    assert status == 1
    assert report["ok"] is False
    assert report["verification"]["mismatches"] > 0
    details = report["verification"]["details"]
    assert details
    assert all("transient identity" in d and "banner_text" in d for d in details)


def test_import__vexils_own_sdk_endpoints__serve_what_the_source_serves(
    source: Source, renumbered: User, sdk: SDKClient
) -> None:
    """Beyond the command's own check (Vexil's evaluation in process): the SDK endpoints of this
    install, with the same client keys, answer as the source does; the new server-side keys
    work."""
    # Given
    status, report = _import(source, "--no-verify")
    assert status == 0
    rng = random.Random(15)
    for name, key in source.client_keys.items():
        # When / Then: the environment's flags
        ours = sdk.get("/api/v1/flags/", key=key)
        assert ours.status == 200
        assert _flag_values(ours.json()) == _flag_values(source.call("GET", "flags/", key=key))
        # stored identities
        for n in range(IDENTITIES):
            query = urlencode({"identifier": f"user{n}"})
            ours = sdk.get("/api/v1/identities/", key=key, query=query)
            theirs = source.call("GET", f"identities/?{query}", key=key)
            assert ours.status == 200
            assert _flag_values(ours.json()["flags"]) == _flag_values(theirs["flags"]), (name, n)
        # transient identities, new on both sides
        for n in range(40):
            body = {
                "identifier": f"new-{rng.getrandbits(64):x}",
                "traits": [
                    {"trait_key": "orders", "trait_value": rng.randrange(15)},
                    {"trait_key": "plan", "trait_value": rng.choice(["premium", "free"])},
                ],
                "transient": True,
            }
            ours = sdk.post("/api/v1/identities/", key=key, json=body)
            theirs = source.call("POST", "identities/", body, key=key)
            assert ours.status == 200
            assert _flag_values(ours.json()["flags"]) == _flag_values(theirs["flags"]), (name, n)
    for entry in report["server_keys"]:
        flags = sdk.get("/api/v1/flags/", key=entry["server_key"])
        assert flags.status == 200
        assert "api_rate_limit" in _flag_values(flags.json())  # server-side only


def _flag_values(flags: Any) -> dict[str, tuple[bool, Any]]:
    return {f["feature"]["name"]: (f["enabled"], f["feature_state_value"]) for f in flags}


def test_import__organisation_api_key__reads_everything(source: Source, renumbered: User) -> None:
    # When: a dry run (it reads everything, identities included) with an organisation API key
    status, report = _import(source, "--dry-run", auth=("--api-key", source.api_key))
    # Then
    assert (status, report["error"], report["skipped"]) == (0, None, [])
    assert report["counts"]["feature"]["created"] == 5
    assert report["counts"]["identity"]["created"] == 2 * IDENTITIES
    assert not Environment.objects.filter(api_key__in=source.client_keys.values()).exists()


# --- Two installs -------------------------------------------------------------------------------
# The source above is a second, separate Vexil install (its own process and SQLite database), so
# it also proves that Flagsmith's feature export file moves flags from one install to another.


@pytest.fixture
def owner_client(db: None) -> tuple[User, APIClient]:
    owner = User.objects.create_user(email="newcomer@example.com", password=None)
    client = APIClient()
    client.force_authenticate(owner)
    return owner, client


def _served_flags(body: Any) -> list[dict[str, Any]]:
    """A ``/api/v1/flags/`` body without what names rows of one install (ids, dates)."""
    flags = json.loads(json.dumps(body))
    for flag in flags:
        del flag["id"], flag["environment"], flag["feature"]["id"]
        del flag["feature"]["created_date"]
    return sorted(flags, key=lambda flag: flag["feature"]["name"])


def test_feature_export__from_another_install__same_flags_served(
    source: Source, owner_client: tuple[User, APIClient], sdk: SDKClient
) -> None:
    # Given: the other install's Production environment, exported through its API
    owner, client = owner_client
    key = source.client_keys["Production"]
    created = source.call(
        "POST",
        "features/create-feature-export/",
        {"environment_id": _environment_id(source, key), "tag_ids": []},
    )
    exported = source.call("GET", f"features/download-feature-export/{created['id']}/")
    actor = Actor(user=owner)
    organisation = organisation_create(name="Newcomer", creator=owner, actor=actor)
    project = project_create(
        organisation=organisation, name="Shop", actor=actor, environment_names=["Live"]
    )
    target = Environment.objects.get(project=project)

    # When: imported into this install
    upload = SimpleUploadedFile("feature_export.json", json.dumps(exported).encode())
    response = client.post(
        f"/api/v1/features/feature-import/{target.pk}",
        {"file": upload, "strategy": "OVERWRITE_DESTRUCTIVE"},
        format="multipart",
    )

    # Then: both installs serve the same flags
    assert response.status_code == 201, response.json()
    # archived features are not exported (as in Flagsmith); the server-side-only one is, and
    # neither install serves it to a client key
    assert [r["result"] for r in response.json()["results"]] == ["CREATED"] * 4
    theirs = [
        flag
        for flag in source.call("GET", "flags/", key=key)
        if flag["feature"]["name"] != "old_banner"  # archived: not in the file
    ]
    ours = sdk.get("/api/v1/flags/", key=target.api_key)
    assert ours.status == 200
    assert _served_flags(ours.json()) == _served_flags(theirs)
    assert {f["feature"]["name"] for f in theirs} == {"checkout_button", "banner_text", "max_items"}
