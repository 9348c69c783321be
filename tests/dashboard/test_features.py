from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from vexil.audit.models import AuditLog
from vexil.audit.services import Actor
from vexil.environments.models import Environment
from vexil.environments.services import environment_create
from vexil.features.models import Feature, FeatureSegment, FeatureState, MultivariateFeatureOption
from vexil.features.services import (
    OptionSpec,
    feature_state_update,
    features_bulk_create,
    mv_option_create,
)
from vexil.projects.models import Project
from vexil.segments.models import Segment
from vexil.segments.services import segment_create
from vexil.users.models import User

pytestmark = pytest.mark.django_db


def _url(project: Project, environment: Environment, rest: str = "") -> str:
    return f"/projects/{project.pk}/environments/{environment.api_key}/features/{rest}"


def _state(feature: Feature, environment: Environment) -> FeatureState:
    return FeatureState.objects.get(
        feature=feature, environment=environment, identity=None, feature_segment=None
    )


def _version(feature: Feature, environment: Environment) -> str:
    """The state's ``updated_at`` as the features list carries it."""
    return _state(feature, environment).updated_at.isoformat()


def test_list__empty__sdk_snippet_with_client_key(
    admin_client: Client, project: Project, environment: Environment
) -> None:
    body = admin_client.get(_url(project, environment)).content.decode()

    assert "No features yet" in body
    assert f'environment_key="{environment.api_key}"' in body
    assert "Create feature" in body


def test_list__row_has_switch_named_after_the_feature(
    admin_client: Client, project: Project, environment: Environment, feature: Feature
) -> None:
    body = admin_client.get(_url(project, environment)).content.decode()

    assert 'role="switch"' in body
    assert f'aria-label="{feature.name}"' in body
    assert ">blue</code>" in body


def test_list__search_and_enabled_filter(
    admin_client: Client, project: Project, environment: Environment, actor: Actor
) -> None:
    features_bulk_create(
        project=project, specs=[{"name": "alpha_one"}, {"name": "beta_two"}], actor=actor
    )
    beta = Feature.objects.get(name="beta_two")
    FeatureState.objects.filter(feature=beta, environment=environment).update(enabled=True)

    searched = admin_client.get(_url(project, environment), {"search": "alpha"}).content.decode()
    enabled = admin_client.get(_url(project, environment), {"enabled": "on"}).content.decode()

    assert "alpha_one" in searched
    assert "beta_two" not in searched
    assert "beta_two" in enabled
    assert "alpha_one" not in enabled


def test_list__archived_hidden_unless_asked(
    admin_client: Client, project: Project, environment: Environment, feature: Feature
) -> None:
    Feature.objects.filter(pk=feature.pk).update(is_archived=True)

    default = admin_client.get(_url(project, environment)).content.decode()
    archived = admin_client.get(_url(project, environment), {"archived": "only"}).content.decode()

    assert f'aria-label="{feature.name}"' not in default
    assert f'aria-label="{feature.name}"' in archived


@pytest.mark.parametrize("rows", [10, 100])
def test_list__query_count_does_not_grow_with_rows(
    admin_client: Client, project: Project, environment: Environment, actor: Actor, rows: int
) -> None:
    features_bulk_create(
        project=project, specs=[{"name": f"flag_{i:03}"} for i in range(rows)], actor=actor
    )
    admin_client.get(_url(project, environment))  # session, caches

    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get(_url(project, environment), {"page": "2"})

    assert response.status_code == 200
    assert len(queries) == 13


def test_poll__unchanged_revision__204(
    admin_client: Client, project: Project, environment: Environment, feature: Feature
) -> None:
    environment.refresh_from_db()
    headers = {"HX-Request": "true"}

    same = admin_client.get(
        _url(project, environment), {"revision": environment.revision}, headers=headers
    )
    moved = admin_client.get(
        _url(project, environment), {"revision": environment.revision - 1}, headers=headers
    )

    assert same.status_code == 204
    assert moved.status_code == 200
    assert 'id="feature-table"' in moved.content.decode()
    assert "<html" not in moved.content.decode()


