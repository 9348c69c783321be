"""``vexil dump`` / ``vexil load``: completeness, secrets, round trips, refusals, streaming."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection

from tests.portability.probe import install_answers
from vexil import cli
from vexil.api_keys.services import master_api_key_create
from vexil.audit.models import AuditLog
from vexil.audit.services import Actor
from vexil.environments.models import Environment
from vexil.environments.services import environment_api_key_create, environment_update
from vexil.features.models import Feature
from vexil.identities.models import Identity, Trait
from vexil.organisations.models import Organisation
from vexil.portability import dump as dump_module
from vexil.portability import load as load_module
from vexil.portability.dump import BLANKED, DUMPED, EXCLUDED, installation_dump
from vexil.portability.load import LoadError, installation_load
from vexil.tags.services import tag_create
from vexil.users.models import TOTPDevice, User
from vexil.webhooks.models import Webhook

ROOT = Path(__file__).resolve().parents[2]


def _dump(organisation_ids: list[int] | None = None) -> str:
    stream = io.StringIO()
    installation_dump(stream=stream, organisation_ids=organisation_ids)
    return stream.getvalue()


def _wipe() -> None:
    """Empty every dumped table, children first (as a new install is)."""
    for spec in reversed(DUMPED):
        apps.get_model(spec.label)._base_manager.all().delete()


def _seeded_install(tmp_path: Path) -> User:
    """An install with every kind of object: the demo seed plus keys, tags, webhooks, 2FA."""
    admin = User.objects.create_superuser(email="admin@example.com", password="correct horse 9")
    call_command(
        "seed_demo",
        "--features",
        "12",
        "--segments",
        "8",
        "--identities",
        "15",
        stdout=io.StringIO(),
    )
    organisation = Organisation.objects.get()
    actor = Actor(user=admin)
    legacy = Environment.objects.order_by("id").last()
    assert legacy is not None
    # One environment still hashes stored identities by their id (Flagsmith's legacy setting).
    environment_update(
        environment=legacy, actor=actor, use_identity_composite_key_for_hashing=False
    )
    tag_create(project=legacy.project, label="web", actor=actor)
    Webhook.objects.create(
        organisation=organisation, url="http://127.0.0.1:9/h", secret="hook-secret"
    )
    TOTPDevice.objects.create(user=admin, secret="TOTPSECRETBASE32XX", is_active=True)
    return admin


# --- What a dump holds --------------------------------------------------------------------------


def test_dump__every_model_of_vexil__dumped_or_excluded_with_a_reason() -> None:
    # A model added to any Vexil app must be dumped or listed in EXCLUDED with why.
    models = {
        model._meta.label_lower
        for model in apps.get_models()
        if model.__module__.startswith("vexil.") and not model._meta.abstract
    }
    dumped = {spec.label for spec in DUMPED}

    assert models - dumped - set(EXCLUDED) == set()
    assert dumped & set(EXCLUDED) == set()
    assert dumped | set(EXCLUDED) <= models
    assert all(reason.strip() for reason in EXCLUDED.values())


@pytest.mark.django_db
def test_dump__secrets__only_hashes_in_the_file(tmp_path: Path) -> None:
    # Given keys of every kind, a webhook secret and an authenticator secret
    admin = _seeded_install(tmp_path)
    actor = Actor(user=admin)
    environment = Environment.objects.order_by("id").first()
    assert environment is not None
    server_key, server_plaintext = environment_api_key_create(
        environment=environment, name="backend", actor=actor
    )
    master_key, master_plaintext = master_api_key_create(
        organisation=Organisation.objects.get(), name="ci", actor=actor
    )

    # When
    text = _dump()

    # Then no plaintext is in the dump; the hashed forms are
    for secret in (server_plaintext, master_plaintext, "hook-secret", "TOTPSECRETBASE32XX"):
        assert secret not in text
    assert server_key.digest in text
    assert master_key.hashed_key in text
    assert admin.password in text
    assert BLANKED["webhooks.webhook"] == {"secret": ""}


@pytest.mark.django_db
def test_dump__organisation__only_its_objects(tmp_path: Path) -> None:
    # Given the seeded organisation and another tenant's
    _seeded_install(tmp_path)
    other_admin = User.objects.create_user(email="other@example.com", password="correct horse 8")
    call_command(
        "seed_demo",
        "--organisation",
        "Other",
        "--features",
        "3",
        "--segments",
        "2",
        "--identities",
        "2",
        stdout=io.StringIO(),
    )
    other = Organisation.objects.get(name="Other")
    other.memberships.create(user=other_admin, role="ADMIN")
    mine = Organisation.objects.exclude(pk=other.pk).get()

    # When
    document = json.loads(_dump([mine.pk]))

    # Then
    assert document["organisations"] == [mine.pk]
    objects = document["objects"]
    organisations = [o["pk"] for o in objects if o["model"] == "organisations.organisation"]
    assert organisations == [mine.pk]
    features = {o["pk"] for o in objects if o["model"] == "features.feature"}
    assert features == set(
        Feature.objects.filter(project__organisation=mine).values_list("pk", flat=True)
    )
    users = {o["fields"]["email"] for o in objects if o["model"] == "users.user"}
    assert users == {"admin@example.com"}
    rules = sum(o["model"] == "segments.segmentrule" for o in objects)
    assert (
        rules
        == apps.get_model("segments", "SegmentRule")
        .objects.filter(id__in=dump_module._segment_rules([mine.pk]))
        .count()
    )
    assert rules > 0


# --- Round trips --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_dump_load__empty_install__same_sdk_answers_and_same_rows(tmp_path: Path) -> None:
    # Given an install with every kind of object, what it answers, and its dump
    _seeded_install(tmp_path)
    before = install_answers()
    audit_rows = AuditLog.objects.count()
    path = tmp_path / "dump.json"
    path.write_text(_dump())

    # When it is loaded into an empty install
    _wipe()
    summary = installation_load(path=path)

    # Then every environment document, /flags/ body and identity's flags are the same
    assert install_answers() == before
    assert AuditLog.objects.count() == audit_rows
    dumped = json.loads(path.read_text())["objects"]
    assert summary.total == len(dumped)
    # ... and a dump of the loaded install is the same dump, field for field
    assert json.loads(_dump())["objects"] == dumped
    # ... and new rows get ids after the loaded ones (PostgreSQL's sequences moved on)
    last = max(o["pk"] for o in dumped if o["model"] == "tags.tag")
    feature = Feature.objects.order_by("-id").first()
    assert feature is not None
    assert tag_create(project=feature.project, label="new", actor=Actor()).pk > last


@pytest.mark.django_db
def test_load__install_not_empty__refused_and_nothing_changed(
    tmp_path: Path, feature: Feature
) -> None:
    path = tmp_path / "dump.json"
    path.write_text(_dump())
    before = _dump()

    with pytest.raises(LoadError, match="This install is not empty"):
        installation_load(path=path)

    assert json.loads(_dump())["objects"] == json.loads(before)["objects"]


_HEADER = '{"format": "vexil-dump", "version": 1, "objects": ['


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            '{"format": "vexil-dump", "version": 2, "vexil_version": "9.0", "objects": []}',
            "format version 2 (written by Vexil 9.0); this Vexil reads versions up to 1",
        ),
        ('{"format": "something", "version": 1, "objects": []}', "This is not a Vexil dump"),
        ("[1, 2, 3]", "the file is not a JSON object"),
        ('{"format": "vexil-dump", "version": 1, "objects": [', "it is not valid JSON"),
        ("", "it is not valid JSON"),
        (
            _HEADER + '{"model": "users.totpdevice", "pk": 1, "fields": {}}]}',
            "'users.totpdevice' is left out of dumps",
        ),
        (
            _HEADER + '{"model": "auth.user", "pk": 1, "fields": {}}]}',
            "'auth.user' is not in a dump",
        ),
        (
            _HEADER + '{"model": "tags.tag", "pk": 1, "fields": {"nope": 1}}]}',
            "Object 0 of the dump (tags.tag)",
        ),
        (_HEADER + '{"model": "tags.tag", "fields": {}}]}', "has no pk or no fields"),
        (
            _HEADER + '{"model": "tags.tag", "pk": 1, "fields": {"project": 77, "label": "x"}}]}',
            "The dump's rows do not fit together",
        ),
    ],
)
@pytest.mark.django_db(transaction=True)
def test_load__bad_file__clear_message_and_nothing_written(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "dump.json"
    path.write_text(content)

    with pytest.raises(LoadError, match=re.escape(message)):
        installation_load(path=path)

    assert not apps.get_model("tags", "Tag").objects.exists()


@pytest.mark.django_db(transaction=True)
def test_load_command__bad_file__message_and_exit_1_without_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "dump.json"
    path.write_text('{"format": "vexil-dump", "version": 3, "objects": []}')

    status = cli.main(["load", str(path)])

    err = capsys.readouterr().err
    assert status == 1
    assert "format version 3" in err
    assert "Traceback" not in err


# --- Streaming ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_dump_and_load__many_rows__memory_stays_below_the_file_size(
    tmp_path: Path, identity: Identity, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given 2,500 long traits (a 4.5 MB dump), and chunks of 100 rows
    Trait.objects.bulk_create(
        Trait(identity=identity, trait_key=f"key-{i}", string_value="v" * 1800) for i in range(2500)
    )
    monkeypatch.setattr(dump_module, "CHUNK_SIZE", 100)
    monkeypatch.setattr(load_module, "BATCH_SIZE", 100)
    path = tmp_path / "dump.json"

    # When the dump is written to a file, then loaded into an empty install
    tracemalloc.start()
    with path.open("w") as stream:
        installation_dump(stream=stream, organisation_ids=None)
    dump_peak = tracemalloc.get_traced_memory()[1]
    _wipe()
    tracemalloc.reset_peak()
    installation_load(path=path)
    load_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()

    # Then neither held the whole file (or all its rows) in memory
    size = path.stat().st_size
    assert size > 4_000_000
    assert dump_peak < size / 2, (dump_peak, size)
    assert load_peak < size / 2, (load_peak, size)
    assert Trait.objects.count() == 2500


# --- SQLite -> dump -> load on PostgreSQL -------------------------------------------------------


def _vexil(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vexil.cli", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _answers(env: dict[str, str]) -> Any:
    result = subprocess.run(
        [sys.executable, "-m", "tests.portability.probe"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        timeout=300,
        check=True,
    )
    return json.loads(result.stdout)


@pytest.mark.django_db
def test_dump_load__sqlite_to_postgresql__same_sdk_answers(
    tmp_path: Path, scratch_postgres_url: str
) -> None:
    if connection.vendor != "sqlite":
        pytest.skip("the source is this test run's SQLite database (the SQLite run covers it)")
    # Given an embedded install (SQLite) with every kind of object, what it answers, its dump
    _seeded_install(tmp_path)
    before = install_answers()
    dump_file = tmp_path / "dump.json"
    dump_file.write_text(_dump())

    # When the dump is loaded into a new PostgreSQL database by `vexil load`
    postgres = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    postgres.update(DATABASE_URL=scratch_postgres_url, VEXIL_DATA_DIR=str(tmp_path))
    loaded = _vexil(postgres, "load", str(dump_file))

    # Then the PostgreSQL install answers the SDKs exactly as the SQLite one did
    assert loaded.returncode == 0, loaded.stderr
    assert "Loaded" in loaded.stdout
    assert _answers(postgres) == before
