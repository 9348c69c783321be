"""Engine test support: the conformance corpus location and Hypothesis profiles.

Nothing here needs Django: the engine tests run without settings.
"""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import HealthCheck, settings

REPOSITORY_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_TEST_DATA = REPOSITORY_ROOT.parent / "shared" / "engine-test-data" / "test_cases"
RUNNING_IN_CI = os.environ.get("CI") == "true"


def engine_test_data_dir() -> Path:
    """Where the Flagsmith engine-test-data cases are (third-party, never copied into the repo)."""
    override = os.environ.get("VEXIL_ENGINE_TEST_DATA")
    return Path(override) if override else DEFAULT_TEST_DATA


# `ci` is reproducible (derandomized) and thorough; `dev` is quick and random, so local runs
# keep exploring new inputs. Select with HYPOTHESIS_PROFILE=ci|dev|thorough.
_SLOW_IS_FINE = [HealthCheck.too_slow]
settings.register_profile(
    "ci", max_examples=2000, derandomize=True, deadline=None, suppress_health_check=_SLOW_IS_FINE
)
settings.register_profile(
    "dev", max_examples=300, deadline=None, suppress_health_check=_SLOW_IS_FINE
)
settings.register_profile(
    "thorough", max_examples=20000, deadline=None, suppress_health_check=_SLOW_IS_FINE
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if RUNNING_IN_CI else "dev"))
