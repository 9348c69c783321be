"""The XLSX renderer (XlsxWriter, constant-memory mode): what a spreadsheet library reads back,
what it refuses, and that its temporary file does not outlive the download."""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Generator, Iterable
from typing import Any

import pytest
from openpyxl import load_workbook

from vexil.common.exports import MAX_CELL_CHARACTERS, CellTooLong, XLSXRenderer


def _read(chunks: Iterable[bytes]) -> list[tuple[Any, ...]]:
    workbook = load_workbook(io.BytesIO(b"".join(chunks)), read_only=True)
    sheet = workbook.active
    assert sheet is not None
    return [tuple(row) for row in sheet.iter_rows(values_only=True)]


def _sheet_xml(chunks: Iterable[bytes]) -> str:
    archive = zipfile.ZipFile(io.BytesIO(b"".join(chunks)))
    return archive.read("xl/worksheets/sheet1.xml").decode()


def test_stream__values__read_back_exactly() -> None:
    # Given values of every kind a row can hold
    rows: list[list[Any]] = [
        [1, -2.5, True, False, None, "", "plain"],
        [2**53, 2**53 + 1, float("inf"), "<b>&amp;</b>", "naïve ☃", "a\x00b\x1fc", "_x0041_"],
        [0.1 + 0.2, 1e300, "  padded  ", "line\nbreak", "x" * 40, -(2**53), "0042"],
    ]

    # When they are written and read back with openpyxl
    read = _read(XLSXRenderer().stream(["a", "b", "c", "d", "e", "f", "g"], rows))

    # Then each is what was written; what a spreadsheet cannot hold exactly is text
    assert read[0] == ("a", "b", "c", "d", "e", "f", "g")
    assert read[1] == (1, -2.5, True, False, None, None, "plain")
    assert read[2][:5] == (2**53, str(2**53 + 1), "inf", "<b>&amp;</b>", "naïve ☃")
    # openpyxl shows SpreadsheetML's escapes as they are stored; Excel decodes them
    assert read[2][5] == "a_x0000_b_x001F_c"
    assert read[2][6] == "_x005F_x0041_"
    # XlsxWriter keeps 16 significant digits: 0.30000000000000004 needs 17, so it is text
    assert read[3] == (
        "0.30000000000000004",
        1e300,
        "  padded  ",
        "line\nbreak",
        "x" * 40,
        -(2**53),
        "0042",
    )


def test_stream__formula_like_strings__strings_not_formulas() -> None:
    # When strings a spreadsheet would run (before the CSV rule prefixes them) are written
    values = ["=1+1", "+1", "-1", "@SUM(A1)", "https://example.com", "{=A1}"]
    xml = _sheet_xml(XLSXRenderer().stream(["h"] * len(values), [values]))

    # Then the library wrote no formula, no hyperlink, and every one is an inline string
    assert "<f>" not in xml
    assert "hyperlink" not in xml
    assert xml.count('t="inlineStr"') == 2 * len(values)


def test_stream__string_shaped_like_a_rich_run__escaped_and_read_back() -> None:
    # Given values XlsxWriter would copy into the XML unescaped, one trying to close the sheet
    sneaky = "<r></c></row></sheetData><hyperlinks/></worksheet></r>"
    values = [sneaky, "<r></r>", "<r>a\x00b</r>"]

    # When they are written
    chunks = list(XLSXRenderer().stream(["a", "b", "c"], [values]))

    # Then the sheet is intact and each reads back as written (control characters escaped once)
    assert "<hyperlinks/>" not in _sheet_xml(chunks)
    assert _read(chunks)[1] == (sneaky, "<r></r>", "<r>a_x0000_b</r>")


def test_stream__cell_longer_than_a_spreadsheet_holds__refused() -> None:
    # Given one value a character longer than a cell may hold (UTF-16 units: "☃" is one, "😀" two)
    fits = ["x" * MAX_CELL_CHARACTERS, "😀" * (MAX_CELL_CHARACTERS // 2)]
    too_long = "😀" * (MAX_CELL_CHARACTERS // 2) + "x" * 2

    # When / Then the longest values that fit are stored whole, and one more unit is refused
    assert _read(XLSXRenderer().stream(["a", "b"], [fits]))[1] == tuple(fits)
    with pytest.raises(CellTooLong) as refused:
        list(XLSXRenderer().stream(["a", "b"], [["ok", "fine"], ["ok", too_long]]))
    assert refused.value.status_code == 406
    assert "Row 3, column 2" in str(refused.value.detail)


def test_stream__read__temporary_file_closed_after_the_last_chunk() -> None:
    # Given an export of many rows, read chunk by chunk
    rows = ([index, f"row {index}", "x" * 40] for index in range(20_000))
    stream = XLSXRenderer().stream(["n", "name", "pad"], rows)
    first = next(stream)
    open_files_while_reading = _open_temporary_files()

    # When the rest is read
    chunks = [first, *stream]

    # Then it came in several chunks, the temporary file is gone, and every row is there
    assert len(chunks) > 2
    assert _open_temporary_files() == open_files_while_reading - 1
    read = _read(chunks)
    assert len(read) == 20_001
    assert read[-1] == (19_999, "row 19999", "x" * 40)


def test_stream__abandoned__temporary_file_closed() -> None:
    before = _open_temporary_files()
    stream = XLSXRenderer().stream(["n"], [[index] for index in range(100)])
    assert isinstance(stream, Generator)
    next(stream)
    assert _open_temporary_files() == before + 1

    stream.close()  # what Django does when a client goes away mid-download

    assert _open_temporary_files() == before


def _open_temporary_files() -> int:
    """Deleted-but-open files of this process: a TemporaryFile is unlinked when it is made."""
    fds = os.listdir("/proc/self/fd")
    return sum(1 for fd in fds if _target(fd).endswith("(deleted)"))


def _target(fd: str) -> str:
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return ""
