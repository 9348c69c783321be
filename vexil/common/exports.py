"""CSV and XLSX renderers for exports, chosen by ``Accept`` or ``?format=csv|xlsx``.

Large exports never go through :meth:`render` (which needs the whole table in memory): a view
that sees a :class:`TabularRenderer` chosen calls :func:`streaming_export`, which reads rows from
a database iterator, so memory stays flat however many rows there are. CSV is written and sent
chunk by chunk. XLSX is written by XlsxWriter in its constant-memory mode (each row goes to a
temporary file as it is written) into a temporary file, which is then sent in chunks and deleted
when the response is closed; the whole file is written before the answer starts, so a value the
format cannot hold is refused with a JSON error instead of a truncated download.
"""

from __future__ import annotations

import csv
import io
import math
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import IO, Any
from xml.sax.saxutils import escape as xml_escape

import xlsxwriter
from django.http import FileResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from rest_framework import exceptions
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings

Row = Sequence[Any]
CSV_CHUNK_ROWS = 500
FILE_CHUNK_BYTES = 64 * 1024
MAX_EXACT_INTEGER = 2**53
MAX_CELL_CHARACTERS = 32_767  # UTF-16 code units, Excel's limit
XLSX_SHEET_NAME = "Export"
# Every string is written as a string: XlsxWriter's own guesses (formulas, URLs, numbers) are off.
XLSX_OPTIONS = {
    "constant_memory": True,
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
}
# Spreadsheet programs run cells that start with these as formulas (CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool | int | float):
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list | tuple):
        value = ", ".join(str(item) for item in value)
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def _table(data: Any) -> tuple[list[str], list[Row]]:
    """A DRF response body (an object, or a list of objects) as a header and rows."""
    if isinstance(data, Mapping) and isinstance(data.get("results"), list):
        data = data["results"]
    if isinstance(data, Mapping):
        data = [data]
    rows = [row for row in data if isinstance(row, Mapping)] if isinstance(data, list) else []
    header = list(dict.fromkeys(key for row in rows for key in row))
    return header, [[row.get(key) for key in header] for row in rows]


