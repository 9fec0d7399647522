"""Typing and per-file validation of one raw file against its canonical table.

Every check produces a mask of bad rows with a reason; all of them are collected
(never stop at the first), and a row with any error is dropped whole.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from kefu.ingest import convert
from kefu.ingest.errors import RowError
from kefu.ingest.profile import (
    BUILTIN_COLUMN_ALIASES,
    MappingProfile,
    bool_mapping,
    column_mapping,
    value_mapping,
)
from kefu.ingest.readers import RawFile
from kefu.ingest.schema import Column, Kind, Table

# Free text keeps its spaces; ids and codes are trimmed (exports pad them).
UNTRIMMED_TEXT = {"content", "comment"}

# Columns whose emptiness is checked later, against agents (see load.cross_check).
DEFAULTED_LATER = {"shop_id"}

# Extra columns carried with the typed rows until the end of loading.
FILE_COLUMN = "_file"
LINE_COLUMN = "_line"
ROW_COLUMN = "_row"

# Optional columns filled from other data by a documented rule, not by a constant.
DERIVED = {"shop_id", "name", "conversation_id"}

TIME_ORDER = {"cases": ("opened_at", "closed_at"), "sessions": ("started_at", "ended_at")}


@dataclass
class Problems:
    """Bad cells found in one file, by row index."""

    raw: RawFile
    headers: dict[str, str]
    errors: list[tuple[np.ndarray, str, str]] = field(default_factory=list)
    """(row indices, canonical column, reason)"""

    def add(self, rows: np.ndarray, column: str, reason: str) -> None:
        if len(rows):
            self.errors.append((rows, column, reason))

    def add_mask(self, bad: np.ndarray, column: str, reason: str) -> None:
        self.add(np.flatnonzero(bad), column, reason)

    def bad_rows(self, n: int) -> np.ndarray:
        bad = np.zeros(n, dtype=bool)
        for rows, _, _ in self.errors:
            bad[rows] = True
        return bad

    def row_errors(self) -> list[RowError]:
        out: list[RowError] = []
        for rows, column, reason in self.errors:
            header = self.headers.get(column)
            if header is not None and header in self.raw.columns:
                cells = convert.to_text(self.raw.columns[header]).take(pa.array(rows)).to_pylist()
            else:
                cells = [""] * len(rows)
            for row, cell in zip(rows.tolist(), cells, strict=True):
                out.append(RowError(self.raw.source, int(self.raw.lines[row]), column,
                                    "" if cell is None else str(cell), reason,
                                    self.raw.sheet(row)))
        return out


@dataclass
class TypedFile:
    """The good rows of one file, typed; plus the errors of its bad rows."""

    source: str
    table: str
    rows: pa.Table
    """Canonical columns (timestamps as naive UTC instants) + _line and _row."""
    errors: list[RowError]
    num_rows: int
    duplicates: int = 0
    """Rows dropped because an identical row with the same key came earlier in the file."""
    warnings: list[str] = field(default_factory=list)
    """Layout notes of the reader and the optional columns the file lacks."""
    sheets: tuple[str, ...] = ()
    sheet_of_row: np.ndarray | None = None
    """Sheet of each raw row (by ``_row``), when the rows came from several XLSX sheets."""

    def sheet(self, row: int) -> str:
        return "" if self.sheet_of_row is None else self.sheets[int(self.sheet_of_row[row])]


EMPTY_HINT = "pass --allow-empty {table} if the table is empty on purpose"
DID_YOU_MEAN_CUTOFF = 0.7


def type_file(
    raw: RawFile, table: Table, tz: str, profile: MappingProfile, *, allow_empty: bool = False
) -> TypedFile:
    """Type and check one raw file; ``allow_empty``: an empty or header-only file is an
    empty table (else it is an error: a lost export must not read as a quiet month)."""
    n = raw.num_rows
    headers = column_mapping(list(raw.columns), table.name, profile)
    problems = Problems(raw, headers)
    errors: list[RowError] = list(raw.errors)
    warnings = list(raw.notes)

    def early(more: list[RowError]) -> TypedFile:
        return TypedFile(raw.source, table.name, typed_columns_empty(table, 0), errors + more,
                         n, warnings=warnings)

    if raw.is_empty_file:
        return early([] if allow_empty else [RowError(
            raw.source, 1, "", "", "the file is empty; " + EMPTY_HINT.format(table=table.name))])
    header_errors = check_header(raw, table, headers, profile)
    if header_errors:
        # Without a required column (or with a misspelt one) no row can be trusted.
        return early(header_errors)
    if n == 0 and not raw.errors and not allow_empty:
        return early([RowError(raw.source, raw.header_line, "", "", (
            "the file has a header but no rows; " + EMPTY_HINT.format(table=table.name)))])
    # Derived columns (shop_id, name, conversation_id) follow a rule, not a constant.
    absent = [c for c in table.columns if c.name not in headers and c.name not in DERIVED]
    if absent and n:
        warnings.append(f"{raw.source}: optional columns absent, every row takes the default: "
                        + ", ".join(f"{c.name} ({describe_default(c)})" for c in absent))

    typed: dict[str, pa.ChunkedArray] = {}
    for column in table.columns:
        header = headers.get(column.name)
        if header is None:
            # An optional column the file does not have: its default on every row.
            typed[column.name] = convert.as_array(pa.repeat(default_value(column), n))
            continue
        try:
            typed[column.name] = type_column(
                raw.columns[header], column, table, tz, profile, problems)
        except (pa.ArrowException, ValueError, OverflowError) as exc:
            kind = raw.columns[header].type
            return early([RowError(raw.source, raw.header_line, column.name, "", (
                f"a column of type {kind} cannot be read as {column.kind.value} ({exc})"))])

    if table.name in TIME_ORDER:
        first, second = TIME_ORDER[table.name]
        before = pc.less(typed[second], typed[first])
        problems.add_mask(convert.mask(before), second, f"{second} before {first}")

    if table.name == "agents":
        # name defaults to the account itself.
        typed["name"] = pc.coalesce(typed["name"], typed["agent_id"])

    bad = problems.bad_rows(n)
    duplicates = 0
    if table.key:
        duplicates_mask = duplicate_keys(typed, table, raw, bad, problems)
        bad = problems.bad_rows(n)
        duplicates = int((duplicates_mask & ~bad).sum())
        drop = bad | duplicates_mask
    else:
        drop = bad
    errors += problems.row_errors()

    columns = dict(typed)
    columns[LINE_COLUMN] = pa.chunked_array([pa.array(raw.lines, pa.int64())])
    columns[ROW_COLUMN] = pa.chunked_array([pa.array(np.arange(n, dtype=np.int64))])
    rows = pa.table(columns)
    if drop.any():
        rows = rows.filter(pa.array(~drop))
    return TypedFile(raw.source, table.name, rows, errors, n, duplicates, warnings,
                     raw.sheets, raw.sheet_of_row)


def check_header(
    raw: RawFile, table: Table, headers: dict[str, str], profile: MappingProfile
) -> list[RowError]:
    """Required columns present; a header that is not a known column but looks like a
    missing one (amout → amount, state → status) is refused with a did-you-mean."""
    missing = [c for c in table.columns if c.name not in headers]
    ignored = {k.strip().lower() for k, v in profile.table(table.name).columns.items()
               if v is None}
    unknown = [h for h in raw.columns
               if h not in headers.values() and h.strip().lower() not in ignored]
    names: dict[str, str] = {c.name: c.name for c in missing}
    names.update({alias: target for alias, target in BUILTIN_COLUMN_ALIASES.items()
                  if target in names})
    errors: list[RowError] = []
    explained: set[str] = set()
    for header in unknown:
        close = difflib.get_close_matches(header.strip().lower(), list(names), n=1,
                                          cutoff=DID_YOU_MEAN_CUTOFF)
        if close:
            target = names[close[0]]
            explained.add(target)
            errors.append(RowError(raw.source, raw.header_line, header, "", (
                f"unknown column — did you mean {target}? Rename it, or map it in a --profile "
                f"({header}: {target}, or {header}: null to ignore it)")))
    for column in missing:
        if column.required and column.name not in explained:
            errors.append(RowError(raw.source, raw.header_line, column.name, "",
                                   "missing required column"))
    return errors


def describe_default(column: Column) -> str:
    if column.default is None or column.default == "":
        return "empty"
    return column.default


def typed_columns_empty(table: Table, n: int) -> pa.Table:
    columns = {c.name: pa.nulls(n, arrow_type(c)) for c in table.columns}
    columns[LINE_COLUMN] = pa.nulls(n, pa.int64())
    columns[ROW_COLUMN] = pa.nulls(n, pa.int64())
    return pa.table(columns)


def arrow_type(column: Column) -> pa.DataType:
    return {
        Kind.TEXT: pa.string(),
        Kind.ENUM: pa.string(),
        Kind.TIMESTAMP: convert.TIMESTAMP_US,
        Kind.BOOL: pa.bool_(),
        Kind.MONEY: pa.float64(),
        Kind.INT: pa.int64(),
    }[column.kind]


def type_column(
    source: pa.ChunkedArray,
    column: Column,
    table: Table,
    tz: str,
    profile: MappingProfile,
    problems: Problems,
) -> pa.ChunkedArray:
    name = column.name
    if convert.is_string(source) or pa.types.is_dictionary(source.type):
        # Trimmed once here; converters below expect trimmed text.
        source = convert.text(source, trim=name not in UNTRIMMED_TEXT)
    empty = convert.empty_mask(source)
    if column.required and name not in DEFAULTED_LATER:
        reason = "required value is empty"
        if table.name == "messages" and name == "agent_id":
            reason = "every message needs agent_id (it names the thread)"
        problems.add_mask(empty, name, reason)

    values: pa.ChunkedArray
    if column.kind is Kind.TEXT:
        values = convert.text(source, trim=not convert.is_string(source))
    elif column.kind is Kind.TIMESTAMP:
        result = convert.to_timestamp(source, tz)
        date_only = result.bad & convert.mask(pc.match_substring_regex(
            convert.to_text(source), convert.DATE_ONLY)) if result.bad.any() else result.bad
        problems.add_mask(date_only, name,
                          "a date without a time of day (a timestamp needs at least HH:MM)")
        problems.add_mask(result.bad & ~date_only, name,
                          "not a valid timestamp (expected YYYY-MM-DD HH:MM[:SS][.fff][+08:00])")
        problems.add_mask(convert.out_of_years(result.values), name,
                          f"timestamp out of range (years {convert.FIRST_YEAR}–"
                          f"{convert.LAST_YEAR})")
        values = result.values
    elif column.kind is Kind.BOOL:
        result = convert.to_bool(source, bool_mapping(table.name, name, profile))
        problems.add_mask(result.bad, name, "not a boolean (true/false, 1/0, yes/no, 是/否)")
        values = result.values
    elif column.kind is Kind.MONEY:
        result = convert.to_money(source)
        comma = result.bad & convert.decimal_comma(source) if result.bad.any() else result.bad
        problems.add_mask(comma, name, (
            "a decimal comma? kefu reads ',' only as a thousands separator between groups "
            "of three digits; write the amount with a decimal point (299.00)"))
        problems.add_mask(result.bad & ~comma, name, "not an amount")
        problems.add_mask(convert.money_out_of_range(result.values), name,
                          f"amount out of range (above {convert.MAX_AMOUNT:,.0f} or infinite)")
        problems.add_mask(convert.mask(pc.less(result.values, 0)), name, "negative amount")
        values = result.values
    elif column.kind is Kind.INT:
        scores = value_mapping(table.name, name, profile)

        def score(key: str) -> int | None:
            value = scores.get(key.lower(), "")
            # A profile may map to any text; only 1..5 is a score.
            return int(value) if value in {"1", "2", "3", "4", "5"} else None

        result = convert.lookup(source, score, pa.int64())
        problems.add_mask(result.bad, name, "score must be 1..5")
        values = result.values
    else:
        choices = {
            raw: canonical
            for raw, canonical in value_mapping(table.name, name, profile).items()
            if canonical in column.choices
        }
        choices.update({choice: choice for choice in column.choices})
        result = convert.lookup(source, convert.translate_with(choices), pa.string())
        problems.add_mask(result.bad, name,
                          f"unknown {name}; expected one of {', '.join(column.choices)}")
        values = result.values

    if empty.any():
        values = fill_empty(values, empty, column)
    return values


def fill_empty(values: pa.ChunkedArray, empty: np.ndarray, column: Column) -> pa.ChunkedArray:
    """Empty optional cells: the column default, or null (empty text is null too)."""
    fill = default_value(column)
    if not fill.is_valid and values.type == fill.type and values.null_count == int(empty.sum()):
        return values  # every empty cell is already null: nothing to fill (saves a copy)
    return convert.as_array(pc.if_else(pa.array(empty), fill, values.cast(fill.type)))


def default_value(column: Column) -> pa.Scalar:
    kind = arrow_type(column)
    if column.default is None:
        return pa.scalar(None, kind)
    if column.kind is Kind.BOOL:
        return pa.scalar(column.default == "true", kind)
    if column.kind is Kind.MONEY:
        return pa.scalar(float(column.default), kind)
    return pa.scalar(column.default, kind)


def content_equal(typed: dict[str, pa.ChunkedArray], names: list[str], a: int, b: int) -> bool:
    return all(typed[name][a].as_py() == typed[name][b].as_py() for name in names)


def duplicate_keys(
    typed: dict[str, pa.ChunkedArray],
    table: Table,
    raw: RawFile,
    bad: np.ndarray,
    problems: Problems,
) -> np.ndarray:
    """Later rows repeating a key: identical → dropped quietly, different → an error.

    Returns the mask of identical repeats.
    """
    key = pa.table({k: typed[k] for k in table.key}).append_column(
        "_i", pa.array(np.arange(raw.num_rows, dtype=np.int64))
    )
    key = key.filter(pa.array(~bad))
    counts = key.group_by(list(table.key)).aggregate([("_i", "list")])
    lists = counts.column("_i_list")
    repeated = pc.greater(pc.list_value_length(lists), 1)
    identical = np.zeros(raw.num_rows, dtype=bool)
    if not convert.mask(repeated).any():
        return identical
    names = [c.name for c in table.columns]
    for rows in lists.filter(repeated).to_pylist():
        rows.sort()
        first = rows[0]
        for later in rows[1:]:
            if content_equal(typed, names, first, later):
                identical[later] = True
            else:
                label = "row" if raw.source.endswith(".parquet") else "line"
                problems.add(np.array([later]), table.key[0],
                             f"duplicate {table.key[0]} with different content "
                             f"(first on {label} {int(raw.lines[first])})")
    return identical
