"""Typing and per-file validation of one raw file against its canonical table.

The header is checked here (required columns, did-you-mean, empty files); the rows
are typed and checked by the rules of kefu.ingest.rules, run as one DuckDB query
over the file (kefu.ingest.rules_sql). Every failed check of every row is
collected (never stop at the first), and a row with any error is dropped whole.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from kefu.ingest import rules_sql
from kefu.ingest.errors import RowError
from kefu.ingest.profile import BUILTIN_COLUMN_ALIASES, MappingProfile, column_mapping
from kefu.ingest.readers import RawFile
from kefu.ingest.rules import OUTPUT_TYPES, Plan, Unreadable, plan_file
from kefu.ingest.schema import Column, Table

# Extra columns carried with the typed rows until the end of loading.
FILE_COLUMN = "_file"
LINE_COLUMN = "_line"
ROW_COLUMN = "_row"

# Optional columns filled from other data by a documented rule, not by a constant.
DERIVED = {"shop_id", "name", "conversation_id"}

TIMESTAMP_US = pa.timestamp("us")
ARROW_TYPES = {"text": pa.string(), "bool": pa.bool_(), "double": pa.float64(),
               "bigint": pa.int64(), "timestamp": TIMESTAMP_US}


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
    if n == 0:
        return early([])
    sources = {h: (rules_sql.source_kind(v.type), str(v.type)) for h, v in raw.columns.items()}
    try:
        plan = plan_file(table, headers, sources, tz, profile)
    except Unreadable as exc:
        return early([RowError(raw.source, raw.header_line, exc.column, "", str(exc))])
    typed = checked_rows(raw, table, plan, headers)
    typed.errors[:0] = errors
    typed.warnings[:0] = warnings
    return typed


def checked_rows(raw: RawFile, table: Table, plan: Plan, headers: dict[str, str]) -> TypedFile:
    """The plan run over the file's rows (one DuckDB query), in-file duplicate keys, and
    the errors of the bad rows with their cells."""
    n = raw.num_rows
    con = rules_sql.connection()
    used = {h: v for h, v in raw.columns.items() if h in headers.values()}
    with rules_sql.relation(con, used, n, rules_sql.trimmed_headers(plan),
                            rules_sql.iso_texts(plan)) as relation:
        rows, mask = rules_sql.type_rows(con, plan, relation, headers)
        bad = mask != 0
        duplicates = np.zeros(n, dtype=bool)
        clashes: list[tuple[int, str]] = []
        if table.key:
            duplicates, clashes = duplicate_keys(rows, table, raw, bad)
        failed = ([np.flatnonzero((mask >> i) & 1) for i in range(len(plan.checks))]
                  if bad.any() else [])
        wanted = np.concatenate([*failed, np.asarray([r for r, _ in clashes], np.int64)])
        cells = rules_sql.fetch_cells(con, plan, relation, wanted)
    errors = row_errors(raw, plan, failed, cells)
    key = table.key[0] if table.key else ""
    errors += [RowError(raw.source, int(raw.lines[row]), key, cells.get(key, {}).get(row, ""),
                        reason, raw.sheet(row)) for row, reason in clashes]
    for row, _ in clashes:
        bad[row] = True
    drop = bad | duplicates
    rows = rows.append_column(ROW_COLUMN, pa.array(np.arange(n, dtype=np.int64))).append_column(
        LINE_COLUMN, pa.array(raw.lines, pa.int64()))
    if drop.any():
        rows = rows.filter(pa.array(~drop))
    return TypedFile(raw.source, table.name, rows, errors, n, int((duplicates & ~bad).sum()),
                     [], raw.sheets, raw.sheet_of_row)


def row_errors(raw: RawFile, plan: Plan, failed: list[np.ndarray],
               cells: dict[str, dict[int, str]]) -> list[RowError]:
    """One error per failed check and row: check by check, rows in file order."""
    out: list[RowError] = []
    if not failed:  # no row failed a check
        return []
    for check, rows in zip(plan.checks, failed, strict=True):
        column_cells = cells.get(check.column, {})
        for row in rows.tolist():
            out.append(RowError(raw.source, int(raw.lines[row]), check.column,
                                column_cells.get(row, ""), check.reason, raw.sheet(row)))
    return out


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
    columns[ROW_COLUMN] = pa.nulls(n, pa.int64())
    columns[LINE_COLUMN] = pa.nulls(n, pa.int64())
    return pa.table(columns)


def arrow_type(column: Column) -> pa.DataType:
    return ARROW_TYPES[OUTPUT_TYPES[column.kind]]


def duplicate_keys(
    rows: pa.Table, table: Table, raw: RawFile, bad: np.ndarray
) -> tuple[np.ndarray, list[tuple[int, str]]]:
    """Later good rows repeating a key: identical → dropped quietly, different → an error.

    Returns the mask of identical repeats and the (row, reason) of the different ones.
    """
    identical = np.zeros(raw.num_rows, dtype=bool)
    clashes: list[tuple[int, str]] = []
    key = rows.select(list(table.key)).append_column(
        "_i", pa.array(np.arange(raw.num_rows, dtype=np.int64))).filter(pa.array(~bad))
    if len(table.key) == 1 and pc.count_distinct(key.column(0)).as_py() == key.num_rows:
        return identical, clashes  # every key once (the usual case)
    lists = key.group_by(list(table.key)).aggregate([("_i", "list")]).column("_i_list")
    repeated = lists.filter(pc.greater(pc.list_value_length(lists), 1)).to_pylist()
    if not repeated:
        return identical, clashes
    names = [c.name for c in table.columns]
    label = "row" if raw.source.endswith(".parquet") else "line"
    for group in repeated:
        group.sort()
        first = rows.slice(group[0], 1).select(names).to_pylist()[0]
        for later in group[1:]:
            if rows.slice(later, 1).select(names).to_pylist()[0] == first:
                identical[later] = True
            else:
                clashes.append((later, f"duplicate {table.key[0]} with different content "
                                       f"(first on {label} {int(raw.lines[group[0]])})"))
    return identical, clashes

