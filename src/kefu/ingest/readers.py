"""Readers: one export file → raw columns plus the physical line of every row.

Readers do no validation beyond the file's own structure (encoding, column
count, JSON syntax); typing and checks happen in ``kefu.ingest.validate``.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import json
import math
import sys
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from kefu.ingest.encoding import check_no_nul, is_utf8, strip_bom, to_utf8, utf16_codec
from kefu.ingest.errors import IngestError, RowError
from kefu.ingest.profile import MappingProfile, column_mapping
from kefu.ingest.schema import TABLES

SUFFIXES = (".csv", ".xlsx", ".parquet", ".jsonl")


@dataclass
class RawFile:
    """Columns as found in one file (any Arrow type), before mapping and typing."""

    source: str
    """Name used in error messages (the file name, or ``<table>`` for records)."""
    columns: dict[str, pa.ChunkedArray]
    lines: np.ndarray
    """Physical line (CSV/JSONL), sheet row (XLSX) or 1-based row (Parquet) of each row."""
    header_line: int = 1
    errors: list[RowError] = field(default_factory=list)
    """Rows the reader could not split into columns (they are not in ``columns``)."""
    notes: list[str] = field(default_factory=list)
    """Warnings about the file's layout (a header found below title rows …)."""
    sheets: tuple[str, ...] = ()
    """XLSX sheets read (several when rows continue on later sheets)."""
    sheet_of_row: np.ndarray | None = None
    """Index into ``sheets`` of each row, when more than one sheet was read."""

    @property
    def num_rows(self) -> int:
        return len(self.lines)

    @property
    def is_empty_file(self) -> bool:
        """No header at all (an empty file, only a BOM, only blank lines)."""
        return not self.columns and not self.errors and self.num_rows == 0

    def sheet(self, row: int) -> str:
        """The sheet of a row, when the file was read from several sheets ('' otherwise)."""
        if self.sheet_of_row is None:
            return ""
        return self.sheets[int(self.sheet_of_row[row])]


HEADER_SEARCH_ROWS = 20
"""Title rows and notes above the header are looked for this far down."""


@dataclass(frozen=True)
class ReadOptions:
    """What a reader needs to know about the table a file holds (all optional)."""

    table: str | None = None
    profile: MappingProfile = field(default_factory=MappingProfile)

    def is_header(self, names: Sequence[str]) -> bool:
        """A row is the header when it names every required column of the table."""
        if self.table is None or self.table not in TABLES:
            return False
        found = column_mapping([n for n in names if n], self.table, self.profile)
        return all(c.name in found for c in TABLES[self.table].columns if c.required)

    def header_row(self, rows: Sequence[Sequence[str]]) -> int:
        """Index of the header among the first rows: the first naming every required
        column, else the first non-blank row (and missing columns are reported on it)."""
        for i, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
            if self.is_header(row):
                return i
        return next((i for i, row in enumerate(rows) if any(row)), 0)


def read_file(
    path: Path,
    table: str | None = None,
    source: str | None = None,
    *,
    profile: MappingProfile | None = None,
) -> RawFile:
    """Read one export; ``table`` picks the XLSX sheet named after it, when there is one,
    and lets the reader find the header below title rows."""
    from python_calamine import CalamineError

    name = source or path.name
    suffix = path.suffix.lower()
    options = ReadOptions(table, profile or MappingProfile())
    readers = {
        ".csv": lambda: read_csv(path.read_bytes(), name, options),
        ".xlsx": lambda: read_xlsx(path, name, options),
        ".parquet": lambda: read_parquet(path, name),
        ".jsonl": lambda: read_jsonl(path.read_bytes(), name),
    }
    if suffix not in readers:
        raise IngestError([], f"cannot read {name}: unsupported file type {suffix!r}")
    try:
        return readers[suffix]()
    except IngestError:
        raise
    except (OSError, pa.ArrowException, ValueError, CalamineError, zipfile.BadZipFile,
            UnicodeError, OverflowError) as exc:
        raise IngestError([], f"cannot read {name}: {exc}") from exc


# --- CSV ---------------------------------------------------------------------------------


def is_blank(data: bytes) -> bool:
    return not strip_bom(data).strip()