def test_toggle__switches_on_audits_and_bumps_revision(
    admin_client: Client,
    project: Project,
    environment: Environment,
    feature: Feature,
    organisation_admin: User,
) -> None:
    environment.refresh_from_db()
    revision = environment.revision

    response = admin_client.post(
        _url(project, environment, f"{feature.pk}/toggle/"),
        {"enabled": "on", "version": _version(feature, environment)},
    )

    assert response.status_code == 302
    assert _state(feature, environment).enabled is True
    environment.refresh_from_db()
    assert environment.revision > revision
    assert AuditLog.objects.filter(
        resource_type="feature_state", author=organisation_admin, environment=environment
    ).exists()


def test_toggle__htmx__returns_the_row(
    admin_client: Client, project: Project, environment: Environment, feature: Feature
) -> None:
    response = admin_client.post(
        _url(project, environment, f"{feature.pk}/toggle/"),
        {"enabled": "on", "version": _version(feature, environment)},
        headers={"HX-Request": "true"},
    )

    body = response.content.decode()
    assert body.strip().startswith("<tr")
    assert " checked" in body
    assert f'name="version" value="{_version(feature, environment)}"' in body


def test_toggle__state_changed_since_the_list_was_read__409_shows_current_nothing_saved(
    admin_client: Client,
    project: Project,
    environment: Environment,
    feature: Feature,
    actor: Actor,
) -> None:
    # Given the list as the user read it, then someone switches the feature on and sets a value
    seen = _version(feature, environment)
    feature_state_update(
        feature_state=_state(feature, environment), actor=actor, enabled=True, value="red"
    )
    audited = AuditLog.objects.count()

    # When the user switches it off from the old list (htmx), and again without JavaScript
    htmx = admin_client.post(
        _url(project, environment, f"{feature.pk}/toggle/"),
        {"version": seen},
        headers={"HX-Request": "true"},
    )
    plain = admin_client.post(
        _url(project, environment, f"{feature.pk}/toggle/"), {"version": seen}
    )

    # Then both are refused with the current state, and nothing changed
    row = htmx.content.decode()
    assert htmx.status_code == 409
    assert row.strip().startswith("<tr")
    assert " checked" in row
    assert "it is on now. Nothing was saved." in row
    assert f'name="version" value="{_version(feature, environment)}"' in row
    assert plain.status_code == 409
    assert "red" in plain.content.decode()
    state = _state(feature, environment)
    assert (state.enabled, state.value) == (True, "red")
    assert AuditLog.objects.count() == audited


def test_toggle__without_the_version_read__400_nothing_saved(
    admin_client: Client, project: Project, environment: Environment, feature: Feature
) -> None:
    response = admin_client.post(
        _url(project, environment, f"{feature.pk}/toggle/"), {"enabled": "on"}
    )

    assert response.status_code == 400
    assert _state(feature, environment).enabled is False


def test_toggle__viewer_replays_post__403_and_nothing_changes(
    viewer_client: Client, project: Project, environment: Environment, feature: Feature
) -> None:
    before = AuditLog.objects.count()

    page = viewer_client.get(_url(project, environment)).content.decode()
    response = viewer_client.post(
        _url(project, environment, f"{feature.pk}/toggle/"),
        {"enabled": "on", "version": _version(feature, environment)},
    )

    assert " disabled" in page
    assert response.status_code == 403
    assert _state(feature, environment).enabled is False
    assert AuditLog.objects.count() == before


def test_create__typed_initial_value(
    admin_client: Client, project: Project, environment: Environment
) -> None:
    response = admin_client.post(
        _url(project, environment, "new/"),
        {"name": "max_items", "value": "42", "value_type": "integer"},
    )

    feature = Feature.objects.get(name="max_items")
    assert response["Location"] == _url(project, environment, f"{feature.pk}/")
    assert _state(feature, environment).value == 42


def test_create__bad_integer__inline_error_keeps_input_creates_nothing(
    admin_client: Client, project: Project, environment: Environment
) -> None:
    response = admin_client.post(
        _url(project, environment, "new/"),
        {"name": "max_items", "value": "forty", "value_type": "integer"},
    )

    body = response.content.decode()
    assert response.status_code == 400
    assert "Enter a whole number" in body
    assert 'value="forty"' in body
    assert not Feature.objects.filter(name="max_items").exists()


def test_create__duplicate_name__field_error_from_the_service(
    admin_client: Client, project: Project, environment: Environment, feature: Feature
) -> None:
    response = admin_client.post(
        _url(project, environment, "new/"), {"name": feature.name, "value_type": "string"}
    )

    assert response.status_code == 400
    assert "already exists" in response.content.decode()


