"""Readers: one export file → raw columns plus the physical line of every row.

Readers do no validation beyond the file's own structure (encoding, column
count, JSON syntax); typing and checks happen in ``kefu.ingest.validate``.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from kefu.ingest.errors import IngestError, RowError

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

    @property
    def num_rows(self) -> int:
        return len(self.lines)


def read_file(path: Path, table: str | None = None, source: str | None = None) -> RawFile:
    """Read one export; ``table`` picks the XLSX sheet named after it, when there is one."""
    from python_calamine import CalamineError

    name = source or path.name
    suffix = path.suffix.lower()
    readers = {
        ".csv": lambda: read_csv(path.read_bytes(), name),
        ".xlsx": lambda: read_xlsx(path, name, table),
        ".parquet": lambda: read_parquet(path, name),
        ".jsonl": lambda: read_jsonl(path.read_bytes(), name),
    }
    if suffix not in readers:
        raise IngestError([], f"cannot read {name}: unsupported file type {suffix!r}")
    try:
        return readers[suffix]()
    except IngestError:
        raise
    except (OSError, pa.ArrowException, ValueError, CalamineError) as exc:
        raise IngestError([], f"cannot read {name}: {exc}") from exc


# --- CSV ---------------------------------------------------------------------------------


def strip_bom(data: bytes) -> bytes:
    return data[len(codecs.BOM_UTF8):] if data.startswith(codecs.BOM_UTF8) else data


def transcode(data: bytes, source: str) -> bytes:
    """Bytes that are not UTF-8 → UTF-8: strict GB18030 (covers GBK), else a guess."""
    try:
        # GB18030 is a superset of GBK and GB2312, the usual Chinese export encodings.
        return data.decode("gb18030").encode("utf-8")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise IngestError([], f"cannot read {source}: unknown text encoding")
    return str(best).encode("utf-8")


def to_utf8(data: bytes, source: str) -> bytes:
    """Return the bytes as UTF-8: UTF-8 (BOM stripped), else strict GB18030, else a guess."""
    data = strip_bom(data)
    try:
        data.decode("utf-8")
        return data
    except UnicodeDecodeError:
        return transcode(data, source)


def is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def read_csv(data: bytes, source: str) -> RawFile:
    data = strip_bom(data)
    # The header (usually Chinese) tells the encoding cheaply; Arrow checks the rest
    # while parsing, so a big UTF-8 file is not decoded twice.
    if not is_utf8(data[: csv_header_end(data)]):
        data = transcode(data, source)
    try:
        return read_utf8_csv(data, source)
    except pa.ArrowInvalid as exc:
        if "utf8" not in str(exc).lower() and "utf-8" not in str(exc).lower():
            raise
    return read_utf8_csv(transcode(data, source), source)


def read_utf8_csv(data: bytes, source: str) -> RawFile:
    delimiter = sniff_delimiter(data)
    header, header_lines = csv_header(data, delimiter)
    if not header:
        return RawFile(source, {}, np.zeros(0, dtype=np.int64))
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
    return RawFile(source, columns, lines, 1, bad_rows)


def csv_header_end(data: bytes) -> int:
    """Byte offset just past the header record."""
    end = 0
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


def sniff_delimiter(data: bytes) -> str:
    """Comma, unless the header has tabs and no commas (tab-separated text saved as .csv)."""
    header = data[: csv_header_end(data)]
    return "\t" if b"\t" in header and b"," not in header else ","


def csv_header(data: bytes, delimiter: str = ",") -> tuple[list[str], int]:
    """The header record and how many physical lines it spans."""
    text = data[: csv_header_end(data)].decode("utf-8")
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    header = [h.strip() for h in rows[0]] if rows else []
    return header, text.count("\n") if text.endswith("\n") else text.count("\n") + 1


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


def read_xlsx(path: Path, source: str, table: str | None) -> RawFile:
    from python_calamine import load_workbook

    workbook = load_workbook(str(path))
    names = workbook.sheet_names
    sheet_name = table if table in names else names[0]
    rows = workbook.get_sheet_by_name(sheet_name).to_python(skip_empty_area=False)
    if not rows:
        return RawFile(source, {}, np.zeros(0, dtype=np.int64))
    header = [str(xlsx_cell_text(h) or "").strip() for h in rows[0]]
    data_rows: list[Sequence[object]] = []
    lines: list[int] = []
    for number, row in enumerate(rows[1:], start=2):
        if all(v is None or v == "" for v in row):
            continue
        data_rows.append(row)
        lines.append(number)
    columns: dict[str, pa.ChunkedArray] = {}
    for i, name in enumerate(header):
        if not name or name in columns:
            continue
        values = [xlsx_cell_text(r[i]) if i < len(r) else None for r in data_rows]
        columns[name] = pa.chunked_array([pa.array(values, pa.string())])
    return RawFile(source, columns, np.asarray(lines, dtype=np.int64))


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
