"""Rows of the permission matrix for exports (CSV/XLSX): the same rules as the JSON they export,
and refusals in the house JSON error shape whatever format was asked for."""

from __future__ import annotations

import pytest

from tests.permission_matrix.conftest import Case, World, expect, run_case


def env_viewers(status: int) -> dict[str, int]:
    return expect(other_org_user=404, member=404, env_viewer=status, env_editor=status,
                  project_admin=status, org_admin=status, master_key=status)  # fmt: skip


def org_auditors(status: int) -> dict[str, int]:
    return expect(other_org_user=404, member=403, env_viewer=403, env_editor=403,
                  project_admin=403, org_admin=status, master_key=status)  # fmt: skip


def project_auditors(status: int) -> dict[str, int]:
    return expect(other_org_user=404, member=404, env_viewer=403, env_editor=403,
                  project_admin=status, org_admin=status, master_key=status)  # fmt: skip


CASES = [
    Case("organisation audit csv", "GET",
         lambda w: f"/api/v1/organisations/{w.organisation.pk}/audit/?format=csv",
         expected=org_auditors(200)),
    Case("organisation audit xlsx", "GET",
         lambda w: f"/api/v1/organisations/{w.organisation.pk}/audit/?format=xlsx",
         expected=org_auditors(200)),
    Case("project audit csv", "GET",
         lambda w: f"/api/v1/projects/{w.project.pk}/audit/?format=csv",
         expected=project_auditors(200)),
    Case("feature export csv", "GET",
         lambda w: f"/api/v1/environments/{w.environment.api_key}/feature-export/?format=csv",
         expected=env_viewers(200)),
    Case("feature export xlsx", "GET",
         lambda w: f"/api/v1/environments/{w.environment.api_key}/feature-export/?format=xlsx",
         expected=env_viewers(200)),
    Case("feature export json", "GET",
         lambda w: f"/api/v1/environments/{w.environment.api_key}/feature-export/",
         expected=env_viewers(200)),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=str)
def test_export_endpoints__each_principal__expected_status(world: World, case: Case) -> None:
    run_case(world, case)
