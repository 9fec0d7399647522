"""The typing rules (kefu.ingest.rules) as DuckDB SQL: one query types a whole file.

DuckDB reads the file (Parquet directly; CSV, XLSX, JSON Lines and records after
their reader made Arrow columns), computes every canonical column and a bit mask of
the failed checks per row, and hands back Arrow. A second query, only when some
row failed, fetches the raw cells of the failed rows for the report.
"""

from __future__ import annotations

import datetime as dt
import itertools
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import duckdb
import numpy as np
import pyarrow as pa

from kefu.ingest.rules import WHITESPACE, Expr, Plan, Source, layers

SQL_TYPES = {"text": "VARCHAR", "bool": "BOOLEAN", "double": "DOUBLE", "bigint": "BIGINT",
             "timestamp": "TIMESTAMP"}
ROW = "__row"
"""The 0-based row of the file, carried through the query."""
MAX_CHECKS = 62
"""Checks of one file fit one BIGINT bit mask (a table has at most about 20)."""


def quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def literal(value: object, kind: str) -> str:
    if value is None:
        return f"CAST(NULL AS {SQL_TYPES[kind]})"
    if kind == "text":
        return string(str(value))
    if kind == "bool":
        return "TRUE" if value else "FALSE"
    if kind == "double":
        return f"CAST({float(value)!r} AS DOUBLE)"  # type: ignore[arg-type]
    if kind == "bigint":
        return f"CAST({int(value)} AS BIGINT)"  # type: ignore[call-overload]
    if kind == "timestamp" and isinstance(value, dt.datetime):
        return f"TIMESTAMP '{value.isoformat(sep=' ')}'"
    raise ValueError(f"no SQL literal of type {kind} for {value!r}")


def lookup(key: str, pairs: Sequence[tuple[str, object]], kind: str) -> str:
    if not pairs:
        return literal(None, kind)
    entries = ", ".join(f"{string(k)}: {literal(v, kind)}" for k, v in pairs)
    return f"MAP {{{entries}}}[{key}]"


Compile = Callable[..., str]

TEMPLATES: dict[str, Compile] = {
    "not": lambda a: f"(NOT {a})",
    "and": lambda *xs: "(" + " AND ".join(xs) + ")",
    "or": lambda *xs: "(" + " OR ".join(xs) + ")",
    "is_null": lambda a: f"({a} IS NULL)",
    "eq": lambda a, b: f"({a} = {b})",
    "ne": lambda a, b: f"({a} <> {b})",
    "lt": lambda a, b: f"({a} < {b})",
    "le": lambda a, b: f"({a} <= {b})",
    "ge": lambda a, b: f"({a} >= {b})",
    "gt": lambda a, b: f"({a} > {b})",
    "add": lambda a, b: f"({a} + {b})",
    "sub": lambda a, b: f"({a} - {b})",
    "mul": lambda a, b: f"({a} * {b})",
    "coalesce": lambda *xs: f"coalesce({', '.join(xs)})",
    "trim": lambda a: (f"regexp_replace({a}, {string(f'^{WHITESPACE}+|{WHITESPACE}+$')}, '', "
                       "'g')"),
    "lower": lambda a: f"lower({a})",
    "concat": lambda *xs: "(" + " || ".join(xs) + ")",
    "lpad": lambda a, width: f"lpad({a}, {width}, '0')",
    "length": lambda a: f"length({a})",
    "substr": lambda a, start, length: f"substring({a}, {start}, {length})",
    "matches": lambda a, pattern: f"regexp_matches({a}, {string(pattern)})",
    "replace": lambda a, pattern, new: (f"regexp_replace({a}, {string(pattern)}, {string(new)}, "
                                        "'g')"),
    "groups": lambda a, pattern, names: (
        f"regexp_extract({a}, {string(pattern)}, [{', '.join(string(n) for n in names)}])"),
    "field": lambda a, name: f"struct_extract({a}, {string(name)})",
    "lookup": lookup,
    "to_text": lambda a: f"CAST({a} AS VARCHAR)",
    "to_double": lambda a: f"TRY_CAST({a} AS DOUBLE)",
    "to_bigint": lambda a: f"TRY_CAST({a} AS BIGINT)",
    "floor": lambda a: f"floor({a})",
    "abs": lambda a: f"abs({a})",
    "is_nan": lambda a: f"isnan({a})",
    "round_even": lambda a: f"round_even({a}, 0)",
    "ts_text": lambda a: f"TRY_CAST({a} AS TIMESTAMP)",
    "ts_micros": lambda a: f"make_timestamp({a})",
    "micros": lambda a: f"epoch_us({a})",
    "wall_clock": lambda a: f"CAST({a} AS TIMESTAMP)",
    "instant": lambda a: f"timezone('UTC', {a})",
    "zone_offset_us": lambda a, zone: (
        f"(epoch_us(timezone({string(zone)}, timezone('UTC', {a}))) - epoch_us({a}))"),
}
def compiled(expr: Expr, names: Mapping[str, str]) -> str:
    """SQL of an expression; ``names`` maps raw headers to the relation's column names."""
    if expr.op == "ref":
        name = str(expr.args[0])
        return quoted(names.get(name, name))
    if expr.op == "lit":
        return literal(expr.args[0], str(expr.args[1]))
    if expr.op == "case":
        *branches, otherwise = [compiled(a, names) for a in expr.args]  # type: ignore[arg-type]
        whens = " ".join(f"WHEN {c} THEN {v}" for c, v in zip(branches[::2], branches[1::2],
                                                                strict=True))
        return f"CASE {whens} ELSE {otherwise} END"
    # plain values (patterns, names, widths) go to the template as they are
    args = [compiled(a, names) if isinstance(a, Expr) else a for a in expr.args]
    return TEMPLATES[expr.op](*args)


