"""``vexil bootstrap`` and ``vexil seed-demo``."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command

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


def test_bootstrap__already_initialised__changes_nothing_and_says_so() -> None:
    _run("bootstrap", "--email", "ada@example.com")
    out, err = _run("bootstrap", "--email", "eve@example.com", "--json")
    assert out == ""
    assert "already initialised" in err
    assert list(User.objects.values_list("email", flat=True)) == ["ada@example.com"]
    assert Environment.objects.count() == 2
    assert Organisation.objects.count() == 1


def test_seed_demo__small__everything_created_deterministically() -> None:
    out, _ = _run(
        "seed_demo", "--features", "10", "--segments", "5", "--identities", "30", "--json"
    )
    result = json.loads(out)
    assert set(result) == {"organisation", "project", "environments"}
    assert result["organisation"]["name"] == "Demo"
    assert [set(e) for e in result["environments"]] == [{"name", "client_key", "server_key"}] * 2
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
    _run("seed_demo", "--features", "10", "--segments", "5", "--identities", "30")
    second_segments = Segment.objects.filter(project__organisation__name="Demo").order_by("id")[5:]
    second = sorted(
        Condition.objects.filter(rule__rule__segment__in=second_segments).values_list(
            "operator", "property", "value"
        )
    )
    assert first == second
