"""``vexil bootstrap`` and ``vexil seed-demo``."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from vexil.environments.models import Environment, EnvironmentAPIKey
from vexil.features.models import Feature, FeatureSegment, FeatureState, FeatureType
from vexil.identities.models import Identity, Trait
from vexil.organisations.models import Organisation
from vexil.segments.models import Condition, Segment
from vexil.users.models import User

pytestmark = pytest.mark.django_db


def _run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_bootstrap__fresh__admin_org_project_environments_keys_as_json() -> None:
    out, _ = _run("bootstrap", "--email", "ada@example.com", "--json")
    result = json.loads(out)
    assert set(result) == {"user", "organisation", "project", "environments"}
    assert result["user"]["email"] == "ada@example.com"
    assert User.objects.get().check_password(result["user"]["password"])
    assert result["organisation"] == {
        "id": Organisation.objects.get().pk,
        "name": "Default organisation",
    }
    assert result["project"]["name"] == "Default project"
    assert [e["name"] for e in result["environments"]] == ["Development", "Production"]
    for item in result["environments"]:
        environment = Environment.objects.get(api_key=item["client_key"])
        assert EnvironmentAPIKey.objects.get(environment=environment).matches(item["server_key"])


def test_bootstrap__given_password_and_names__password_not_printed() -> None:
    out, _ = _run(
        "bootstrap",
        "--email",
        "ada@example.com",
        "--password",
        "a long passphrase",
        "--organisation",
        "Acme",
        "--project",
        "Shop",
        "--json",
    )
    result = json.loads(out)
    assert result["user"] == {"email": "ada@example.com"}
    assert (result["organisation"]["name"], result["project"]["name"]) == ("Acme", "Shop")


def test_bootstrap__unknown_email_on_initialised_install__refuses_naming_the_admin() -> None:
    _run("bootstrap", "--email", "ada@example.com")
    with pytest.raises(CommandError, match=r"No user has the e-mail address eve@example\.com"):
        _run("bootstrap", "--email", "eve@example.com", "--json")
    assert list(User.objects.values_list("email", flat=True)) == ["ada@example.com"]
    assert Environment.objects.count() == 2
    assert Organisation.objects.count() == 1


def test_bootstrap__admin_without_organisation__creates_workspace_and_keys() -> None:
    # Given: an administrator made by the first-run page's service or createsuperuser alone
    User.objects.create_superuser(email="ada@example.com", password="a long passphrase")
    # When
    out, _ = _run("bootstrap", "--email", "Ada@Example.com", "--json")
    # Then
    result = json.loads(out)
    assert result["user"] == {"email": "ada@example.com"}
    organisation = Organisation.objects.get(memberships__user__email="ada@example.com")
    assert result["organisation"] == {"id": organisation.pk, "name": "Default organisation"}
    assert [e["name"] for e in result["environments"]] == ["Development", "Production"]
    for item in result["environments"]:
        environment = Environment.objects.get(api_key=item["client_key"])
        assert EnvironmentAPIKey.objects.get(environment=environment).matches(item["server_key"])


def test_bootstrap__run_again__shows_same_workspace_without_new_keys() -> None:
    first = json.loads(_run("bootstrap", "--email", "ada@example.com", "--json")[0])
    # When
    out, err = _run("bootstrap", "--email", "ada@example.com", "--json")
    # Then: what exists, client keys only (a server key cannot be shown twice)
    again = json.loads(out)
    assert again["organisation"] == first["organisation"]
    assert again["project"] == first["project"]
    assert again["environments"] == [
        {"name": e["name"], "client_key": e["client_key"]} for e in first["environments"]
    ]
    assert "--new-server-keys" in err
    assert (Organisation.objects.count(), Environment.objects.count()) == (1, 2)
    assert EnvironmentAPIKey.objects.count() == 2


def test_bootstrap__new_server_keys__one_more_working_key_per_environment() -> None:
    _run("bootstrap", "--email", "ada@example.com")
    out, _ = _run("bootstrap", "--email", "ada@example.com", "--new-server-keys", "--json")
    result = json.loads(out)
    assert EnvironmentAPIKey.objects.count() == 4
    for item in result["environments"]:
        keys = EnvironmentAPIKey.objects.filter(environment__api_key=item["client_key"])
        assert [key.matches(item["server_key"]) for key in keys.order_by("id")] == [False, True]


def test_bootstrap__password_for_existing_user__refused_and_unchanged() -> None:
    User.objects.create_superuser(email="ada@example.com", password="a long passphrase")
    with pytest.raises(CommandError, match="already exists"):
        _run("bootstrap", "--email", "ada@example.com", "--password", "another passphrase")
    assert User.objects.get().check_password("a long passphrase")
    assert not Organisation.objects.exists()


def test_seed_demo__small__everything_created_deterministically() -> None:
    out, _ = _run(
        "seed_demo", "--features", "10", "--segments", "5", "--identities", "30", "--json"
    )
    result = json.loads(out)
    assert set(result) == {"organisation", "project", "environments"}
    assert result["organisation"]["name"] == "Demo"
    assert [set(e) for e in result["environments"]] == [
        {"name", "client_key", "server_key", "identities"}
    ] * 2
    assert Feature.objects.count() == 10
    assert Feature.objects.filter(type=FeatureType.MULTIVARIATE).count() == 2
    assert FeatureState.objects.filter(identity=None, feature_segment=None).count() == 20
    assert Segment.objects.count() == 5
    assert FeatureSegment.objects.count() == 2 * 10 * 3
    assert Identity.objects.count() == 60
    assert Trait.objects.count() == 600
    assert FeatureState.objects.filter(identity__isnull=False).count() == 40
    first = sorted(Condition.objects.values_list("operator", "property", "value"))
    # Deterministic: a second run builds the same definitions.
    _run(
        "seed_demo",
        "--organisation",
        "Demo 2",
        "--features",
        "10",
        "--segments",
        "5",
        "--identities",
        "30",
    )
    second_segments = Segment.objects.filter(project__organisation__name="Demo 2")
    second = sorted(
        Condition.objects.filter(rule__rule__segment__in=second_segments).values_list(
            "operator", "property", "value"
        )
    )
    assert first == second


def test_seed_demo__output__names_sample_identities_that_exist_with_those_traits() -> None:
    out, _ = _run("seed_demo", "--features", "3", "--segments", "2", "--identities", "5", "--json")
    for item in json.loads(out)["environments"]:
        samples = item["identities"]
        assert [sample["identifier"] for sample in samples] == [
            "user0@example.com",
            "user1@example.com",
            "user2@example.com",
        ]
        for sample in samples:
            identity = Identity.objects.get(
                environment__api_key=item["client_key"], identifier=sample["identifier"]
            )
            stored = {t.trait_key: t.trait_value for t in Trait.objects.filter(identity=identity)}
            assert stored == sample["traits"]


def test_seed_demo__name_taken__refuses_and_creates_nothing() -> None:
    _run("seed_demo", "--features", "2", "--segments", "1", "--identities", "1")
    counts = (Organisation.objects.count(), Feature.objects.count(), Identity.objects.count())
    with pytest.raises(CommandError, match="An organisation called 'Demo' exists already"):
        _run("seed_demo", "--features", "2", "--segments", "1", "--identities", "1")
    assert (Organisation.objects.count(), Feature.objects.count(), Identity.objects.count()) == (
        counts
    )