def read_csv(data: bytes, source: str, options: ReadOptions | None = None) -> RawFile:
    options = options or ReadOptions()
    utf16 = utf16_codec(data) is not None
    if is_blank(data) and not utf16:
        return RawFile(source, {}, np.zeros(0, dtype=np.int64))
    # The header (usually Chinese) tells the encoding cheaply; Arrow checks the rest
    # while parsing, so a big UTF-8 file is not decoded twice.
    if utf16:
        data = to_utf8(data, source)
    else:
        data = strip_bom(data)
        if not is_utf8(data[: csv_header_end(data)]):
            data = to_utf8(data, source)
        check_no_nul(data, source)
    try:
        return read_utf8_csv(data, source, options)
    except pa.ArrowInvalid:
        # Arrow met bytes that are not UTF-8 (its message may not say so): decide the
        # encoding by the whole file, which names the bad bytes or transcodes it.
        if is_utf8(data):
            raise
    return read_utf8_csv(to_utf8(data, source), source, options)


def read_utf8_csv(data: bytes, source: str, options: ReadOptions | None = None) -> RawFile:
    options = options or ReadOptions()
    delimiter = sniff_delimiter(data)
    header, header_lines, header_line = csv_header(data, delimiter, options)
    if not header:
        return RawFile(source, {}, np.zeros(0, dtype=np.int64))
    if not data[header_end_offset(data, header_lines):].strip():
        # Only a header (Arrow cannot skip the header of a file that ends with it).
        empty = pa.chunked_array([], pa.string())
        return RawFile(source, {h: empty for h in header if h}, np.zeros(0, dtype=np.int64),
                       header_line)
    # Spreadsheet CSVs often end the header with empty names (",,,"), or repeat a
    # name; such columns get private names and are not read as data.
    names = [
        h if h and h not in header[:i] else f"\x00unnamed {i}" for i, h in enumerate(header)
    ]
    found_bad_rows = False

    def on_invalid_row(row: pacsv.InvalidRow) -> str:
        nonlocal found_bad_rows
        found_bad_rows = True
        return "skip"

    with unraisable_caught() as caught:
        table = pacsv.read_csv(
            io.BytesIO(data),
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=header_lines,
                                           block_size=1 << 24),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True,
                                              invalid_row_handler=on_invalid_row),
            convert_options=pacsv.ConvertOptions(
                column_types={name: pa.string() for name in names},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    if caught:
        # A row with the wrong field count that is not UTF-8 either: the encoding decides.
        raise pa.ArrowInvalid(f"invalid UTF-8 in a row ({caught[0]})")
    bad_rows: list[RowError] = []
    if found_bad_rows:
        # pyarrow does not say where a skipped row was once values may hold newlines;
        # find the records with the wrong field count from the bytes instead.
        records = scan_records(data, header_lines, delimiter)
        bad = records.fields != len(header)
        if int((~bad).sum()) != table.num_rows:
            records = python_records(data, header_lines, delimiter)
            bad = records.fields != len(header)
        for line, text, fields in zip(
            records.lines[bad], records.texts(data, bad), records.fields[bad], strict=True
        ):
            bad_rows.append(RowError(source, int(line), "", text[:200],
                                     f"expected {len(header)} columns, found {fields}"))
        lines = records.lines[~bad]
    else:
        lines = csv_record_lines(data, table, header_lines, delimiter)
    columns = {name: table.column(name) for name in names if not name.startswith("\x00")}
    raw = RawFile(source, columns, lines, header_line, bad_rows)
    if header_line > 1:
        raw.notes.append(f"{source}: header found on line {header_line}; "
                         f"the {header_line - 1} line(s) above it were ignored")
    return raw


@contextlib.contextmanager
def unraisable_caught() -> Iterator[list[BaseException]]:
    """Arrow calls the invalid-row handler with the row's text decoded as UTF-8; when that
    fails, Python would print "Exception ignored in …" on stderr. Collect it instead."""
    caught: list[BaseException] = []
    previous = sys.unraisablehook

    def hook(info: sys.UnraisableHookArgs) -> None:
        if info.exc_value is not None:
            caught.append(info.exc_value)

    sys.unraisablehook = hook
    try:
        yield caught
    finally:
        sys.unraisablehook = previous


def csv_header_end(data: bytes, start: int = 0) -> int:
    """Byte offset just past the record that starts at ``start`` (the header by default)."""
    end = start
    in_quotes = False
    # The header rarely holds quoted newlines, but honour them so line numbers stay physical.
    while end < len(data):
        nl = data.find(b"\n", end)
        if nl < 0:
            nl = len(data)
        in_quotes ^= data.count(b'"', end, nl) % 2 == 1
        end = nl + 1
        if not in_quotes:
            break
    return min(end, len(data))


def header_end_offset(data: bytes, lines: int) -> int:
    """Byte offset just past the first ``lines`` physical lines."""
    end = 0
    for _ in range(lines):
        end = data.find(b"\n", end) + 1
        if end == 0:
            return len(data)
    return end


def sniff_delimiter(data: bytes) -> str:
    """Comma, unless the header has tabs and no commas (tab-separated text saved as .csv)."""
    header = data[: csv_header_end(data)]
    return "\t" if b"\t" in header and b"," not in header else ","


def csv_header(
    data: bytes, delimiter: str = ",", options: ReadOptions | None = None
) -> tuple[list[str], int, int]:
    """The header record, the physical lines up to its end, and its first line.

    The header is the first record naming the table's required columns (title rows
    and notes above it are skipped), else the first non-blank record.
    """
    options = options or ReadOptions()
    starts: list[int] = []
    records: list[list[str]] = []
    end = 0
    while end < len(data) and len(records) < HEADER_SEARCH_ROWS:
        stop = csv_header_end(data, end)
        starts.append(end)
        text = data[end:stop].decode("utf-8")
        try:
            row = next(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), [])
        except csv.Error:  # a stray NUL or CR: not a header; missing columns say so
            row = [text.strip()]
        records.append([h.strip() for h in row])
        end = stop
        if any(records[-1]) and (options.table is None or options.is_header(records[-1])):
            break
    if not records:
        return [], 0, 1
    index = options.header_row(records)
    stop = csv_header_end(data, starts[index])
    first_line = data.count(b"\n", 0, starts[index]) + 1
    lines = data.count(b"\n", 0, stop) + (0 if data[:stop].endswith(b"\n") else 1)
    return records[index], lines, first_line


