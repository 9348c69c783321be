"""A streaming writer of one-sheet XLSX files (Office Open XML SpreadsheetML), in constant memory.

Why not openpyxl's write-only workbook: it builds an XML element per cell and took ten times as
long as the CSV of the same 100,000 audit rows (docs/performance.md); a sheet of plain values
needs none of that. Here each row is one formatted string, deflated into the zip stream as it
comes, and the zip is yielded in chunks as it is written: nothing is kept but a small buffer, and
no temporary file is needed (the zip uses data descriptors, so it is written front to back).

The file has the parts a spreadsheet program needs and no more: content types, the package and
workbook relationships, the workbook, one worksheet and a minimal style sheet. Cells are numbers,
booleans or inline strings (no shared-string table, which would need every string in memory).
Values are stored exactly: an integer a spreadsheet cannot hold exactly (beyond 2**53), and a
float that is not finite, are written as text; characters XML cannot carry are written as
SpreadsheetML's ``_xHHHH_`` escapes (and a literal ``_xHHHH_`` is escaped as ``_x005F_xHHHH_``).
"""

from __future__ import annotations

import math
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

ROWS_PER_WRITE = 500
MAX_EXACT_INTEGER = 2**53
MAX_SHEET_NAME = 31

_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_OFFICE = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_RELS_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"

_CONTENT_TYPES = (
    f"{_XML}"
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    f'<Override PartName="/xl/workbook.xml" ContentType="{_OFFICE}.sheet.main+xml"/>'
    f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{_OFFICE}.worksheet+xml"/>'
    f'<Override PartName="/xl/styles.xml" ContentType="{_OFFICE}.styles+xml"/>'
    "</Types>"
)
_ROOT_RELS = (
    f'{_XML}<Relationships xmlns="{_RELS_NS}">'
    f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)
_WORKBOOK_RELS = (
    f'{_XML}<Relationships xmlns="{_RELS_NS}">'
    f'<Relationship Id="rId1" Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/>'
    f'<Relationship Id="rId2" Type="{_REL}/styles" Target="styles.xml"/>'
    "</Relationships>"
)
_WORKBOOK = (
    f'{_XML}<workbook xmlns="{_MAIN_NS}" xmlns:r="{_REL}">'
    '<sheets><sheet name="{name}" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_STYLES = (
    f'{_XML}<styleSheet xmlns="{_MAIN_NS}">'
    '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)
_SHEET_START = f'{_XML}<worksheet xmlns="{_MAIN_NS}"><sheetData>'
_SHEET_END = "</sheetData></worksheet>"

# XML 1.0 cannot carry these; SpreadsheetML writes them (and "_x" sequences) as _xHHHH_.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]|_(?=x[0-9A-Fa-f]{4}_)")
_SHEET_NAME_REFUSED = re.compile(r"[\[\]:*?/\\]")


def _escape_char(match: re.Match[str]) -> str:
    return f"_x{ord(match.group()):04X}_"


def _text(value: str) -> str:
    value = _NOT_XML.sub(_escape_char, value)
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _string_cell(value: str) -> str:
    return f'<c t="inlineStr"><is><t xml:space="preserve">{_text(value)}</t></is></c>'


def cell_xml(value: Any) -> str:
    """One ``<c>`` element (no reference: cells follow each other from column A)."""
    if value is None or value == "":
        return "<c/>"
    if isinstance(value, bool):
        return f'<c t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int):
        if abs(value) > MAX_EXACT_INTEGER:
            return _string_cell(str(value))
        return f"<c><v>{value}</v></c>"
    if isinstance(value, float):
        if not math.isfinite(value):
            return _string_cell(repr(value))
        return f"<c><v>{value!r}</v></c>"
    return _string_cell(str(value))


def _row_xml(number: int, values: Sequence[Any]) -> str:
    return f'<row r="{number}">{"".join(map(cell_xml, values))}</row>'


class _Chunks:
    """A write-only file for :class:`zipfile.ZipFile` that hands its bytes to a generator."""

    def __init__(self) -> None:
        self.pending: list[bytes] = []

    def write(self, data: bytes) -> int:
        self.pending.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass

    def take(self) -> bytes:
        data = b"".join(self.pending)
        self.pending.clear()
        return data


def sheet_name(name: str) -> str:
    cleaned = _SHEET_NAME_REFUSED.sub(" ", name).strip("' ")[:MAX_SHEET_NAME]
    return _text(cleaned or "Sheet1").replace('"', "&quot;")


def stream(header: Sequence[str], rows: Iterable[Sequence[Any]], *, name: str) -> Iterator[bytes]:
    """The XLSX file of ``header`` and ``rows``, as chunks of bytes, written as rows arrive."""
    sink = _Chunks()
    archive = zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED)
    for path, text in (
        ("[Content_Types].xml", _CONTENT_TYPES),
        ("_rels/.rels", _ROOT_RELS),
        ("xl/workbook.xml", _WORKBOOK.format(name=sheet_name(name))),
        ("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS),
        ("xl/styles.xml", _STYLES),
    ):
        archive.writestr(path, text)
    yield sink.take()
    with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
        buffer = [_SHEET_START, _row_xml(1, header)]
        for number, row in enumerate(rows, start=2):
            buffer.append(_row_xml(number, row))
            if len(buffer) >= ROWS_PER_WRITE:
                sheet.write("".join(buffer).encode())
                buffer.clear()
                yield sink.take()
        buffer.append(_SHEET_END)
        sheet.write("".join(buffer).encode())
    archive.close()
    yield sink.take()
