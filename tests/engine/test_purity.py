"""The engine imports nothing of Django, DRF or the rest of Vexil (also an import-linter
contract); here it is proven by importing it where Django cannot be imported at all."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPOSITORY_ROOT = Path(__file__).resolve().parents[2]

_BLOCKED_IMPORT = """
import sys
for name in ("django", "rest_framework", "celery"):
    sys.modules[name] = None  # any import of them now raises ImportError
import vexil.engine
context = {"environment": {"key": "k", "name": "n"}, "features": {}, "segments": {}}
print(vexil.engine.get_evaluation_result(context))
"""


def test_engine_import__django_not_importable__works() -> None:
    # When
    result = subprocess.run(
        [sys.executable, "-c", _BLOCKED_IMPORT],
        cwd=REPOSITORY_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    # Then
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "{'flags': {}, 'segments': []}"