def typing_query(plan: Plan, relation: str, names: Mapping[str, str]) -> str:
    """Typed canonical columns, the row and the bit mask of failed checks of every row."""
    if len(plan.checks) > MAX_CHECKS:
        raise ValueError(f"{len(plan.checks)} checks do not fit one bit mask")
    query = f"SELECT * FROM {relation}"
    for group in layers(plan.bindings):
        values = ", ".join(f"{compiled(e, names)} AS {quoted(n)}" for n, e in group)
        query = f"SELECT *, {values} FROM ({query})"
    outputs = ", ".join(f"CAST({compiled(e, names)} AS {SQL_TYPES[kind]}) AS {quoted(name)}"
                        for name, (e, kind) in plan.outputs.items())
    bits = " + ".join(f"CASE WHEN {compiled(check.bad, names)} THEN {1 << i} ELSE 0 END"
                      for i, check in enumerate(plan.checks)) or "0"
    return f"SELECT {outputs}, {quoted(ROW)}, CAST({bits} AS BIGINT) AS __bad FROM ({query})"


def cells_query(plan: Plan, relation: str, names: Mapping[str, str], rows: str) -> str:
    cells = ", ".join(f"{compiled(e, names)} AS {quoted(column)}"
                      for column, e in plan.cells.items())
    return (f"SELECT {quoted(ROW)}, {cells} FROM {relation} "
            f"WHERE {quoted(ROW)} IN (SELECT {quoted(ROW)} FROM {rows})")


# --- running ---------------------------------------------------------------------------

_local = threading.local()
_names = itertools.count()


def connection() -> duckdb.DuckDBPyConnection:
    """This thread's connection for typing (in memory; DuckDB connections are not shared
    between threads)."""
    con: duckdb.DuckDBPyConnection | None = getattr(_local, "con", None)
    if con is None:
        con = duckdb.connect()
        _local.con = con
    return con


def arrow_table(result: duckdb.DuckDBPyConnection) -> pa.Table:
    # to_arrow_table is DuckDB >= 1.4; fetch_arrow_table is deprecated there.
    fetch = getattr(result, "to_arrow_table", None) or result.fetch_arrow_table
    table: pa.Table = fetch()
    return table


@contextmanager
def registered(con: duckdb.DuckDBPyConnection, table: pa.Table) -> Iterator[str]:
    name = f"__kefu_rows_{next(_names)}"
    con.register(name, table)
    try:
        yield name
    finally:
        con.unregister(name)


@dataclass
class Relation:
    """A file's rows as DuckDB sees them: FROM text, and each header's column and type."""

    sql: str
    names: dict[str, str]
    """header → column name in ``sql``"""
    types: dict[str, str]
    """header → DuckDB type"""


