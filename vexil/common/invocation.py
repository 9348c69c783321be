"""How to run ``vexil`` from here, so that a command a hint prints can be pasted as it is."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path


def vexil_command() -> str:
    """``vexil`` when that name on the PATH is this program, else a path to it.

    ``make run`` runs ``.venv/bin/vexil`` from the repository root, so its hints say
    ``.venv/bin/vexil bootstrap ...``: that works where ``make run`` was typed. A path inside the
    working directory is shown relative to it, any other absolute.
    """
    program = Path(sys.argv[0]) if sys.argv and Path(sys.argv[0]).name == "vexil" else None
    if program is None or not program.is_file():
        program = Path(sys.executable).parent / "vexil"  # `python -m vexil.cli` in a venv
        if not program.is_file():
            return "vexil"
    on_path = shutil.which("vexil")
    if on_path and Path(on_path).resolve() == program.resolve():
        return "vexil"
    absolute = program.absolute()
    try:
        return str(absolute.relative_to(Path.cwd()))  # has a slash: the shell runs it as a path
    except ValueError:
        return str(absolute)
