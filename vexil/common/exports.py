"""CSV and XLSX renderers for exports, chosen by ``Accept`` or ``?format=csv|xlsx``.

Large exports never go through :meth:`render` (which needs the whole table in memory): a view
that sees a :class:`TabularRenderer` chosen streams rows from a database iterator through
:func:`streaming_export` instead, so memory stays flat however many rows there are. CSV is
written chunk by chunk; XLSX by :mod:`vexil.common.xlsx`, which deflates rows into the zip as
they come and yields the file as it is written (no temporary file).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from django.http import StreamingHttpResponse
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings

from vexil.common import xlsx

Row = Sequence[Any]
CSV_CHUNK_ROWS = 500
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
        cells = ([_cell(value) for value in row] for row in rows)
        return xlsx.stream(header, cells, name="Export")


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
) -> StreamingHttpResponse:
    """A download streamed from ``rows`` (an iterator over the database, not a list)."""
    content_type = renderer.media_type
    if renderer.charset:
        content_type += f"; charset={renderer.charset}"
    response = StreamingHttpResponse(renderer.stream(header, rows), content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}.{renderer.extension}"'
    return response