def describe(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple[str, str]]:
    return [(str(row[0]), str(row[1])) for row in con.execute(f"DESCRIBE {sql}").fetchall()]


def parquet_relation(con: duckdb.DuckDBPyConnection, path: str,
                     positions: Mapping[str, int]) -> Relation:
    """A Parquet file read by DuckDB; headers are matched to its columns by position."""
    scan = f"read_parquet({string(path)}, file_row_number = true)"
    columns = describe(con, f"SELECT * FROM {scan}")
    names = {header: columns[i][0] for header, i in positions.items()}
    types = {header: columns[i][1] for header, i in positions.items()}
    select = ", ".join(quoted(n) for n in names.values())
    sql = (f"(SELECT {select}{', ' if select else ''}file_row_number AS {quoted(ROW)} "
           f"FROM {scan})")
    return Relation(sql, names, types)


def arrow_relation(con: duckdb.DuckDBPyConnection, view: str, headers: Sequence[str]
                   ) -> Relation:
    """Columns registered as c0, c1 … (DuckDB names are case-insensitive; headers may not be)."""
    types = dict(describe(con, f"SELECT * FROM {view}"))
    names = {header: f"c{i}" for i, header in enumerate(headers)}
    return Relation(view, names, {h: types[n] for h, n in names.items()})


def arrow_rows(columns: Mapping[str, pa.ChunkedArray], num_rows: int) -> pa.Table:
    """Reader columns as a table for ``arrow_relation``, with the row number."""
    data = {f"c{i}": values for i, values in enumerate(columns.values())}
    data[ROW] = pa.chunked_array([pa.array(np.arange(num_rows, dtype=np.int64))])
    return pa.table(data)


NESTED_PREFIXES = ("STRUCT", "MAP", "UNION")
INTEGERS = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
            "UINTEGER", "UBIGINT", "UHUGEINT"}


def source_kind(duckdb_type: str) -> Source:
    kind = duckdb_type.upper()
    if kind.endswith("]") or kind.startswith(NESTED_PREFIXES):
        return Source.NESTED
    if kind == "VARCHAR":
        return Source.TEXT
    if kind == "BOOLEAN":
        return Source.BOOL
    if kind in INTEGERS:
        return Source.INTEGER
    if kind in ("FLOAT", "DOUBLE"):
        return Source.FLOAT
    if kind.startswith("DECIMAL"):
        return Source.DECIMAL
    if kind == "TIMESTAMP WITH TIME ZONE":
        return Source.TIMESTAMP_TZ
    if kind.startswith("TIMESTAMP"):
        return Source.TIMESTAMP
    if kind == "DATE":
        return Source.DATE
    return Source.OTHER


def type_rows(con: duckdb.DuckDBPyConnection, plan: Plan, relation: Relation
              ) -> tuple[pa.Table, np.ndarray]:
    """Every row of the file typed (canonical columns and ROW, in file order) and the bit
    mask of the checks it failed (bit i: ``plan.checks[i]``)."""
    result = arrow_table(con.execute(typing_query(plan, relation.sql, relation.names)))
    row_numbers = result.column(ROW).to_numpy()
    if len(row_numbers) > 1 and not (row_numbers[1:] > row_numbers[:-1]).all():
        result = result.sort_by(ROW)
    mask = np.asarray(result.column("__bad").to_numpy(), dtype=np.int64)
    return result.drop_columns(["__bad"]), mask


def fetch_cells(con: duckdb.DuckDBPyConnection, plan: Plan, relation: Relation,
                rows: np.ndarray) -> dict[str, dict[int, str]]:
    """Canonical column → {row: the raw cell as text} of the given rows (for reports)."""
    if not len(rows) or not plan.cells:
        return {}
    picked = pa.table({ROW: pa.array(np.unique(rows).astype(np.int64))})
    with registered(con, picked) as view:
        found = arrow_table(con.execute(cells_query(plan, relation.sql, relation.names, view)))
    numbers = found.column(ROW).to_pylist()
    return {column: {row: "" if value is None else str(value)
                     for row, value in zip(numbers, found.column(column).to_pylist(),
                                           strict=True)}
            for column in plan.cells}
