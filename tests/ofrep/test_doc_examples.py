"""docs/realtime.md's examples for pointing the server-side OFREP providers at Vexil, run as
written against a live Vexil (only the base URL and the key change): the Python one with
``openfeature-provider-ofrep``, the Node one with ``@openfeature/ofrep-provider``."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.ofrep.conftest import NODE_PROJECT, Flags, LiveServer

DOC = Path(__file__).resolve().parents[2] / "docs" / "realtime.md"
SECTION = "### Pointing a provider at Vexil"
DOC_BASE_URL = "http://127.0.0.1:8000"
RUN_TIMEOUT = 60


def _blocks(language: str) -> list[str]:
    """The section's fenced blocks in ``language``, in order."""
    text = DOC.read_text()
    section = text[text.index(SECTION) :]
    section = section[: section.index("\n### ", len(SECTION))]
    return re.findall(rf"^```{language}\n(.*?)^```", section, re.MULTILINE | re.DOTALL)


def _run(command: list[str], server: LiveServer, flags: Flags, cwd: Path) -> str:
    finished = subprocess.run(
        command,
        cwd=cwd,
        env={**os.environ, "CLIENT_KEY": flags.client_key},
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        check=False,
    )
    assert finished.returncode == 0, finished.stdout + finished.stderr
    return finished.stdout.strip()


def test_doc_python_provider_example__runs_against_vexil(
    server: LiveServer, served_flags: Flags, tmp_path: Path
) -> None:
    (example,) = _blocks("python")
    assert DOC_BASE_URL in example
    script = tmp_path / "example.py"
    script.write_text(example.replace(DOC_BASE_URL, server.url))
    # alice has 12 orders: the power users' segment value
    output = _run([sys.executable, str(script)], server, served_flags, tmp_path)
    assert output == "Welcome back, power user!"


def test_doc_node_provider_example__runs_against_vexil(
    node: str, server: LiveServer, served_flags: Flags
) -> None:
    example = _blocks("js")[0]  # the Node one; the browser one is tests/ofrep/test_web_provider.py
    assert "@openfeature/ofrep-provider" in example
    assert DOC_BASE_URL in example
    script = NODE_PROJECT / "doc-example.mjs"  # beside node_modules, so the imports resolve
    script.write_text(example.replace(DOC_BASE_URL, server.url))
    try:
        output = _run([node, script.name], server, served_flags, NODE_PROJECT)
    finally:
        script.unlink()
    assert output == "10"