def csv_record_lines(
    data: bytes, table: pa.Table, header_lines: int, delimiter: str = ","
) -> np.ndarray:
    """Physical first line of each record.

    When the file has exactly one line per record (no quoted newlines, no blank
    lines) this is arithmetic; otherwise the bytes are scanned.
    """
    n = table.num_rows
    lines_in_file = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
    if lines_in_file == header_lines + n:
        return header_lines + 1 + np.arange(n, dtype=np.int64)
    lines = scan_records(data, header_lines, delimiter).lines
    if len(lines) != n:
        lines = python_records(data, header_lines, delimiter).lines
    return lines


@dataclass
class Records:
    """Records of a CSV after its header: first physical line and field count of each."""

    lines: np.ndarray
    fields: np.ndarray
    starts: np.ndarray | None = None
    stops: np.ndarray | None = None
    """Byte span of each record (from the byte scan)."""
    text: list[str] | None = None
    """Text of each record (from the csv module)."""

    def texts(self, data: bytes, which: np.ndarray) -> list[str]:
        if self.text is not None:
            return [t for t, keep in zip(self.text, which, strict=True) if keep]
        assert self.starts is not None and self.stops is not None
        return [
            data[start:stop].decode("utf-8", "replace").rstrip("\r")
            for start, stop in zip(self.starts[which], self.stops[which], strict=True)
        ]


def python_records(data: bytes, header_lines: int, delimiter: str) -> Records:
    """Record lines by the csv module, for files the byte scan misreads.

    A quote inside an unquoted field (他说"好) is a literal character for Arrow and
    the csv module but upsets quote parity; this slower path follows the parser.
    """
    reader = csv.reader(io.StringIO(data.decode("utf-8"), newline=""), delimiter=delimiter)
    lines: list[int] = []
    fields: list[int] = []
    text: list[str] = []
    consumed = 0
    for row in reader:
        first = consumed + 1
        consumed = reader.line_num
        if first <= header_lines or not row:
            continue
        lines.append(first)
        fields.append(len(row))
        text.append(delimiter.join(row))
    return Records(np.asarray(lines, dtype=np.int64), np.asarray(fields, dtype=np.int64),
                   text=text)


