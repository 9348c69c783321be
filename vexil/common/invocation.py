"""How the operator ran ``vexil``, so that a command a hint prints can be pasted as it is."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path


def vexil_command() -> str:
    """``vexil`` when that name on the PATH is this program, else the path it was run by.

    ``make run`` runs ``.venv/bin/vexil``: its hints then say ``.venv/bin/vexil bootstrap ...``,
    which works from the repository root where ``make run`` was typed.
    """
    program = sys.argv[0] if sys.argv else ""
    if Path(program).name != "vexil" or "/" not in program:
        return "vexil"
    on_path = shutil.which("vexil")
    if on_path and Path(on_path).resolve() == Path(program).resolve():
        return "vexil"
    return program
