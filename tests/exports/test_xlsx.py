"""The streaming XLSX writer: what a spreadsheet library reads back, and that it streams."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from typing import Any

from openpyxl import load_workbook

from vexil.common import xlsx


def _read(chunks: Iterator[bytes]) -> list[tuple[Any, ...]]:
    workbook = load_workbook(io.BytesIO(b"".join(chunks)), read_only=True)
    sheet = workbook.active
    assert sheet is not None
    return [tuple(row) for row in sheet.iter_rows(values_only=True)]


def test_stream__values__read_back_exactly() -> None:
    # Given values of every kind a row can hold
    rows: list[list[Any]] = [
        [1, -2.5, True, False, None, "", "plain"],
        [2**53, 2**53 + 1, float("inf"), "<b>&amp;</b>", "naïve ☃", "a\x00b\x1fc", "_x0041_"],
    ]

    # When they are written and read back with openpyxl
    read = _read(xlsx.stream(["a", "b", "c", "d", "e", "f", "g"], rows, name="Export"))

    # Then each is what was written; what a spreadsheet cannot hold exactly is text
    assert read[0] == ("a", "b", "c", "d", "e", "f", "g")
    assert read[1] == (1, -2.5, True, False, None, None, "plain")
    assert read[2][:5] == (2**53, str(2**53 + 1), "inf", "<b>&amp;</b>", "naïve ☃")
    # openpyxl shows SpreadsheetML's escapes as they are stored; Excel decodes them
    assert read[2][5] == "a_x0000_b_x001F_c"
    assert read[2][6] == "_x005F_x0041_"


def test_stream__control_characters__escaped_in_the_xml() -> None:
    chunks = b"".join(xlsx.stream(["h"], [["a\x00b", "_x0041_"]], name="Export"))
    sheet = zipfile.ZipFile(io.BytesIO(chunks)).read("xl/worksheets/sheet1.xml").decode()
    assert "a_x0000_b" in sheet
    assert "_x005F_x0041_" in sheet
    assert "\x00" not in sheet


def test_stream__many_rows__yields_before_the_rows_run_out() -> None:
    # Given a row source that records how far it has been read
    consumed = 0

    def rows() -> Iterator[list[Any]]:
        nonlocal consumed
        for index in range(20_000):
            consumed = index + 1
            yield [index, f"row {index}", "x" * 40]

    # When the stream is read chunk by chunk
    stream = xlsx.stream(["n", "name", "pad"], rows(), name="Export")
    seen_while_reading = []
    chunks = []
    for chunk in stream:
        chunks.append(chunk)
        seen_while_reading.append(consumed)

    # Then bytes came out while rows were still coming in (nothing waits for the whole table)
    assert any(0 < count < 20_000 for count in seen_while_reading if count)
    assert len([c for c in chunks if c]) > 2
    read = _read(iter(chunks))
    assert len(read) == 20_001
    assert read[-1] == (19_999, "row 19999", "x" * 40)


def test_sheet_name__refused_characters__replaced() -> None:
    assert xlsx.sheet_name("a/b:c*d?") == "a b c d"
    assert xlsx.sheet_name("") == "Sheet1"
    assert len(xlsx.sheet_name("x" * 50)) == 31
