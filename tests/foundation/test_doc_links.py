"""Every relative link and file reference in README.md and docs/ resolves in this repository.

A reader follows them on a fresh clone: a link to a missing page, an anchor that is not a
heading, or a file named in backticks that does not exist (or lives outside the repository) is
a broken first hour.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
FILE_REFERENCE = re.compile(
    r"`(\.{0,2}/?[A-Za-z0-9_][A-Za-z0-9_./-]*\.(?:md|py|sh|toml|lock|html|txt|json|cfg|yml))`"
)
FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    text = re.sub(r"[`*_]", "", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    text = FENCE.sub("", path.read_text())
    return {_slug(line.lstrip("#")) for line in text.splitlines() if line.startswith("#")}


def _repository_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return [Path(name) for name in listed]


def _broken_links(doc: Path) -> list[str]:
    broken = []
    for target in LINK.findall(FENCE.sub("", doc.read_text())):
        if re.match(r"[a-z]+:", target):  # https:, mailto: ...
            continue
        path_part, _, anchor = target.partition("#")
        destination = (doc.parent / path_part).resolve() if path_part else doc
        missing = not destination.is_relative_to(ROOT) or not destination.exists()
        if missing or (
            anchor and destination.suffix == ".md" and anchor not in _anchors(destination)
        ):
            broken.append(target)
    return broken


def _broken_file_references(doc: Path, names: set[str]) -> list[str]:
    broken = []
    for reference in FILE_REFERENCE.findall(doc.read_text()):
        if "/" not in reference:
            if reference not in names:  # a bare name: some file of the repository has it
                broken.append(reference)
            continue
        candidates = [(ROOT / reference).resolve(), (doc.parent / reference).resolve()]
        if not any(c.is_relative_to(ROOT) and c.exists() for c in candidates):
            broken.append(reference)
    return broken


def test_slug__headings__github_anchors() -> None:
    assert _slug(" Tenancy and access") == "tenancy-and-access"
    assert _slug(" The `vexil` command") == "the-vexil-command"
    assert _slug(" 2. Python (`pip install flagsmith`, tested with 6.3.0)") == (
        "2-python-pip-install-flagsmith-tested-with-630"
    )


@pytest.mark.parametrize("doc", DOCS, ids=[doc.name for doc in DOCS])
def test_docs__relative_links__resolve(doc: Path) -> None:
    assert _broken_links(doc) == []


@pytest.mark.parametrize("doc", DOCS, ids=[doc.name for doc in DOCS])
def test_docs__file_references__exist_in_repository(doc: Path) -> None:
    names = {path.name for path in _repository_files()}
    assert _broken_file_references(doc, names) == []
