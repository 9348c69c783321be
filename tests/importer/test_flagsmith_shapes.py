"""``vexil import-flagsmith`` against recorded Flagsmith response bodies (``flagsmith_bodies``),
served by a loopback HTTP server: the shapes where Flagsmith differs from Vexil import right,
the ids Flagsmith hashes on are kept, and bad answers stop the import with a clear message."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from django.core.management import CommandError, call_command

from tests.importer import flagsmith_bodies as bodies
from vexil.engine import compile_environment
from vexil.environments.models import Environment
from vexil.evaluation.context import environment_context
from vexil.evaluation.explain import evaluation_preview
from vexil.features.models import Feature, FeatureSegment, FeatureState
from vexil.identities.identify import TraitInput
from vexil.identities.models import Identity
from vexil.importer.models import ImportedObject
from vexil.organisations.models import Organisation
from vexil.segments.models import Segment
from vexil.users.models import User

pytestmark = pytest.mark.django_db


class FlagsmithStub:
    """A loopback server answering ``bodies.ROUTES``; ``overrides`` replace bodies per test."""

    def __init__(self) -> None:
        self.overrides: dict[str, Any] = {}
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.headers.get("Authorization") != f"Token {bodies.TOKEN}":
                    self._answer(401, {"detail": "Invalid token."})
                    return
                parts = urlsplit(self.path)
                query = [
                    (k, v) for k, v in parse_qsl(parts.query) if k not in ("page", "page_size")
                ]
                path = parts.path.removeprefix("/api/v1/")
                route = path + (f"?{urlencode(query)}" if query else "")
                routes = {**bodies.ROUTES, **stub.overrides}
                if route in routes:
                    self._answer(200, routes[route])
                else:
                    self._answer(404, {"detail": "Not found."})

            def _answer(self, status: int, body: Any) -> None:
                raw = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api/v1/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FlagsmithStub:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def flagsmith() -> Iterator[FlagsmithStub]:
    with FlagsmithStub() as stub:
        yield stub


@pytest.fixture
def owner(db: None) -> User:
    return User.objects.create_superuser(email="owner@example.com", password="correct horse 1")


def _import(url: str, *extra: str, token: str = bodies.TOKEN) -> tuple[int, dict[str, Any]]:
    out = io.StringIO()
    args = ["--url", url, "--token", token, "--allow-network", "127.0.0.0/8", "--json", *extra]
    try:
        call_command("import_flagsmith", *args, stdout=out, stderr=io.StringIO(), verbosity=0)
        status = 0
    except SystemExit as exit_:
        status = int(exit_.code or 0)
    return status, json.loads(out.getvalue())


def test_import__flagsmith_shapes__everything_typed_as_in_flagsmith(
    flagsmith: FlagsmithStub, owner: User
) -> None:
    # When
    status, report = _import(flagsmith.url, "--identities", "--no-verify")
    # Then
    assert (status, report["ok"], report["skipped"]) == (0, True, [])
    organisation = Organisation.objects.get(name="Acme")
    assert organisation.memberships.filter(user=owner).exists()
    assert (
        organisation.restrict_project_create_to_admin,
        organisation.webhook_notification_email,
    ) == (True, "ops@example.com")
    environment = Environment.objects.get(project__organisation=organisation)
    assert environment.api_key == bodies.CLIENT_KEY
    assert environment.use_identity_composite_key_for_hashing is False
    assert environment.use_identity_overrides_in_local_eval is False
    project = environment.project
    assert (project.stale_flags_limit_days, project.feature_name_regex) == (45, "^[a-z_]+$")
    assert environment.description == ""
    assert environment.banner_text == ""
    assert [k["client_key"] for k in report["server_keys"]] == [bodies.CLIENT_KEY]
    assert report["server_keys"][0]["server_key"].startswith("ser.")
    features = {f.name: f for f in Feature.objects.filter(project=environment.project)}
    assert {n: f.initial_value for n, f in features.items()} == {
        "checkout_button": "blue",
        "max_items": 25,  # Flagsmith's text "25", auto-typed as Flagsmith types it
        "banner_text": "Hello",
    }
    assert {n: f.type for n, f in features.items()} == {
        "checkout_button": "MULTIVARIATE",
        "max_items": "STANDARD",
        "banner_text": "STANDARD",
    }
    assert features["banner_text"].description == "Top banner"
    assert [t.label for t in features["checkout_button"].tags.all()] == ["checkout"]
    assert list(features["checkout_button"].owners.all()) == [owner]  # e-mail matched, any case
    assert [(o.value, o.key) for o in features["checkout_button"].multivariate_options.all()] == [
        ("green", "green_button"),
        ("red", None),
    ]


def test_import__flagsmith_shapes__hashing_ids_kept(flagsmith: FlagsmithStub, owner: User) -> None:
    _import(flagsmith.url, "--identities", "--no-verify")
    environment = Environment.objects.get(api_key=bodies.CLIENT_KEY)
    assert {s.name: s.hashing_id for s in Segment.objects.filter(project=environment.project)} == {
        "half": 101,
        "power_users": 102,
    }
    checkout = FeatureState.objects.get(
        environment=environment, feature__name="checkout_button", feature_segment=None
    )
    assert checkout.hashing_id == 502
    assert sorted(
        (v.hashing_id, v.multivariate_feature_option.value, v.percentage_allocation)
        for v in checkout.multivariate_feature_state_values.all()
    ) == [(7001, "green", 30.0), (7002, "red", 30.0)]
    banner_overrides = FeatureSegment.objects.filter(
        environment=environment, feature__name="banner_text"
    ).order_by("priority")
    assert [(fs.segment.name, fs.feature_states.get().hashing_id) for fs in banner_overrides] == [
        ("power_users", 901),
        ("half", 903),
    ]
    assert {
        i.identifier: i.hashing_id for i in Identity.objects.filter(environment=environment)
    } == {
        "alice@example.com": 4242,
        "bob": 4243,
    }


def test_import__flagsmith_shapes__identities_traits_and_overrides(
    flagsmith: FlagsmithStub, owner: User
) -> None:
    _import(flagsmith.url, "--identities", "--no-verify")
    alice = Identity.objects.get(identifier="alice@example.com")
    assert {t.trait_key: t.trait_value for t in alice.identity_traits.all()} == {
        "orders": 12,
        "score": 1.5,
        "plan": "free",
        "beta": True,
    }
    override = FeatureState.objects.get(identity=alice)
    assert (override.feature.name, override.enabled, override.value) == ("max_items", True, 100)


def test_import__flagsmith_shapes__every_identity_in_flagsmiths_bucket(
    flagsmith: FlagsmithStub, owner: User
) -> None:
    """The environment hashes stored identities on their id: bob is 4243 on both sides; a new
    (transient) identity hashes on the composite key with the kept client key."""
    _import(flagsmith.url, "--identities", "--no-verify")
    environment = Environment.objects.get(api_key=bodies.CLIENT_KEY)
    source = compile_environment(environment_context(bodies.DOCUMENT))

    def expected(identifier: str, traits: dict[str, Any], key: str | None = None) -> Any:
        identity: dict[str, Any] = {"identifier": identifier, "traits": traits}
        if key:
            identity["key"] = key
        return {n: (f["enabled"], f["value"]) for n, f in source.evaluate_flags(identity).items()}

    def vexil(identifier: str, traits: dict[str, Any]) -> Any:
        preview = evaluation_preview(
            environment_id=environment.pk,
            identifier=identifier,
            traits=[TraitInput(k, v) for k, v in traits.items()],
        )
        return {f.feature_name: (f.enabled, f.value) for f in preview.flags}

    assert vexil("bob", {}) == expected("bob", {}, key="4243")
    for n in range(200):
        traits = {"orders": n % 15, "banned": n % 7 == 0}
        assert vexil(f"new-{n}", traits) == expected(f"new-{n}", traits)


def test_import__second_run__changes_nothing(flagsmith: FlagsmithStub, owner: User) -> None:
    _import(flagsmith.url, "--identities", "--no-verify")
    mappings = list(ImportedObject.objects.values_list("kind", "source_id", "target_id"))
    # When
    status, report = _import(flagsmith.url, "--identities", "--no-verify")
    # Then
    assert status == 0
    assert {k: c["created"] + c["updated"] for k, c in report["counts"].items()} == dict.fromkeys(
        report["counts"], 0
    )
    assert report["server_keys"] == []
    assert list(ImportedObject.objects.values_list("kind", "source_id", "target_id")) == mappings


def test_import__source_changed__updated_in_place_not_duplicated(
    flagsmith: FlagsmithStub, owner: User
) -> None:
    # Given: an import, then a feature's description and an environment's state changed
    _import(flagsmith.url, "--no-verify")
    rows = (Feature.objects.count(), FeatureState.objects.count(), Segment.objects.count())
    features = json.loads(json.dumps(bodies.ROUTES["projects/11/features/"]))
    banner = next(f for f in features["results"] if f["name"] == "banner_text")
    banner["description"] = "Banner at the top"
    flagsmith.overrides["projects/11/features/"] = features
    document = json.loads(json.dumps(bodies.DOCUMENT))
    state = next(s for s in document["feature_states"] if s["feature"]["name"] == "max_items")
    state.update(enabled=True, feature_state_value=30)
    flagsmith.overrides[f"{bodies.ENV}/document/"] = document
    # When
    status, report = _import(flagsmith.url, "--no-verify")
    # Then: those two are updated where they are, nothing else is touched or added
    assert status == 0
    assert report["counts"]["feature"] == {"created": 0, "updated": 1, "unchanged": 2}
    assert report["counts"]["feature states"] == {"created": 0, "updated": 1, "unchanged": 2}
    assert report["counts"]["segment"] == {"created": 0, "updated": 0, "unchanged": 2}
    assert (Feature.objects.count(), FeatureState.objects.count(), Segment.objects.count()) == rows
    assert Feature.objects.get(name="banner_text").description == "Banner at the top"
    imported = FeatureState.objects.get(
        environment__api_key=bodies.CLIENT_KEY,
        feature__name="max_items",
        identity=None,
        feature_segment=None,
    )
    assert (imported.enabled, imported.value) == (True, 30)


def test_import__segment_vexil_refuses__skipped_with_reason_rest_imported(
    flagsmith: FlagsmithStub, owner: User
) -> None:
    # Given: a segment whose regular expression Vexil's engine refuses
    segments = json.loads(json.dumps(bodies.ROUTES["projects/11/segments/"]))
    condition = {
        "operator": "REGEX",
        "property": "email",
        "value": "(unclosed",
        "description": None,
    }
    segments["results"].append(
        {
            "id": 103,
            "uuid": "4b000000-0000-4000-8000-000000000103",
            "name": "bad_regex",
            "description": None,
            "project": 11,
            "feature": None,
            "rules": [{"id": 210, "type": "ALL", "rules": [], "conditions": [condition]}],
        }
    )
    flagsmith.overrides["projects/11/segments/"] = segments
    # When
    status, report = _import(flagsmith.url, "--no-verify")
    # Then: reported with the reason, the run fails, everything else is imported
    assert status == 1
    assert report["ok"] is False
    assert report["error"] is None
    assert [(s["kind"], s["id"], s["name"]) for s in report["skipped"]] == [
        ("segment", 103, "bad_regex")
    ]
    assert "regular expression" in report["skipped"][0]["reason"]
    assert sorted(Segment.objects.values_list("name", flat=True)) == ["half", "power_users"]
    assert report["counts"]["feature states"]["created"] == 3


def test_import__organisation_not_visible__clear_error_nothing_written(
    flagsmith: FlagsmithStub, owner: User
) -> None:
    status, report = _import(flagsmith.url, "--organisation", "8", "--no-verify")
    assert status == 1
    assert report["error"] == "No organisation 8 is visible with these credentials."
    assert not Organisation.objects.filter(name="Acme").exists()


def test_import__other_project_selected__organisation_only(
    flagsmith: FlagsmithStub, owner: User
) -> None:
    # When: the organisation is selected, but only a project it does not have
    status, report = _import(flagsmith.url, "--organisation", "7", "--project", "12", "--no-verify")
    # Then
    assert (status, report["error"]) == (0, None)
    assert Organisation.objects.filter(name="Acme").exists()
    assert not Environment.objects.filter(api_key=bodies.CLIENT_KEY).exists()
    assert set(report["counts"]) == {"organisation"}


def test_import__dry_run__reports_and_changes_nothing(
    flagsmith: FlagsmithStub, owner: User
) -> None:
    status, report = _import(flagsmith.url, "--identities", "--dry-run")
    assert status == 0
    assert report["dry_run"] is True
    assert report["counts"]["feature"]["created"] == 3
    assert report["counts"]["identity"]["created"] == 2
    assert not Organisation.objects.filter(name="Acme").exists()
    assert not Environment.objects.filter(api_key=bodies.CLIENT_KEY).exists()
    assert not ImportedObject.objects.exists()


def test_import__bad_token__clear_error_nothing_written(
    flagsmith: FlagsmithStub, owner: User
) -> None:
    status, report = _import(flagsmith.url, token="wrong")
    assert status == 1
    assert "refused the credentials (HTTP 401)" in report["error"]
    assert not Organisation.objects.filter(name="Acme").exists()


def test_import__unexpected_shape__clear_error(flagsmith: FlagsmithStub, owner: User) -> None:
    flagsmith.overrides["projects/11/features/"] = {"features": "elsewhere"}
    status, report = _import(flagsmith.url, "--no-verify")
    assert status == 1
    assert report["error"].endswith("projects/11/features/ is neither a list nor a page of one.")
    # what was whole before the bad answer stays; nothing of the project's features exists
    assert not Feature.objects.filter(project__organisation__name="Acme").exists()


def test_import__not_json__clear_error(flagsmith: FlagsmithStub, owner: User) -> None:
    flagsmith.overrides["organisations/"] = b"<html>Sign in</html>"
    status, report = _import(flagsmith.url)
    assert status == 1
    assert "did not answer JSON: is this a Flagsmith API?" in report["error"]


def test_import__answer_missing_a_nested_field__clear_error_no_traceback(
    flagsmith: FlagsmithStub, owner: User
) -> None:
    document = json.loads(json.dumps(bodies.DOCUMENT))
    document["feature_states"][0]["multivariate_feature_state_values"][0][
        "multivariate_feature_option"
    ] = {"value": "green"}
    flagsmith.overrides[f"{bodies.ENV}/document/"] = document
    status, report = _import(flagsmith.url, "--no-verify")
    assert status == 1
    assert report["error"] == (
        f"an answer from {flagsmith.url} in an unexpected shape (KeyError: 'id'); "
        "this Flagsmith version may differ"
    )


@pytest.mark.parametrize("value", ["0", "65", "many"])
def test_cli__concurrency_out_of_range__usage_error(value: str) -> None:
    with pytest.raises(CommandError, match=f"a whole number from 1 to 64, not '{value}'"):
        call_command(
            "import_flagsmith",
            "--url",
            "http://127.0.0.1:9/",
            "--token",
            "t",
            "--concurrency",
            value,
        )
