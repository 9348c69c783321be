"""Rows of the permission matrix for the management endpoints that show evaluation results."""

from __future__ import annotations

import pytest

from tests.permission_matrix.conftest import Case, World, run_case
from tests.permission_matrix.test_flags_matrix import (  # noqa: F401 (flags_world: a fixture)
    alice,
    env,
    env_editors,
    env_viewers,
    flags_world,
)

CASES = [
    Case("environment document", "GET", lambda w: f"{env(w)}/document/",
         expected=env_viewers(200)),
    Case("identity all feature states", "GET",
         lambda w: f"{env(w)}/identities/{alice(w).pk}/featurestates/all/",
         expected=env_editors(200)),
]  # fmt: skip


@pytest.mark.usefixtures("flags_world")  # the world, with the flags rows' features and identity
@pytest.mark.parametrize("case", CASES, ids=str)
def test_evaluation_endpoints__each_principal__expected_status(world: World, case: Case) -> None:
    run_case(world, case)