def scan_records(data: bytes, header_lines: int, delimiter: str = ",") -> Records:
    """Each non-blank record after the header: first physical line, byte span, field count.

    A newline or delimiter separates only outside quotes; RFC 4180 escapes a quote as
    two quotes, so the parity of quotes before a byte tells whether it is quoted.
    """
    buf = np.frombuffer(data, dtype=np.uint8)
    newlines = np.flatnonzero(buf == 10)
    quotes = np.flatnonzero(buf == 34)
    ends = newlines[np.searchsorted(quotes, newlines) % 2 == 0]
    starts = np.concatenate(([0], ends + 1))
    stops = np.concatenate((ends, [len(buf)]))
    first_lines = np.searchsorted(newlines, starts) + 1
    length = stops - starts
    has_cr = np.zeros(len(starts), dtype=bool)
    nonempty = length > 0
    has_cr[nonempty] = buf[stops[nonempty] - 1] == 13
    keep = (length - has_cr > 0) & (first_lines > header_lines)
    separators = np.flatnonzero(buf == ord(delimiter))
    separators = separators[np.searchsorted(quotes, separators) % 2 == 0]
    fields = np.bincount(np.searchsorted(ends, separators), minlength=len(starts)) + 1
    return Records(first_lines[keep].astype(np.int64), fields[keep], starts[keep], stops[keep])


# --- XLSX --------------------------------------------------------------------------------


def xlsx_cell_text(value: object) -> str | None:
    """Excel cells as text: integral floats lose '.0' (ids), datetimes stay naive."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isfinite(value) and value == int(value) and abs(value) < 2**63:
            return str(int(value))
        return repr(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        # calamine hands a datetime cell at midnight back as a date.
        return f"{value.isoformat()} 00:00:00"
    return str(value)


MergedRange = tuple[tuple[int, int], tuple[int, int]]
"""A merged range as calamine gives it: 0-based (row, column) of its corners."""


@dataclass
class Sheet:
    """One sheet's rows below its header, as text."""

    name: str
    header: list[str]
    header_row: int
    """1-based sheet row of the header."""
    rows: list[list[str | None]]
    lines: list[int]


def read_xlsx(path: Path, source: str, options: ReadOptions | str | None = None) -> RawFile:
    """Every sheet holding data, in order; all must share one header (rows continued on
    later sheets). A sheet named after the table is read alone. Merged cells in the data
    are refused with their range unless the profile asks to fill them down."""
    from python_calamine import load_workbook

    if not isinstance(options, ReadOptions):
        options = ReadOptions(options)
    workbook = load_workbook(str(path))
    names = workbook.sheet_names
    wanted = [options.table] if options.table in names else names
    sheets: list[Sheet] = []
    errors: list[RowError] = []
    for name in wanted:
        sheet = workbook.get_sheet_by_name(name)
        grid = [[xlsx_cell_text(v) for v in row]
                for row in sheet.to_python(skip_empty_area=False)]
        found = sheet_rows(name, grid, options)
        if found is None:
            continue
        merged = [((r1, c1), (r2, c2)) for (r1, c1), (r2, c2) in sheet.merged_cell_ranges or []
                  if r2 >= found.header_row]  # merged titles above the header are harmless
        if merged and options.profile.fill_merged_cells:
            fill_merged(grid, merged)
            found = sheet_rows(name, grid, options) or found
        elif merged:
            errors += merged_errors(source, name, found, merged, len(wanted) > 1)
        sheets.append(found)
    if not sheets:
        return RawFile(source, {}, np.zeros(0, dtype=np.int64))
    check_same_header(source, sheets)
    raw = sheets_to_raw(source, sheets)
    raw.errors += errors
    return raw


def sheet_rows(name: str, grid: list[list[str | None]], options: ReadOptions) -> Sheet | None:
    """The header and data rows of one sheet; None for a sheet without any text."""
    texts = [[(v or "").strip() for v in row] for row in grid[:HEADER_SEARCH_ROWS]]
    if not any(any(row) for row in grid):
        return None
    index = options.header_row(texts)
    header = texts[index]
    rows: list[list[str | None]] = []
    lines: list[int] = []
    for number, row in enumerate(grid[index + 1:], start=index + 2):
        if all(v is None for v in row):
            continue
        rows.append(row)
        lines.append(number)
    return Sheet(name, header, index + 1, rows, lines)


def fill_merged(grid: list[list[str | None]], merged: list[MergedRange]) -> None:
    """Every cell of a merged range takes the value of its top-left cell (a profile asked)."""
    for (r1, c1), (r2, c2) in merged:
        value = grid[r1][c1] if r1 < len(grid) and c1 < len(grid[r1]) else None
        for r in range(r1, min(r2, len(grid) - 1) + 1):
            for c in range(c1, min(c2, len(grid[r]) - 1) + 1):
                grid[r][c] = value


