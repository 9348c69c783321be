"""The Evaluate page: an identifier and typed traits in, every flag with its reason out, nothing
stored."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from vexil.audit.models import AuditLog
from vexil.audit.services import Actor
from vexil.dashboard.forms.identities import EvaluateForm, traits_text
from vexil.environments.models import Environment
from vexil.features.models import Feature
from vexil.features.services import features_bulk_create, segment_override_create
from vexil.identities.identify import TraitInput
from vexil.identities.models import Identity, Trait
from vexil.projects.models import Project
from vexil.segments.models import Segment

pytestmark = pytest.mark.django_db


def _url(project: Project, environment: Environment) -> str:
    return f"/projects/{project.pk}/environments/{environment.api_key}/evaluate/"


@pytest.fixture
def overridden(feature: Feature, segment: Segment, environment: Environment, actor: Actor) -> None:
    segment_override_create(
        feature=feature, segment=segment, environment=environment, actor=actor, value="green"
    )


def test_evaluate__traits_match_segment__value_and_reason_nothing_stored(
    overridden: None, admin_client: Client, project: Project, environment: Environment
) -> None:
    rows = AuditLog.objects.count()

    response = admin_client.get(
        _url(project, environment), {"identifier": "dora", "traits": "orders = 12\nplan = pro"}
    )

    body = response.content.decode()
    assert response.status_code == 200
    assert "<code>green</code>" in body
    assert "segment power_users" in body
    assert "Not a stored identity" in body
    assert not Identity.objects.filter(identifier="dora").exists()
    assert not Trait.objects.exists()
    assert AuditLog.objects.count() == rows


def test_evaluate__quoted_number__is_text_so_no_match(
    overridden: None, admin_client: Client, project: Project, environment: Environment
) -> None:
    # A text "12" is still compared as a number by the engine (it coerces numeric strings), so
    # a quoted value must reach it as text: the Traits used list says which type it got.
    body = admin_client.get(
        _url(project, environment), {"identifier": "dora", "traits": 'orders = "12"'}
    ).content.decode()

    assert "String" in body


def test_evaluate__bad_line__inline_error(
    admin_client: Client, project: Project, environment: Environment
) -> None:
    response = admin_client.get(
        _url(project, environment), {"identifier": "dora", "traits": "no equals sign"}
    )

    assert response.status_code == 400
    assert "Line 1: write key = value." in response.content.decode()


def test_evaluate__without_input__form_only(
    admin_client: Client, project: Project, environment: Environment
) -> None:
    response = admin_client.get(_url(project, environment))

    assert response.status_code == 200
    assert 'for="id_identifier">Identifier</label>' in response.content.decode()


def test_evaluate__without_view_identities__403(
    viewer_client: Client, project: Project, environment: Environment
) -> None:
    assert viewer_client.get(_url(project, environment)).status_code == 403


@pytest.mark.parametrize("features", [10, 100])
def test_evaluate__query_count_does_not_grow_with_features(
    admin_client: Client, project: Project, environment: Environment, actor: Actor, features: int
) -> None:
    features_bulk_create(
        project=project, specs=[{"name": f"flag_{i:03}"} for i in range(features)], actor=actor
    )
    query = {"identifier": "erin", "traits": "a = 1"}
    admin_client.get(_url(project, environment), query)

    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get(_url(project, environment), query)

    assert response.status_code == 200
    assert len(queries) == 11


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a = true", [TraitInput("a", True)]),
        ("a = 42", [TraitInput("a", 42)]),
        ("a = 1.5", [TraitInput("a", 1.5)]),
        ('a = "42"', [TraitInput("a", "42")]),
        ("a = pro plan", [TraitInput("a", "pro plan")]),
        ("a = 1\na = 2", [TraitInput("a", 2)]),
        ("a = nan", [TraitInput("a", "nan")]),
    ],
)
def test_evaluate_form__typed_literals(text: str, expected: list[TraitInput]) -> None:
    form = EvaluateForm({"identifier": "x", "traits": text})

    assert form.is_valid(), form.errors
    assert form.cleaned_data["traits"] == expected
    assert EvaluateForm({"identifier": "x", "traits": traits_text(expected)}).is_valid()
