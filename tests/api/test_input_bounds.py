"""Regressions for the 5xx schemathesis found: ids the database cannot hold, missing names.

Each answered 500 before; each must be a 400 in the house error shape (or, for a filter that only
narrows a list, an empty result) and change nothing.
"""

from __future__ import annotations

import pytest

from tests.permission_matrix.conftest import World, database_snapshot

HUGE = "99999999999999999999999"


@pytest.mark.parametrize(
    "query",
    [
        "environments=1.9504185627026499e-140",
        f"environments={HUGE}",
        "environments=1,-7.85e+285",
        f"project={HUGE}",
        "project=-7.1e+239",
    ],
)
def test_audit_filters__id_out_of_range_or_not_integer__400(world: World, query: str) -> None:
    response = world.clients["org_admin"].get(f"/api/v1/audit/?{query}")

    assert response.status_code == 400
    assert set(response.json()) == {"detail", "code", query.split("=")[0]}


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/environments/?project=-7.128301834493025e%2B239",
        f"/api/v1/environments/?project={HUGE}",
        "/api/v1/features/feature-segments/?environment=-5.5e%2B144",
        f"/api/v1/features/feature-segments/?feature={HUGE}",
        f"/api/v1/features/featurestates/?environment={HUGE}",
    ],
)
def test_list_filters__id_out_of_range__400(world: World, url: str) -> None:
    response = world.clients["org_admin"].get(url)

    assert response.status_code == 400


def test_features_tags_filter__id_out_of_range__empty_list(world: World) -> None:
    response = world.clients["org_admin"].get(
        f"/api/v1/projects/{world.project.pk}/features/?tags={HUGE}"
    )

    assert response.status_code == 200
    assert response.json()["results"] == []


@pytest.mark.parametrize("action", ["add-users", "remove-users"])
def test_group_users__user_id_out_of_range__400_nothing_changed(world: World, action: str) -> None:
    before = database_snapshot()
    url = f"/api/v1/organisations/{world.organisation.pk}/groups/{world.group.pk}/{action}/"

    response = world.clients["org_admin"].post(
        url, {"user_ids": [3630, 484039629359761326080]}, format="json"
    )

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert body["user_ids"] == {
        "1": ["Ensure this value is less than or equal to 9223372036854775807."]
    }
    assert database_snapshot() == before


def test_master_api_key_create__no_name__400_nothing_changed(world: World) -> None:
    before = database_snapshot()

    response = world.clients["org_admin"].post(
        f"/api/v1/organisations/{world.organisation.pk}/master-api-keys/", {}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["name"] == ["This field is required."]
    assert database_snapshot() == before


def test_feature_segment_create__ids_out_of_range__400(world: World) -> None:
    response = world.clients["org_admin"].post(
        "/api/v1/features/feature-segments/",
        {"feature": int(HUGE), "segment": 1, "environment": world.environment.pk},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["feature"] == [
        "Ensure this value is less than or equal to 9223372036854775807."
    ]