def cell_name(row: int, col: int) -> str:
    """0-based (row, column) → A1 notation."""
    letters = ""
    col += 1
    while col:
        col, rest = divmod(col - 1, 26)
        letters = chr(65 + rest) + letters
    return f"{letters}{row + 1}"


def merged_errors(
    source: str, name: str, sheet: Sheet, merged: list[MergedRange],
    several: bool,
) -> list[RowError]:
    errors = []
    for (r1, c1), (r2, c2) in merged:
        column = sheet.header[c1] if c1 < len(sheet.header) else ""
        cells = f"{cell_name(r1, c1)}:{cell_name(r2, c2)}"
        errors.append(RowError(
            source, r1 + 1, column, "",
            f"merged cells {cells}: the rows below the first would be blank; unmerge and fill "
            "them (or set fill_merged_cells: true in a --profile)",
            name if several else ""))
    return errors


def check_same_header(source: str, sheets: list[Sheet]) -> None:
    first = sheets[0]
    for sheet in sheets[1:]:
        if [h for h in sheet.header if h] != [h for h in first.header if h]:
            raise IngestError([], (
                f"cannot read {source}: its sheets hold different tables: sheet "
                f"{first.name!r} has columns {', '.join(h for h in first.header if h)}; sheet "
                f"{sheet.name!r} has {', '.join(h for h in sheet.header if h)}. Keep one table "
                "per file, or name the sheet to read after the table (e.g. 'messages')"
            ))


def sheets_to_raw(source: str, sheets: list[Sheet]) -> RawFile:
    header = sheets[0].header
    columns: dict[str, pa.ChunkedArray] = {}
    for i, name in enumerate(header):
        if not name or name in columns:
            continue
        columns[name] = pa.chunked_array([
            pa.array([r[i] if i < len(r) else None for r in sheet.rows], pa.string())
            for sheet in sheets
        ], pa.string())
    lines = np.asarray([n for sheet in sheets for n in sheet.lines], dtype=np.int64)
    raw = RawFile(source, columns, lines, sheets[0].header_row)
    raw.sheets = tuple(s.name for s in sheets)
    if len(sheets) > 1:
        raw.sheet_of_row = np.repeat(np.arange(len(sheets)), [len(s.rows) for s in sheets])
        raw.notes.append(f"{source}: read {len(sheets)} sheets with the same header: "
                         + ", ".join(f"{s.name!r} ({len(s.rows)} rows)" for s in sheets))
    for sheet in sheets:
        if sheet.header_row > 1:
            raw.notes.append(f"{source}: sheet {sheet.name!r}: header found on row "
                             f"{sheet.header_row}; the rows above it were ignored")
    return raw


# --- Parquet -----------------------------------------------------------------------------


def read_parquet(path: Path, source: str) -> RawFile:
    table = pq.read_table(path)
    columns = {name.strip(): table.column(i) for i, name in enumerate(table.column_names)}
    return RawFile(source, columns, np.arange(1, table.num_rows + 1, dtype=np.int64))


# --- JSON Lines --------------------------------------------------------------------------


def json_value_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and math.isfinite(value) and value == int(value):
        return str(int(value))
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def read_jsonl(data: bytes, source: str) -> RawFile:
    text = to_utf8(data, source).decode("utf-8")
    records: list[dict[str, object]] = []
    lines: list[int] = []
    errors: list[RowError] = []
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            errors.append(RowError(source, number, "", line[:200], f"not valid JSON ({exc.msg})"))
            continue
        if not isinstance(record, dict):
            errors.append(RowError(source, number, "", line[:200], "not a JSON object"))
            continue
        records.append(record)
        lines.append(number)
    return records_to_raw(records, source, np.asarray(lines, dtype=np.int64), errors)


def records_to_raw(
    records: Sequence[Mapping[str, object]],
    source: str,
    lines: np.ndarray,
    errors: list[RowError] | None = None,
) -> RawFile:
    """Python records → text columns (the union of keys, in first-seen order)."""
    names: dict[str, None] = {}
    for record in records:
        for key in record:
            names.setdefault(str(key).strip(), None)
    columns = {
        name: pa.chunked_array(
            [pa.array([record_text(r, name) for r in records], pa.string())]
        )
        for name in names
    }
    return RawFile(source, columns, lines, 1, errors or [])


def record_text(record: Mapping[str, object], name: str) -> str | None:
    value = record.get(name)
    if value is None:
        # Keys may carry stray spaces in hand-written JSON.
        for key, candidate in record.items():
            if str(key).strip() == name:
                value = candidate
                break
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    return json_value_text(value)
