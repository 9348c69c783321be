"""The import contracts in pyproject.toml stay complete as the code grows."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _top_level_modules() -> set[str]:
    package = ROOT / "vexil"
    names = {p.name for p in package.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    names |= {p.stem for p in package.glob("*.py") if p.stem != "__init__"}
    return {f"vexil.{name}" for name in names}


def test_engine_contract__every_other_vexil_module__forbidden() -> None:
    # Given
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    contracts = config["tool"]["importlinter"]["contracts"]
    engine = next(c for c in contracts if c["source_modules"] == ["vexil.engine"])
    # When
    missing = _top_level_modules() - {"vexil.engine"} - set(engine["forbidden_modules"])
    # Then
    assert missing == set(), f"add {sorted(missing)} to the engine contract's forbidden_modules"
