from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from vexil.config import ConfigurationError, Environment, persistent_secret


def test_bool__malformed__error_names_variable() -> None:
    # Given
    env = Environment({"ENABLE_GZIP_COMPRESSION": "maybe"})
    # When / Then
    with pytest.raises(ConfigurationError, match="ENABLE_GZIP_COMPRESSION must be a boolean"):
        env.boolean("ENABLE_GZIP_COMPRESSION")


@pytest.mark.parametrize(
    ("raw", "expected"), [("true", True), ("ON", True), ("0", False), ("", True)]
)
def test_bool__accepted_spellings__parsed(raw: str, expected: bool) -> None:
    assert Environment({"X": raw}).boolean("X", default=True) is expected


def test_int__below_minimum__error_names_variable() -> None:
    with pytest.raises(
        ConfigurationError, match=r"DJANGO_DB_PORT must be an integer >= 1 \(got '0'\)"
    ):
        Environment({"DJANGO_DB_PORT": "0"}).integer("DJANGO_DB_PORT", 5432, minimum=1)


def test_list__commas_and_blanks__trimmed() -> None:
    assert Environment({"H": " a.com, ,b.com "}).items("H") == ["a.com", "b.com"]


def test_choice__unknown__error_lists_choices() -> None:
    with pytest.raises(ConfigurationError, match="LOG_FORMAT must be one of generic, json"):
        Environment({"LOG_FORMAT": "xml"}).choice("LOG_FORMAT", ("generic", "json"), "generic")


def test_config_file__real_environment__wins(tmp_path: Path) -> None:
    # Given
    config = tmp_path / "vexil.env"
    config.write_text("LOG_LEVEL=debug\nENV=production\n")
    # When
    env = Environment.from_process({"VEXIL_CONFIG_FILE": str(config), "LOG_LEVEL": "warning"})
    # Then
    assert env.string("LOG_LEVEL") == "warning"
    assert env.string("ENV") == "production"


def test_config_file__missing__error_names_variable(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="VEXIL_CONFIG_FILE"):
        Environment.from_process({"VEXIL_CONFIG_FILE": str(tmp_path / "absent.env")})


def test_persistent_secret__second_call__same_value_and_private(tmp_path: Path) -> None:
    first = persistent_secret(tmp_path / "data" / "secret_key")
    second = persistent_secret(tmp_path / "data" / "secret_key")
    assert first == second
    assert len(first) >= 50
    assert (tmp_path / "data" / "secret_key").stat().st_mode & 0o077 == 0


def _vexil(args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL"))}
    return subprocess.run(
        [sys.executable, "-m", "vexil.cli", *args],
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_cli_check__malformed_value__exits_non_zero_naming_variable(tmp_path: Path) -> None:
    result = _vexil(
        ["check"], VEXIL_DATA_DIR=str(tmp_path), DJANGO_DB_HOST="db", DJANGO_DB_PORT="x"
    )
    assert result.returncode == 2
    assert "DJANGO_DB_PORT must be an integer (got 'x')" in result.stderr


def test_cli__production_without_secret_key__refuses(tmp_path: Path) -> None:
    result = _vexil(["check"], VEXIL_DATA_DIR=str(tmp_path), ENV="production")
    assert result.returncode == 2
    assert "DJANGO_SECRET_KEY must be set when ENV=production" in result.stderr


def test_cli__bad_database_url__names_variable(tmp_path: Path) -> None:
    result = _vexil(["check"], VEXIL_DATA_DIR=str(tmp_path), DATABASE_URL="mysql://x")
    assert result.returncode == 2
    assert "DATABASE_URL must be a sqlite:///PATH or postgres://" in result.stderr


def test_cli_check__embedded_default__ok_and_secret_persisted(tmp_path: Path) -> None:
    result = _vexil(["check"], VEXIL_DATA_DIR=str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "Configuration OK: database sqlite, cache in-process" in result.stdout
    assert (tmp_path / "secret_key").is_file()


def test_cli_help__every_subcommand__has_help(tmp_path: Path) -> None:
    for command in ("serve", "worker", "migrate", "bootstrap", "check", "createsuperuser"):
        result = _vexil([command, "--help"], VEXIL_DATA_DIR=str(tmp_path))
        assert result.returncode == 0, (command, result.stderr)
        assert "usage:" in result.stdout


def test_cli_version__prints_package_version() -> None:
    from vexil import __version__

    assert _vexil(["version"]).stdout.strip() == __version__


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("VEXIL_PORT", "abc", "VEXIL_PORT must be an integer from 1 to 65535 (got 'abc')"),
        ("VEXIL_PORT", "70000", "VEXIL_PORT must be an integer from 1 to 65535 (got '70000')"),
        ("VEXIL_WORKERS", "0", "VEXIL_WORKERS must be an integer >= 1 (got '0')"),
        ("VEXIL_WORKERS", "two", "VEXIL_WORKERS must be an integer (got 'two')"),
    ],
)
def test_cli_check__malformed_serve_variable__exits_2_naming_it(
    tmp_path: Path, variable: str, value: str, message: str
) -> None:
    result = _vexil(["check"], VEXIL_DATA_DIR=str(tmp_path), **{variable: value})

    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_serve__malformed_port__exits_2_naming_variable(tmp_path: Path) -> None:
    result = _vexil(["serve"], VEXIL_DATA_DIR=str(tmp_path), VEXIL_PORT="abc")

    assert result.returncode == 2
    assert "VEXIL_PORT must be an integer from 1 to 65535 (got 'abc')" in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_serve__bad_port_option__exits_2_without_traceback(tmp_path: Path) -> None:
    result = _vexil(["serve", "--port", "0"], VEXIL_DATA_DIR=str(tmp_path))

    assert result.returncode != 0
    assert "must be an integer from 1 to 65535 (got '0')" in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_bootstrap__fresh_data_directory__migrates_and_prints_keys(tmp_path: Path) -> None:
    # Given: a data directory nothing has touched (a container's first start)
    # When
    result = _vexil(
        ["bootstrap", "--email", "ops@example.com", "--json"], VEXIL_DATA_DIR=str(tmp_path / "data")
    )
    # Then
    assert result.returncode == 0, result.stderr
    output = json.loads(result.stdout)
    assert output["user"]["email"] == "ops@example.com"
    assert [e["name"] for e in output["environments"]] == ["Development", "Production"]
    assert all(e["server_key"].startswith("ser.") for e in output["environments"])
