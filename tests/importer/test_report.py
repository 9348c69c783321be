"""The import's progress display (a bar on a terminal, plain lines otherwise) and its final
report in text: counts per kind, what was skipped and why, the new server-side keys."""

from __future__ import annotations

import io

from vexil.importer.report import Progress, Report


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress__not_a_terminal__plain_lines() -> None:
    # Given
    stream = io.StringIO()
    progress = Progress(stream)
    # When
    progress.update("features of Shop", 1, 2)
    progress.update("features of Shop", 2, 2)
    progress.update("identities of Live", 100)
    progress.done()
    # Then
    assert (
        stream.getvalue()
        == "features of Shop: 1/2\nfeatures of Shop: 2/2\nidentities of Live: 100\n"
    )


def test_progress__terminal__one_bar_redrawn_in_place() -> None:
    # Given
    stream = _Terminal()
    progress = Progress(stream)
    # When
    progress.update("states of Live", 3, 4)
    progress.update("states of Live", 4, 4)
    progress.done()
    # Then
    bar = "[" + "#" * 22 + "." * 8 + "] 3/4"
    assert stream.getvalue() == (
        f"\r\033[Kstates of Live: {bar}\r\033[Kstates of Live: [{'#' * 30}] 4/4\n"
    )


def test_progress__quiet__nothing_written() -> None:
    stream = _Terminal()
    progress = Progress(stream, quiet=True)
    progress.update("features of Shop", 1, 2)
    progress.done()
    assert stream.getvalue() == ""


def test_report_text__counts_skips_keys_and_mismatches__all_listed_and_not_ok() -> None:
    # Given
    report = Report(source="https://flagsmith.example.com/api/v1/", dry_run=False)
    report.count("feature", "created")
    report.count("feature", "created")
    report.count("feature", "unchanged")
    report.skip("segment", 7, "regex users", "condition 1: not a valid regular expression")
    report.server_keys.append(
        {
            "organisation": "Acme",
            "project": "Shop",
            "environment": "Live",
            "client_key": "K6xVbZ7nYq3bQeW3sA8u2d",
            "server_key": "ser.new",
        }
    )
    report.verification = {
        "environments": 1,
        "identities": 2,
        "transient": 3,
        "mismatches": 1,
        "details": ["Live flags, banner: Flagsmith enabled 'a', Vexil enabled 'b'"],
    }
    # When
    text = report.as_text()
    # Then
    assert text.splitlines() == [
        "Import from https://flagsmith.example.com/api/v1/",
        "  feature: 2 created, 1 unchanged",
        "Skipped (1):",
        "  segment 7 'regex users': condition 1: not a valid regular expression",
        "New server-side keys (shown once; Flagsmith's cannot be read back, so each replaces "
        "every server-side key of that environment):",
        "  Acme / Shop / Live (client key K6xVbZ7nYq3bQeW3sA8u2d): ser.new",
        "Verification: 1 mismatches in 1 environment flag lists, 2 imported identities and 3 "
        "transient identities",
        "  Live flags, banner: Flagsmith enabled 'a', Vexil enabled 'b'",
        "Not everything was imported as it is in Flagsmith.",
    ]
    assert report.ok is False
