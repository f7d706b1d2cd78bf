"""Writing a table: CSV streamed a page at a time; XLSX written with XlsxWriter in constant-memory mode (each row goes
to a temporary file as it is written) and then streamed from that file. Cells are data: XLSX text goes through
`write_string` (never a formula or a link), CSV text is neutralised (exports/cells.py)."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import os
import shutil
import tempfile
from collections.abc import AsyncIterator
from typing import Any

import xlsxwriter

from exports.cells import Column, csv_cell, naive_jakarta
from exports.tables import Rows

BOM = "\ufeff"  # spreadsheet programs read UTF-8 (kecamatan names, "Rp") only with it
CHUNK = 64 * 1024
RUPIAH_FORMAT = '"Rp" #,##0'
FORMATS = {
    "rupiah": RUPIAH_FORMAT,
    "share": "0.00%",
    "float": "0.0000",
    "date": "yyyy-mm-dd",
    "datetime": "yyyy-mm-dd hh:mm:ss",
    "int": "0",
}


async def csv_chunks(columns: tuple[Column, ...], lang: str, rows: Rows) -> AsyncIterator[bytes]:
    """The CSV, a page of rows per chunk: the header row first."""
    buf = io.StringIO()
    out = csv.writer(buf, lineterminator="\r\n")
    buf.write(BOM)
    out.writerow([c.header(lang) for c in columns])  # headers are ours: no leading formula character
    yield buf.getvalue().encode("utf-8")
    async for page in rows:
        buf.seek(0)
        buf.truncate()
        out.writerows([csv_cell(v, c.kind) for v, c in zip(row, columns, strict=True)] for row in page)
        yield buf.getvalue().encode("utf-8")


class XlsxSheet:
    """One worksheet written row by row (constant memory): rupiah with a rupiah number format, instants as Asia/Jakarta
    wall times, text always as strings."""

    def __init__(self, path: str, title: str, columns: tuple[Column, ...], lang: str) -> None:
        self.book = xlsxwriter.Workbook(
            path,
            {
                "constant_memory": True,
                "strings_to_formulas": False,
                "strings_to_urls": False,
                "strings_to_numbers": False,
                "tmpdir": os.path.dirname(path),
            },
        )
        self.sheet = self.book.add_worksheet(title[:31])
        self.columns = columns
        bold = self.book.add_format({"bold": True})
        self.formats = {kind: self.book.add_format({"num_format": f}) for kind, f in FORMATS.items()}
        for i, c in enumerate(columns):
            self.sheet.set_column(i, i, max(12, min(40, len(c.header(lang)) + 2)))
            self.sheet.write_string(0, i, c.header(lang), bold)
        self.sheet.freeze_panes(1, 0)
        self.row = 1

    def write(self, page: list[list[Any]]) -> None:
        sheet = self.sheet
        for values in page:
            r = self.row
            for i, (v, c) in enumerate(zip(values, self.columns, strict=True)):
                if v is None:
                    continue
                kind = c.kind
                if kind == "text":
                    sheet.write_string(r, i, str(v))
                elif kind == "bool":
                    sheet.write_boolean(r, i, bool(v))
                elif kind == "datetime":
                    sheet.write_datetime(r, i, naive_jakarta(v), self.formats[kind])
                elif kind == "date":
                    sheet.write_datetime(r, i, dt.datetime.combine(v, dt.time()), self.formats[kind])
                else:
                    sheet.write_number(r, i, v, self.formats[kind])
            self.row += 1

    def close(self) -> None:
        self.book.close()


async def xlsx_file(title: str, columns: tuple[Column, ...], lang: str, rows: Rows) -> str:
    """Writes the workbook to a temporary file and returns its path (the caller streams and removes it). The sheet is
    written in a thread, a page at a time, so the server keeps answering meanwhile."""
    folder = tempfile.mkdtemp(prefix="pasar-export-")
    path = os.path.join(folder, "export.xlsx")
    try:
        sheet = await asyncio.to_thread(XlsxSheet, path, title, columns, lang)
        async for page in rows:
            await asyncio.to_thread(sheet.write, page)
        await asyncio.to_thread(sheet.close)
    except BaseException:
        remove(path)
        raise
    return path


def remove(path: str) -> None:
    """The temporary workbook and its folder (XlsxWriter's own row files are gone once it closed)."""
    shutil.rmtree(os.path.dirname(path), ignore_errors=True)


async def file_chunks(path: str) -> AsyncIterator[bytes]:
    """The file, a chunk at a time, removed once read (or when the client leaves)."""
    try:
        with open(path, "rb") as fh:  # noqa: ASYNC230 - a local temporary file, read a chunk at a time
            while chunk := fh.read(CHUNK):
                yield chunk
    finally:
        remove(path)