class TabularRenderer(BaseRenderer):
    extension = ""

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        header, rows = _table(data)
        return b"".join(self.stream(header, rows))

    def stream(self, header: Sequence[str], rows: Iterable[Row]) -> Iterator[bytes]:
        raise NotImplementedError

    def response(
        self, *, filename: str, header: Sequence[str], rows: Iterable[Row]
    ) -> HttpResponseBase:
        content_type = self.media_type
        if self.charset:
            content_type += f"; charset={self.charset}"
        response = StreamingHttpResponse(self.stream(header, rows), content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="{filename}.{self.extension}"'
        return response


class CSVRenderer(TabularRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"
    extension = "csv"

    def stream(self, header: Sequence[str], rows: Iterable[Row]) -> Iterator[bytes]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(header)
        pending = 0
        for row in rows:
            writer.writerow([_cell(value) for value in row])
            pending += 1
            if pending >= CSV_CHUNK_ROWS:
                yield buffer.getvalue().encode()
                buffer.seek(0)
                buffer.truncate()
                pending = 0
        yield buffer.getvalue().encode()


class XLSXRenderer(TabularRenderer):
    media_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    format = "xlsx"
    charset = None
    render_style = "binary"
    extension = "xlsx"

    def stream(self, header: Sequence[str], rows: Iterable[Row]) -> Iterator[bytes]:
        return _chunks(self.write(header, rows))

    def write(self, header: Sequence[str], rows: Iterable[Row]) -> IO[bytes]:
        """The workbook of ``header`` and ``rows`` in an anonymous temporary file (gone once
        closed), positioned at its start. Raises :class:`CellTooLong` before anything is sent."""
        file = tempfile.TemporaryFile()  # noqa: SIM115 (closed by the response, or here on error)
        try:
            _write_workbook(file, header, ([_cell(value) for value in row] for row in rows))
        except BaseException:
            file.close()
            raise
        file.seek(0)
        return file

    def response(
        self, *, filename: str, header: Sequence[str], rows: Iterable[Row]
    ) -> HttpResponseBase:
        return FileResponse(
            self.write(header, rows),
            as_attachment=True,
            filename=f"{filename}.{self.extension}",
            content_type=self.media_type,
        )


class CellTooLong(exceptions.APIException):
    status_code = 406
    default_code = "not_acceptable"


def _write_workbook(file: IO[bytes], header: Sequence[str], rows: Iterable[Row]) -> None:
    workbook = xlsxwriter.Workbook(file, XLSX_OPTIONS)
    try:
        sheet = workbook.add_worksheet(XLSX_SHEET_NAME)
        _write_row(sheet, 0, header)
        for number, row in enumerate(rows, start=1):
            _write_row(sheet, number, row)
    finally:
        workbook.close()


def _write_row(sheet: Any, number: int, values: Sequence[Any]) -> None:
    for column, value in enumerate(values):
        if value is None or value == "":
            continue
        if isinstance(value, bool):
            sheet.write_boolean(number, column, value)
        elif _exact_number(value):
            sheet.write_number(number, column, value)
        else:
            sheet.write_string(number, column, _xlsx_string(number, column, value))


def _exact_number(value: Any) -> bool:
    """Whether XlsxWriter writes ``value`` as a number that reads back the same: it writes 16
    significant digits, and a spreadsheet holds integers exactly only up to 2**53."""
    if isinstance(value, int):
        return abs(value) <= MAX_EXACT_INTEGER
    if isinstance(value, float):
        return math.isfinite(value) and float(f"{value:.16G}") == value
    return False


def _xlsx_string(number: int, column: int, value: Any) -> str:
    text = repr(value) if isinstance(value, float) else str(value)
    if len(text) > MAX_CELL_CHARACTERS // 2 and _utf16_units(text) > MAX_CELL_CHARACTERS:
        raise CellTooLong(
            f"Row {number + 1}, column {column + 1} holds more than the {MAX_CELL_CHARACTERS:,} "
            "characters a spreadsheet cell can hold; export as CSV (?format=csv) instead."
        )
    if text.startswith("<r>") and text.endswith("</r>"):
        # XlsxWriter copies a string shaped like this into the sheet's XML unescaped (it takes it
        # for a rich string it made): wrap the escaped text in such a run so it is read back as
        # written. Control characters are still escaped by XlsxWriter, once.
        return f'<r><t xml:space="preserve">{xml_escape(text)}</t></r>'
    return text


def _utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _chunks(file: IO[bytes]) -> Iterator[bytes]:
    with file:
        while chunk := file.read(FILE_CHUNK_BYTES):
            yield chunk


TABULAR_RENDERERS: tuple[type[TabularRenderer], ...] = (CSVRenderer, XLSXRenderer)


class ExportMixin:
    """For views that export: ``?format=csv|xlsx`` wins over the ``Accept`` header (an API client
    that always sends ``Accept: application/json`` can still download), and an error is answered
    in the house JSON shape, not as a table."""

    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
        wanted = request.query_params.get(api_settings.URL_FORMAT_OVERRIDE or "format")
        for renderer in self.get_renderers():  # type: ignore[attr-defined]
            if isinstance(renderer, TabularRenderer) and renderer.format == wanted:
                return renderer, renderer.media_type
        return super().perform_content_negotiation(request, force)  # type: ignore[misc]

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        if (
            isinstance(response, Response)
            and response.status_code >= 400
            and tabular_renderer(request) is not None
        ):
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]


def tabular_renderer(request: Request) -> TabularRenderer | None:
    renderer = getattr(request, "accepted_renderer", None)
    return renderer if isinstance(renderer, TabularRenderer) else None


def streaming_export(
    renderer: TabularRenderer, *, filename: str, header: Sequence[str], rows: Iterable[Row]
) -> HttpResponseBase:
    """A download of ``rows`` (an iterator over the database, not a list), sent in chunks."""
    return renderer.response(filename=filename, header=header, rows=rows)
