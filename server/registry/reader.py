"""Registry files (CSV or XLSX) read into tables of rows keyed by field; no database."""

import csv
import io
import warnings
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import openpyxl
from flask_babel import gettext as _

from .columns import REQUIRED, accepted_headers, detect_kind, field_of

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the old binary .xls format
# Excel in China often saves CSV in GBK; GB18030 is its superset.
CSV_ENCODINGS = ("utf-8-sig", "gb18030")

Grid = list[tuple[int, list[str]]]  # (row number as the spreadsheet shows it, cells)


@dataclass
class Row:
    """One row of data; `number` is the row a person sees in the spreadsheet."""

    number: int
    values: dict[str, str]


@dataclass
class Table:
    """One CSV file or one sheet: its kind, the header used for each field, and its rows."""

    source: str
    kind: str
    headers: dict[str, str]
    rows: list[Row]
    ignored: list[str] = field(default_factory=list)

    def where(self, row: Row) -> str:
        return f"{self.source}:{row.number}"


class ReadError(Exception):
    """A file that cannot be read; each message names the file (and sheet and row)."""

    def __init__(self, messages: list[str]):
        super().__init__("\n".join(messages))
        self.messages = messages


def read_file(path: str, name: str | None = None) -> list[Table]:
    """Read every table of one CSV or XLSX file, or raise ReadError listing its problems.

    ``name`` is what messages call the file, if not its path: the desk keeps an upload
    under a name of its own and speaks of it by the name the person's file had."""
    name = name or path
    data = _read_bytes(path, name)
    if data.startswith(ZIP_MAGIC):
        grids = _xlsx_grids(name, data)
    else:
        grids = [(name, _csv_grid(name, data))]
    grids = [(source, grid) for source, grid in grids if grid]
    if not grids:
        raise ReadError([f"{name}: " + _("the file is empty.")])
    tables, messages = [], []
    for source, grid in grids:
        try:
            tables.append(_table(source, grid))
        except ReadError as error:
            messages += error.messages
    if messages:
        raise ReadError(messages)
    return tables


def _read_bytes(path: str, name: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise ReadError([f"{name}: " + _("cannot be read: %(reason)s",
                                         reason=exc.strerror or exc)]) from None


def _csv_grid(path: str, data: bytes) -> Grid:
    """Rows of a CSV file; the extension only sharpens the message when it lies."""
    if data.startswith(OLE_MAGIC):
        raise ReadError([f"{path}: " + _("this is an old Excel .xls workbook; "
                                         "save it as .xlsx or CSV and import that.")])
    if Path(path).suffix.lower() in (".xlsx", ".xlsm"):
        raise ReadError([f"{path}: " + _("the name ends in .xlsx but the file is not an "
                                         "Excel workbook; save it again from Excel.")])
    if b"\x00" in data:
        raise ReadError([f"{path}: " + _("this is neither a CSV file nor an XLSX workbook.")])
    text = _decode(path, data)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        return _grid(reader)
    except csv.Error as exc:
        raise ReadError([f"{path}:{reader.line_num}: " + _("malformed CSV: %(reason)s",
                                                           reason=exc)]) from None


def _decode(path: str, data: bytes) -> str:
    for encoding in CSV_ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ReadError([f"{path}: " + _("the CSV file is neither UTF-8 nor GB18030 (GBK) text.")])


def _xlsx_grids(path: str, data: bytes) -> list[tuple[str, Grid]]:
    """Rows of every sheet, each named FILE:SHEET."""
    try:
        with warnings.catch_warnings():
            # openpyxl warns about features it skips (styles, validation); we read values only.
            warnings.simplefilter("ignore")
            book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            try:
                return [(f"{path}:{sheet.title}", _grid(sheet.iter_rows(min_row=1,
                                                                        values_only=True)))
                        for sheet in book.worksheets]
            finally:
                book.close()
    except Exception as exc:  # openpyxl raises many kinds for a damaged or foreign zip
        raise ReadError([f"{path}: " + _("this is not a readable XLSX workbook (%(reason)s).",
                                         reason=exc)]) from None


def _grid(rows) -> Grid:
    """Number the rows from 1 as a spreadsheet does, and drop the blank ones."""
    grid = []
    for number, raw in enumerate(rows, start=1):
        cells = [_text(value) for value in raw]
        if any(cells):
            grid.append((number, cells))
    return grid


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        # A phone number or code typed into a number cell comes back as 13800138000.0.
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value).strip()


def _table(source: str, grid: Grid) -> Table:
    """Detect the table's kind from its header row and key each row by field."""
    header_number, header = grid[0]
    kind = detect_kind(header)
    if kind is None:
        raise ReadError([f"{source}:{header_number}: " + _(
            "cannot tell whether this table lists units, sites or people. People need a "
            "username column (用户名), sites a type, latitude or longitude column (类型, 纬度, "
            "经度), units a code and a name column (编码, 名称).")])
    columns, ignored, messages = _columns(kind, header)
    for missing in (f for f in REQUIRED[kind] if f not in columns.values()):
        messages.append(_("missing column %(column)s.", column=accepted_headers(kind, missing)))
    if messages:
        raise ReadError([f"{source}:{header_number}: {m}" for m in messages])
    rows = [Row(number, {f: cells[i] if i < len(cells) else "" for i, f in columns.items()})
            for number, cells in grid[1:]]
    return Table(source, kind, {f: header[i] for i, f in columns.items()}, rows, ignored)


def _columns(kind: str, header: list[str]) -> tuple[dict[int, str], list[str], list[str]]:
    """Map column positions to fields; list unknown headers and fields given twice."""
    columns, ignored, messages = {}, [], []
    for index, text in enumerate(header):
        found = field_of(kind, text) if text else None
        if found is None:
            if text:
                ignored.append(text)
        elif found in columns.values():
            first = header[next(i for i, f in columns.items() if f == found)]
            messages.append(_("the columns %(a)s and %(b)s say the same thing; keep one.",
                              a=first, b=text))
        else:
            columns[index] = found
    return columns, ignored, messages