def test_create__viewer__403_nothing_created(
    viewer_client: Client, project: Project, environment: Environment
) -> None:
    response = viewer_client.post(
        _url(project, environment, "new/"), {"name": "sneaky", "value_type": "string"}
    )

    assert response.status_code == 403
    assert not Feature.objects.filter(name="sneaky").exists()


def test_state__typed_value_saved(
    admin_client: Client, project: Project, environment: Environment, feature: Feature
) -> None:
    state = _state(feature, environment)

    response = admin_client.post(
        _url(project, environment, f"{feature.pk}/state/"),
        {
            "enabled": "on",
            "value": "true",
            "value_type": "boolean",
            "version": state.updated_at.isoformat(),
        },
    )

    assert response.status_code == 302
    state.refresh_from_db()
    assert (state.enabled, state.value) == (True, True)


def test_state__stale_version__refused_with_current_value(
    admin_client: Client,
    project: Project,
    environment: Environment,
    feature: Feature,
    actor: Actor,
) -> None:
    state = _state(feature, environment)
    seen = state.updated_at.isoformat()
    feature_state_update(feature_state=state, actor=actor, value="green")

    response = admin_client.post(
        _url(project, environment, f"{feature.pk}/state/"),
        {"value": "red", "value_type": "string", "version": seen},
    )

    body = response.content.decode()
    assert response.status_code == 409
    assert "<code>green</code>" in body
    assert 'value="red"' in body
    assert _state(feature, environment).value == "green"


def test_weights__over_100__inline_error_nothing_saved(
    admin_client: Client, project: Project, environment: Environment, feature: Feature, actor: Actor
) -> None:
    a = mv_option_create(feature=feature, spec=OptionSpec("a", 0), actor=actor)
    b = mv_option_create(feature=feature, spec=OptionSpec("b", 0), actor=actor)

    response = admin_client.post(
        _url(project, environment, f"{feature.pk}/weights/"),
        {f"weight_{a.pk}": "60", f"weight_{b.pk}": "50"},
    )

    assert response.status_code == 400
    assert "Weights must total 100% or less (they total 110%)." in response.content.decode()
    state = _state(feature, environment)
    saved = sorted(v.percentage_allocation for v in state.multivariate_feature_state_values.all())
    assert saved == [0, 0]


def test_weights__saved(
    admin_client: Client, project: Project, environment: Environment, feature: Feature, actor: Actor
) -> None:
    a = mv_option_create(feature=feature, spec=OptionSpec("a", 0), actor=actor)

    admin_client.post(
        _url(project, environment, f"{feature.pk}/weights/"), {f"weight_{a.pk}": "30"}
    )

    value = _state(feature, environment).multivariate_feature_state_values.get()
    assert value.percentage_allocation == 30


def test_variation_add__makes_feature_multivariate(
    admin_client: Client, project: Project, environment: Environment, feature: Feature
) -> None:
    admin_client.post(
        _url(project, environment, f"{feature.pk}/variations/"),
        {"value": "7", "value_type": "integer", "weight": "20"},
    )

    option = MultivariateFeatureOption.objects.get(feature=feature)
    assert (option.value, option.default_percentage_allocation) == (7, 20)
    feature.refresh_from_db()
    assert feature.type == "MULTIVARIATE"


def test_segment_overrides__add_reorder_remove(
    admin_client: Client,
    project: Project,
    environment: Environment,
    feature: Feature,
    segment: Segment,
    actor: Actor,
) -> None:
    other = segment_create(project=project, name="beta_testers", rules=[], actor=actor)
    for chosen in (segment, other):
        admin_client.post(
            _url(project, environment, f"{feature.pk}/segment-overrides/"),
            {"segment": chosen.pk, "enabled": "on", "value": "x", "value_type": "string"},
        )
    second = FeatureSegment.objects.get(segment=other)

    admin_client.post(
        _url(project, environment, f"{feature.pk}/segment-overrides/{second.pk}/move/"),
        {"direction": "up"},
    )
    order = list(
        FeatureSegment.objects.filter(feature=feature)
        .order_by("priority")
        .values_list("segment__name", flat=True)
    )
    admin_client.post(
        _url(project, environment, f"{feature.pk}/segment-overrides/{second.pk}/remove/")
    )

    assert order == ["beta_testers", "power_users"]
    remaining = FeatureSegment.objects.filter(feature=feature).values_list(
        "segment__name", flat=True
    )
    assert list(remaining) == ["power_users"]


