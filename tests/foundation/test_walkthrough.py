"""docs/management-api.md's walk-through, run as written against a live `vexil serve`.

The shell blocks of its "Walk-through" section run in order in one bash, from the repository
root, as a reader pastes them (only the server's address differs: the test's server listens on a
free port). The first block, `make run`, is what the server here stands for.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from tests.foundation.test_serve import serving
from tests.processes import vexil_environment

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "management-api.md"


def walkthrough_blocks() -> list[str]:
    text = DOC.read_text()
    section = text[text.index("\n## Walk-through\n") :]
    section = section[: section.index("\n## ", 1)]
    return re.findall(r"^```sh\n(.*?)^```", section, re.MULTILINE | re.DOTALL)


def _run(script: str, url: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", script.replace("http://127.0.0.1:8000", url)],
        cwd=ROOT,
        env=vexil_environment(VEXIL_DATA_DIR=str(data_dir)),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_walkthrough__blocks__start_with_make_run_and_stop_on_failure() -> None:
    blocks = walkthrough_blocks()
    assert blocks[0] == "make run\n"
    assert blocks[1].startswith("set -euo pipefail\n")
    assert "VEXIL_DATA_DIR" not in "".join(blocks)  # the data directory `make run` uses


def test_walkthrough__run_as_written__every_step_succeeds(tmp_path: Path) -> None:
    script = "".join(walkthrough_blocks()[1:])
    with serving(tmp_path) as server:
        # When
        result = _run(script, server.url, tmp_path / "data")
        # Then: the last steps saw what the first ones made
        assert result.returncode == 0, result.stderr
        lines = result.stdout.splitlines()
        assert lines[-2:] == ["204", '["banner_text",false,"Hi there"]'], result.stdout
        assert "null" not in lines

        # And: run again, its first step (a new administrator with that password) is refused
        # and nothing after it runs
        again = _run(script, server.url, tmp_path / "data")
        assert again.returncode != 0
        assert "admin@example.com already exists" in again.stderr
        assert again.stdout == ""
