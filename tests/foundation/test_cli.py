"""The `vexil` command's own surface: usage lines, help, and hints that can be pasted."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import get_commands, load_command_class

from vexil import __version__
from vexil.cli import COMMANDS, HIDDEN_OPTIONS
from vexil.common.invocation import vexil_command

ROOT = Path(__file__).resolve().parents[2]
MANAGEMENT_COMMANDS = {name: command for name, (command, _) in COMMANDS.items() if command}


def _vexil(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vexil.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _parser(name: str) -> argparse.ArgumentParser:
    command = load_command_class(
        get_commands()[MANAGEMENT_COMMANDS[name]], MANAGEMENT_COMMANDS[name]
    )
    command.suppressed_base_arguments = set(HIDDEN_OPTIONS)
    parser: argparse.ArgumentParser = command.create_parser("vexil", name)
    return parser


@pytest.mark.parametrize("name", sorted(MANAGEMENT_COMMANDS))
def test_cli_options__every_command__every_shown_option_explained(name: str) -> None:
    parser = _parser(name)

    unexplained = [
        action.option_strings or action.dest for action in parser._actions if action.help is None
    ]

    assert unexplained == []
    assert parser.prog == f"vexil {name}"


@pytest.mark.parametrize("name", sorted(MANAGEMENT_COMMANDS))
def test_cli_help__django_boilerplate__hidden(name: str) -> None:
    text = _parser(name).format_help()
    assert [option for option in sorted(HIDDEN_OPTIONS) if option in text] == []


def test_cli_help__seed_demo__usage_names_public_command() -> None:
    result = _vexil("seed-demo", "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: vexil seed-demo ")
    assert "seed_demo" not in result.stdout


def test_cli_help__help_command__same_as_dash_dash_help() -> None:
    via_help = _vexil("help", "check")
    assert via_help.returncode == 0, via_help.stderr
    assert via_help.stdout.startswith("usage: vexil check ")
    assert "vexil_check" not in via_help.stdout
    assert via_help.stdout == _vexil("check", "--help").stdout


def test_cli_help__version__explains_instead_of_printing_version() -> None:
    result = _vexil("version", "--help")
    assert result.returncode == 0
    assert result.stdout.startswith("usage: vexil version")
    assert result.stdout.strip() != __version__
    assert _vexil("version").stdout.strip() == __version__


def test_cli_help__top_level__lists_every_command() -> None:
    result = _vexil("help")
    assert result.returncode == 0
    for name in COMMANDS:
        assert f"\n  {name} " in result.stdout


def test_vexil_command__run_as_venv_script_from_repo_root__hint_runs_from_there(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Given: `make run` runs .venv/bin/vexil from the repository root, with no vexil on PATH
    monkeypatch.chdir(ROOT)
    monkeypatch.setattr(sys, "argv", [".venv/bin/vexil", "serve"])
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    # When
    command = vexil_command()
    # Then: the hint is a path that runs the command from the repository root
    assert command == ".venv/bin/vexil"
    result = subprocess.run(
        [command, "version"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.stdout.strip() == __version__


def test_vexil_command__on_path__plain_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.setattr(sys, "argv", [str(ROOT / ".venv/bin/vexil")])
    monkeypatch.setenv("PATH", f"{ROOT / '.venv/bin'}:/usr/bin:/bin")
    assert vexil_command() == "vexil"