def test_settings__rename_archive_and_server_only(
    admin_client: Client, project: Project, environment: Environment, feature: Feature
) -> None:
    response = admin_client.post(
        _url(project, environment, f"{feature.pk}/settings/"),
        {
            "name": "checkout_button_v2",
            "value": "blue",
            "value_type": "string",
            "is_server_key_only": "on",
            "is_archived": "on",
        },
    )

    assert response.status_code == 302
    feature.refresh_from_db()
    assert (feature.name, feature.is_server_key_only, feature.is_archived) == (
        "checkout_button_v2",
        True,
        True,
    )


def test_delete__confirm_then_gone(
    admin_client: Client, project: Project, environment: Environment, feature: Feature
) -> None:
    confirm = admin_client.get(_url(project, environment, f"{feature.pk}/delete/"))
    response = admin_client.post(_url(project, environment, f"{feature.pk}/delete/"))

    assert "cannot be undone" in confirm.content.decode()
    assert response["Location"] == _url(project, environment)
    assert not Feature.objects.filter(pk=feature.pk).exists()


def test_all_environments__one_row_each(
    admin_client: Client, project: Project, environment: Environment, feature: Feature, actor: Actor
) -> None:
    environment_create(project=project, name="Production", actor=actor)

    body = admin_client.get(
        _url(project, environment, f"{feature.pk}/environments/")
    ).content.decode()

    assert ">Development</a>" in body
    assert ">Production</a>" in body


@pytest.mark.parametrize("page", ["", "settings/", "environments/", "delete/"])
def test_feature_pages__admin__render(
    admin_client: Client,
    project: Project,
    environment: Environment,
    feature: Feature,
    segment: Segment,
    actor: Actor,
    page: str,
) -> None:
    mv_option_create(feature=feature, spec=OptionSpec("a", 10), actor=actor)

    response = admin_client.get(_url(project, environment, f"{feature.pk}/{page}"))

    assert response.status_code == 200
    assert feature.name in response.content.decode()


def test_feature_page__viewer__no_controls(
    viewer_client: Client, project: Project, environment: Environment, feature: Feature
) -> None:
    body = viewer_client.get(_url(project, environment, f"{feature.pk}/")).content.decode()
    settings = viewer_client.get(_url(project, environment, f"{feature.pk}/settings/"))

    assert "<form" not in body.split("<main", 1)[1]
    assert "may not change" in settings.content.decode()
    assert "Delete feature" not in settings.content.decode()


def test_segment_override__variation_weights__saved_and_over_100_refused(
    admin_client: Client,
    project: Project,
    environment: Environment,
    feature: Feature,
    segment: Segment,
    actor: Actor,
) -> None:
    a = mv_option_create(feature=feature, spec=OptionSpec("a", 0), actor=actor)
    b = mv_option_create(feature=feature, spec=OptionSpec("b", 0), actor=actor)
    url = _url(project, environment, f"{feature.pk}/segment-overrides/")
    base = {"segment": segment.pk, "value": "x", "value_type": "string"}

    refused = admin_client.post(url, {**base, f"weight_{a.pk}": "70", f"weight_{b.pk}": "40"})
    created = admin_client.post(url, {**base, f"weight_{a.pk}": "70"})

    assert refused.status_code == 400
    assert "they total 110%" in refused.content.decode()
    assert created.status_code == 302
    state = FeatureState.objects.get(feature_segment__segment=segment)
    weights = {
        v.multivariate_feature_option_id: v.percentage_allocation
        for v in state.multivariate_feature_state_values.all()
    }
    assert weights == {a.pk: 70, b.pk: 0}


def test_detail__state_and_override_forms__every_id_unique(
    admin_client: Client,
    project: Project,
    environment: Environment,
    feature: Feature,
    segment: Segment,
) -> None:
    # Given a page with the state form and the segment-override form (both have a value field)
    body = admin_client.get(_url(project, environment, f"{feature.pk}/")).content.decode()

    # Then no two elements share an id, so every label names its own input
    ids = re.findall(r'\sid="([^"]+)"', body)
    assert 'for="id_override_value"' in body
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})
