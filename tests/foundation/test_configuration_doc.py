"""docs/configuration.md cannot fall behind the code: every variable vexil/settings.py reads
through the strict reader (``env.<reader>("NAME", ...)``) must be listed there."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def variables_read_by_settings() -> set[str]:
    tree = ast.parse((ROOT / "vexil" / "settings.py").read_text())
    names = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "env"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            names.add(node.args[0].value)
    return names


def test_variables_read_by_settings__parser__finds_them_all() -> None:
    # A guard against a parser that silently finds nothing (and so checks nothing).
    names = variables_read_by_settings()
    assert {"VEXIL_DATA_DIR", "DATABASE_URL", "VEXIL_PORT", "AXES_LOCKOUT_PARAMETERS"} <= names
    assert len(names) > 40


def test_configuration_doc__every_variable_settings_reads__listed() -> None:
    doc = (ROOT / "docs" / "configuration.md").read_text()

    missing = sorted(name for name in variables_read_by_settings() if f"`{name}`" not in doc)

    assert missing == [], f"add these to docs/configuration.md: {missing}"
