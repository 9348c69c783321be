"""The Segments pages: list and search, the rule builder (nested groups, every operator's input,
the engine's regex check inline), editing, usage, permissions."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from vexil.audit.models import AuditLog
from vexil.audit.services import Actor
from vexil.environments.models import Environment
from vexil.features.models import Feature
from vexil.features.services import segment_override_create
from vexil.projects.models import Project
from vexil.segments.models import Segment
from vexil.segments.selectors import segment_rule_trees
from vexil.segments.services import segments_bulk_create

pytestmark = pytest.mark.django_db


def _url(project: Project, rest: str = "") -> str:
    return f"/projects/{project.pk}/segments/{rest}"


def _revision(environment: Environment) -> int:
    environment.refresh_from_db(fields=["revision"])
    return environment.revision


def _rules(segment: Segment) -> list[dict[str, Any]]:
    def strip(rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [
            {
                "type": rule["type"],
                "conditions": [
                    (c["operator"], c["property"], c["value"]) for c in rule["conditions"]
                ],
                "rules": strip(rule["rules"]),
            }
            for rule in rules
        ]

    return strip(segment_rule_trees([segment])[segment.pk])


NESTED = {
    "name": "beta testers",
    "description": "",
    "g0-type": "ALL",
    "g0_c0-property": "plan",
    "g0_c0-operator": "IN",
    "g0_c0-value": "pro,team",
    "g0_c1-property": "user_id",
    "g0_c1-operator": "MODULO",
    "g0_c1-divisor": "3",
    "g0_c1-remainder": "1",
    "g0_0-type": "ANY",
    "g0_0_c0-property": "app_version",
    "g0_0_c0-operator": "GREATER_THAN_INCLUSIVE",
    "g0_0_c0-value": "1.2.3",
    "g0_0_c0-semver": "on",
    "g0_0_c1-property": "beta",
    "g0_0_c1-operator": "IS_SET",
    "g0_0_c1-value": "ignored",
    "g0_0_0-type": "NONE",
    "g0_0_0_c0-property": "",
    "g0_0_0_c0-operator": "PERCENTAGE_SPLIT",
    "g0_0_0_c0-value": "25",
}


def test_create__nested_groups_every_input__stored_audited_revision_moves(
    admin_client: Client, project: Project, environment: Environment
) -> None:
    before = _revision(environment)

    response = admin_client.post(_url(project, "new/"), NESTED)

    segment = Segment.objects.get(name="beta testers")
    assert response.status_code == 302
    assert _rules(segment) == [
        {
            "type": "ALL",
            "conditions": [("IN", "plan", "pro,team"), ("MODULO", "user_id", "3|1")],
            "rules": [
                {
                    "type": "ANY",
                    "conditions": [
                        ("GREATER_THAN_INCLUSIVE", "app_version", "1.2.3:semver"),
                        ("IS_SET", "beta", ""),
                    ],
                    "rules": [
                        {
                            "type": "NONE",
                            "conditions": [("PERCENTAGE_SPLIT", None, "25")],
                            "rules": [],
                        }
                    ],
                }
            ],
        }
    ]
    assert AuditLog.objects.filter(resource_type="segment", resource_id=str(segment.pk)).exists()
    assert _revision(environment) > before


def test_edit__shows_the_stored_tree_and_saves_changes(
    admin_client: Client, project: Project, segment: Segment
) -> None:
    page = admin_client.get(_url(project, f"{segment.pk}/")).content.decode()

    response = admin_client.post(
        _url(project, f"{segment.pk}/"),
        {
            "name": "power_users",
            "g0-type": "ALL",
            "g0_0-type": "ANY",
            "g0_0_c0-property": "orders",
            "g0_0_c0-operator": "GREATER_THAN_INCLUSIVE",
            "g0_0_c0-value": "20",
        },
    )

    assert 'id="g0_0_c0-property" name="g0_0_c0-property" value="orders"' in page
    assert response.status_code == 302
    assert _rules(segment)[0]["rules"][0]["conditions"] == [
        ("GREATER_THAN_INCLUSIVE", "orders", "20")
    ]


def test_builder__add_group__re_rendered_nothing_saved(
    admin_client: Client, project: Project
) -> None:
    response = admin_client.post(
        _url(project, "new/"),
        {"name": "draft", "g0-type": "ALL", "builder": "add-group:0"},
    )

    body = response.content.decode()
    assert response.status_code == 200
    assert "Group 1.1" in body
    assert 'name="g0_0_c0-operator"' in body
    assert not Segment.objects.filter(name="draft").exists()


def test_builder__remove_condition__gone_from_the_form(
    admin_client: Client, project: Project
) -> None:
    response = admin_client.post(
        _url(project, "new/"),
        {
            "name": "draft",
            "g0-type": "ALL",
            "g0_c0-property": "keep",
            "g0_c0-operator": "EQUAL",
            "g0_c1-property": "drop",
            "g0_c1-operator": "EQUAL",
            "builder": "remove-condition:0_c1",
        },
    )

    body = response.content.decode()
    assert 'value="keep"' in body
    assert 'value="drop"' not in body


def test_create__bad_regex__inline_error_beside_it_nothing_saved(
    admin_client: Client, project: Project
) -> None:
    response = admin_client.post(
        _url(project, "new/"),
        {
            "name": "broken",
            "g0-type": "ALL",
            "g0_c0-property": "email",
            "g0_c0-operator": "REGEX",
            "g0_c0-value": "(unclosed",
        },
    )

    body = response.content.decode()
    assert response.status_code == 400
    assert "Invalid regular expression" in body
    assert 'value="(unclosed"' in body
    assert not Segment.objects.filter(name="broken").exists()


def test_create__percentage_out_of_range__inline_error(
    admin_client: Client, project: Project
) -> None:
    response = admin_client.post(
        _url(project, "new/"),
        {"name": "s", "g0-type": "ALL", "g0_c0-operator": "PERCENTAGE_SPLIT", "g0_c0-value": "150"},
    )

    assert response.status_code == 400
    assert "between 0 and 100" in response.content.decode()
    assert not Segment.objects.filter(name="s").exists()


def test_detail__used_by_lists_overrides(
    admin_client: Client,
    project: Project,
    environment: Environment,
    segment: Segment,
    feature: Feature,
    actor: Actor,
) -> None:
    segment_override_create(
        feature=feature, segment=segment, environment=environment, actor=actor, value="x"
    )

    body = admin_client.get(_url(project, f"{segment.pk}/")).content.decode()
    listed = admin_client.get(_url(project)).content.decode()

    assert "checkout_button</a> in Development" in body
    assert "1 override" in listed


def test_list__search(admin_client: Client, project: Project, actor: Actor) -> None:
    segments_bulk_create(project=project, specs=[{"name": "alpha"}, {"name": "beta"}], actor=actor)

    body = admin_client.get(_url(project), {"q": "alp"}).content.decode()

    assert ">alpha</a>" in body
    assert ">beta</a>" not in body


@pytest.mark.parametrize("rows", [10, 100])
def test_list__query_count_does_not_grow_with_rows(
    admin_client: Client, project: Project, actor: Actor, rows: int
) -> None:
    segments_bulk_create(
        project=project, specs=[{"name": f"segment {n:03}"} for n in range(rows)], actor=actor
    )
    admin_client.get(_url(project))

    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get(_url(project))

    assert response.status_code == 200
    assert len(queries) == 8


def test_viewer__reads_rules_without_controls_and_replayed_posts_refused(
    viewer_client: Client, project: Project, segment: Segment
) -> None:
    listed = viewer_client.get(_url(project)).content.decode()
    detail = viewer_client.get(_url(project, f"{segment.pk}/")).content.decode()
    refused = [
        viewer_client.post(_url(project, "new/"), NESTED),
        viewer_client.post(_url(project, f"{segment.pk}/"), NESTED),
        viewer_client.post(_url(project, f"{segment.pk}/delete/")),
    ]

    assert "Create segment" not in listed
    assert "<code>orders</code> is greater than or equal to <code>10</code>" in detail
    assert "Save segment" not in detail
    assert [r.status_code for r in refused] == [403, 403, 403]
    assert list(Segment.objects.values_list("name", flat=True)) == ["power_users"]


def test_delete__confirm_then_gone(
    admin_client: Client, project: Project, segment: Segment
) -> None:
    confirm = admin_client.get(_url(project, f"{segment.pk}/delete/"))
    deleted = admin_client.post(_url(project, f"{segment.pk}/delete/"))

    assert "Delete segment power_users?" in confirm.content.decode()
    assert deleted.status_code == 302
    assert not Segment.objects.exists()
