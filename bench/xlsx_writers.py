"""Which library should write XLSX exports? XlsxWriter (constant-memory mode) against openpyxl
(write-only mode), on the same audit-shaped rows, without Django or a database.

    .venv/bin/python bench/xlsx_writers.py                  # 100,000 rows
    .venv/bin/python bench/xlsx_writers.py --rows 10000 100000

Each writer writes the rows into an anonymous temporary file, as the export does. Reported: the
CPU seconds of the write (other work on a shared machine does not inflate them), the wall-clock
seconds, the peak Python memory during a second write (tracemalloc, which slows the code it
traces), the file's size and the size of the uncompressed sheet (about what the writer keeps on
temporary disk while it writes). Markdown on stdout; figures in docs/performance.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import tracemalloc
import zipfile
from collections.abc import Callable, Iterator
from typing import IO, Any

import django
from openpyxl import Workbook

os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret")
os.environ.setdefault("VEXIL_DATA_DIR", tempfile.mkdtemp(prefix="vexil-bench-xlsx-"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vexil.settings")
django.setup()

from vexil.common.exports import XLSX_OPTIONS, XLSX_SHEET_NAME, XLSXRenderer  # noqa: E402

HEADER = (
    "id",
    "created_date",
    "author",
    "master_api_key_name",
    "action",
    "related_object_type",
    "related_object_id",
    "log",
    "organisation",
    "project",
    "environment",
)


def _rows(count: int) -> Iterator[list[Any]]:
    for index in range(count):
        yield [
            index,
            "2026-12-02T22:00:00.123456+00:00",
            "bench@example.com",
            None,
            "UPDATE",
            "feature_state",
            str(index),
            f"Feature state of 'feature_{index % 500}' in 'Production' updated",
            1,
            1,
            1,
        ]


def _xlsxwriter(count: int) -> IO[bytes]:
    """The export's own writer (XlsxWriter with :data:`XLSX_OPTIONS`)."""
    assert XLSX_OPTIONS["constant_memory"] is True
    return XLSXRenderer().write(HEADER, _rows(count))


def _openpyxl(count: int) -> IO[bytes]:
    file = tempfile.TemporaryFile()  # noqa: SIM115 (returned open, as the export does)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(XLSX_SHEET_NAME)
    sheet.append(HEADER)
    for row in _rows(count):
        sheet.append(row)
    workbook.save(file)
    return file


WRITERS: dict[str, Callable[[int], IO[bytes]]] = {
    "XlsxWriter, constant_memory": _xlsxwriter,
    "openpyxl, write_only": _openpyxl,
}


def _measure(write: Callable[[int], IO[bytes]], count: int) -> tuple[float, float, int, int, int]:
    started, cpu_started = time.perf_counter(), time.process_time()
    with write(count) as file:
        seconds = time.perf_counter() - started
        cpu_seconds = time.process_time() - cpu_started
        size = file.seek(0, 2)
        sheet = zipfile.ZipFile(file).getinfo("xl/worksheets/sheet1.xml").file_size
    tracemalloc.start()
    write(count).close()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return seconds, cpu_seconds, peak, size, sheet


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000])
    args = parser.parse_args(argv)
    print("| rows | writer | CPU seconds | seconds | peak Python memory | file | sheet unzipped |")
    print("|---:|---|---:|---:|---:|---:|---:|")
    for count in args.rows:
        for name, write in WRITERS.items():
            seconds, cpu, peak, size, sheet = _measure(write, count)
            print(
                f"| {count:,} | {name} | {cpu:.1f} | {seconds:.1f} | {peak / 1e6:.2f} MB "
                f"| {size / 1e6:.1f} MB | {sheet / 1e6:.1f} MB |",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
