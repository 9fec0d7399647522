"""The typing rules (kefu.ingest.rules) as DuckDB SQL: one query types a whole file.

The reader's Arrow columns (Parquet as Arrow reads it; CSV, XLSX, JSON Lines and
records after their readers) are registered in DuckDB; one query computes every
canonical column and a bit mask of the failed checks per row, and hands back as Arrow
only the columns that differ from the file's (the others are the file's own arrays).
A second query, only when some row failed, fetches the raw cells of the failed rows
for the report. Three operations have a form of their own here, the same in meaning:
trimming a raw text column and reading its times in the usual ISO forms run in Arrow
before the query (``relation``, ``arrow_times``), and a time zone's offset is looked up
in lists of its clock changes (``zone_offset_sql``).
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import os
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from zoneinfo import ZoneInfo

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from kefu.ingest.rules import ISO_TIMESTAMP, WHITESPACE, Expr, Plan, Source, layers

SQL_TYPES = {"text": "VARCHAR", "bool": "BOOLEAN", "double": "DOUBLE", "bigint": "BIGINT",
             "timestamp": "TIMESTAMP"}
ROW = "__row"
"""The 0-based row of the file, carried through the query."""
MAX_FLAGS = 64
"""A file's checks and pass-through flags fit one bit mask (a table has about 20)."""


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


def lookup(key: str, pairs: Sequence[tuple[str, object]], kind: str, text: str = "") -> str:
    """The value paired with ``key``; with ``text`` (``key`` = lower(text)), values already
    canonical (a key that maps to itself: buyer, true, 5) are matched first as written,
    which spares lower() on most rows (the same result: keys are lower case)."""
    if not pairs:
        return literal(None, kind)
    entries = ", ".join(f"{string(k)}: {literal(v, kind)}" for k, v in pairs)
    mapped = f"MAP {{{entries}}}[{key}]"
    canonical = [(k, v) for k, v in pairs if str(v).lower() == k]
    if not text or not canonical:
        return mapped
    whens = " ".join(f"WHEN {string(k)} THEN {literal(v, kind)}" for k, v in canonical)
    return f"CASE {text} {whens} ELSE {mapped} END"


ZONE_YEARS = (1999, 2100)
"""Years whose clock changes are read from the zone database into the query: the years
kefu accepts and one on either side. An instant outside them takes the offset its nearest
year starts with (such a time is refused as out of range whatever its offset)."""
NO_CHANGE = 2**62


@functools.lru_cache(maxsize=32)
def zone_changes(tz: str) -> list[tuple[int, list[tuple[int, int]]]]:
    """Per year of ZONE_YEARS: tz's UTC offset at its start (µs) and its changes in the year
    (instant in µs since 1970, offset after), from Python's zone database (as Arrow's).

    Read week by week (no zone changes its clock and back within a week), each change
    found to the second by bisection."""
    zone = ZoneInfo(tz)
    week = 7 * 86_400

    def offset(second: int) -> int:
        at = dt.datetime.fromtimestamp(second, dt.UTC).astimezone(zone).utcoffset()
        return (at or dt.timedelta()) // dt.timedelta(microseconds=1)

    years = []
    for year in range(ZONE_YEARS[0], ZONE_YEARS[1] + 1):
        start = int(dt.datetime(year, 1, 1, tzinfo=dt.UTC).timestamp())
        end = int(dt.datetime(year + 1, 1, 1, tzinfo=dt.UTC).timestamp())
        changes: list[tuple[int, int]] = []
        for low in range(start, end, week):
            high = min(low + week, end)
            while offset(low) != offset(high):
                first, last = low, high  # the first second of the next offset
                while last - first > 1:
                    middle = (first + last) // 2
                    first, last = (middle, last) if offset(middle) == offset(first) else (
                        first, middle)
                changes.append((last * 1_000_000, offset(last)))
                low = last
        years.append((offset(start), changes))
    return years


EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def zone_offset_sql(instant: str, tz: str) -> str:
    """tz's UTC offset at ``instant`` (a naive UTC timestamp): looked up by year in lists
    of the zone's changes (a few comparisons, where DuckDB's ICU costs twenty times more
    per value, and reads its own copy of the zone database)."""
    years = zone_changes(tz)
    most = max(len(changes) for _, changes in years)

    def listed(values: Sequence[int]) -> str:
        return "[" + ", ".join(str(v) for v in values) + "]"

    first, last = ZONE_YEARS
    index = f"(least(greatest(year({instant}), {first}), {last}) - {first - 1})"
    branches = []
    for k in range(most, 0, -1):
        at = listed([c[k - 1][0] if len(c) >= k else NO_CHANGE for _, c in years])
        after = listed([c[k - 1][1] if len(c) >= k else 0 for _, c in years])
        branches.append(f"WHEN epoch_us({instant}) >= {at}[{index}] THEN {after}[{index}]")
    starts = listed([start for start, _ in years])
    return f"CASE {' '.join(branches)} ELSE {starts}[{index}] END"


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
    "iso_time": lambda a: (f"CASE WHEN regexp_matches({a}, {string(ISO_TIMESTAMP)}) "
                           f"THEN TRY_CAST({a} AS TIMESTAMP) END"),
    "ts_micros": lambda a: f"make_timestamp({a})",
    "micros": lambda a: f"epoch_us({a})",
    "wall_clock": lambda a: f"CAST({a} AS TIMESTAMP)",
    "instant": lambda a: f"timezone('UTC', {a})",
    "zone_offset_us": lambda a, zone: zone_offset_sql(a, zone),
}


@dataclass
class Relation:
    """A file's rows registered in DuckDB: its raw columns c0, c1 … (DuckDB names are
    case-insensitive; headers may not be) and t0, t1 … holding the trimmed text of the
    text columns the plan trims. Rows keep their order (DuckDB preserves insertion order),
    so the n-th result row is the file's n-th row."""

    view: str
    table: pa.Table
    names: dict[str, str]
    """header → raw column"""
    trimmed: dict[str, str]
    """header → trimmed column"""
    parsed: dict[str, str]
    """binding of a text cell → column of its times as Arrow read them (``iso_time``)"""


def compiled(expr: Expr, relation: Relation) -> str:
    """SQL of an expression over the relation's columns."""
    if expr.op == "ref":
        name = str(expr.args[0])
        return quoted(relation.names.get(name, name))
    if expr.op == "lit":
        return literal(expr.args[0], str(expr.args[1]))
    if expr.op == "trim":
        inner = expr.args[0]
        if isinstance(inner, Expr) and inner.op == "ref" and inner.args[0] in relation.trimmed:
            return quoted(relation.trimmed[str(inner.args[0])])
    if expr.op == "iso_time":
        inner = expr.args[0]
        if isinstance(inner, Expr) and inner.op == "ref" and inner.args[0] in relation.parsed:
            done = quoted(relation.parsed[str(inner.args[0])])
            # a CASE evaluates its ELSE only on the rows left (coalesce evaluates every row)
            return (f"CASE WHEN {done} IS NOT NULL THEN {done} "
                    f"ELSE {TEMPLATES['iso_time'](compiled(inner, relation))} END")
    if expr.op == "lookup":
        key, pairs, kind = expr.args
        text = (compiled(key.args[0], relation)  # type: ignore[arg-type]
                if isinstance(key, Expr) and key.op == "lower" else "")
        return lookup(compiled(key, relation), pairs, str(kind), text)  # type: ignore[arg-type]
    if expr.op == "case":
        *branches, otherwise = [compiled(a, relation) for a in expr.args]  # type: ignore[arg-type]
        whens = " ".join(f"WHEN {c} THEN {v}" for c, v in zip(branches[::2], branches[1::2],
                                                                strict=True))
        return f"CASE {whens} ELSE {otherwise} END"
    # plain values (patterns, names, widths) go to the template as they are
    args = [compiled(a, relation) if isinstance(a, Expr) else a for a in expr.args]
    return TEMPLATES[expr.op](*args)


def trimmed_headers(plan: Plan) -> set[str]:
    """Raw columns the plan trims as they are (text columns other than content, comment)."""
    found: set[str] = set()

    def visit(expr: object) -> None:
        if isinstance(expr, Expr):
            inner = expr.args[0] if expr.args else None
            if expr.op == "trim" and isinstance(inner, Expr) and inner.op == "ref":
                found.add(str(inner.args[0]))
            for arg in expr.args:
                visit(arg)

    for _, expr in plan.bindings:
        visit(expr)
    return found


def iso_texts(plan: Plan) -> dict[str, str]:
    """Bindings read by ``iso_time`` that are a raw text column trimmed: binding → header."""
    bound = dict(plan.bindings)
    found: dict[str, str] = {}

    def visit(expr: object) -> None:
        if isinstance(expr, Expr):
            inner = expr.args[0] if expr.args else None
            if expr.op == "iso_time" and isinstance(inner, Expr) and inner.op == "ref":
                text = bound.get(str(inner.args[0]))
                if text is not None and text.op == "trim" and isinstance(text.args[0], Expr) \
                        and text.args[0].op == "ref":
                    found[str(inner.args[0])] = str(text.args[0].args[0])
            for arg in expr.args:
                visit(arg)

    for _, expr in plan.bindings:
        visit(expr)
    return found


def arrow_times(text: pa.ChunkedArray) -> pa.ChunkedArray | None:
    """Times in the usual ISO forms read by Arrow's cast (ten times faster than a pattern
    and a cast in DuckDB), chunk by chunk: a chunk that does not cast whole, or holds a
    shorter cell (Arrow reads 2024-06-01 and 2024-06-01T10 as times too), stays null and
    is read by the query. Arrow's cast gives every form it reads the value the rules give."""
    chunks = []
    for chunk in text.chunks:
        cells = pc.if_else(pc.equal(chunk, ""), pa.scalar(None, chunk.type), chunk)
        shortest = pc.min(pc.utf8_length(cells)).as_py()
        try:
            if shortest is None or shortest < len("2024-06-01 10:00"):
                raise pa.ArrowInvalid("not all cells are times")
            chunks.append(cells.cast(pa.timestamp("us")))
        except pa.ArrowInvalid:
            chunks.append(pa.nulls(len(chunk), pa.timestamp("us")))
    if all(c.null_count == len(c) for c in chunks):
        return None
    return pa.chunked_array(chunks, pa.timestamp("us"))


def body(plan: Plan, relation: Relation) -> str:
    """The relation with every binding of the plan as a column (layer by layer)."""
    query = f"SELECT * FROM {relation.view}"
    for group in layers(plan.bindings):
        values = ", ".join(f"{compiled(e, relation)} AS {quoted(n)}" for n, e in group)
        query = f"SELECT *, {values} FROM ({query})"
    return query


def output(plan: Plan, name: str, relation: Relation) -> str:
    expr, kind = plan.outputs[name]
    return f"CAST({compiled(expr, relation)} AS {SQL_TYPES[kind]})"


def flags(conditions: Sequence[str]) -> str:
    """Conditions as the bits of one unsigned integer (bit i: condition i)."""
    if len(conditions) > MAX_FLAGS:
        raise ValueError(f"{len(conditions)} conditions do not fit one bit mask")
    bits = " + ".join(f"CASE WHEN {c} THEN {1 << i} ELSE 0 END"
                      for i, c in enumerate(conditions)) or "0"
    width = next(w for w in (8, 16, 32, 64) if len(conditions) <= w)
    kind = {8: "UTINYINT", 16: "USMALLINT", 32: "UINTEGER", 64: "UBIGINT"}[width]
    return f"CAST({bits} AS {kind})"


def cells_query(plan: Plan, relation: Relation, rows: str) -> str:
    cells = ", ".join(f"{compiled(e, relation)} AS {quoted(column)}"
                      for column, e in plan.cells.items())
    return (f"SELECT {quoted(ROW)}, {cells} FROM {relation.view} "
            f"WHERE {quoted(ROW)} IN (SELECT {quoted(ROW)} FROM {rows})")


# --- running ---------------------------------------------------------------------------

_local = threading.local()
_names = itertools.count()


def connection() -> duckdb.DuckDBPyConnection:
    """This thread's connection for typing (in memory; DuckDB connections are shared
    neither between threads nor with a forked child)."""
    owner, con = getattr(_local, "con", (None, None))
    if con is None or owner != os.getpid():
        con = duckdb.connect()
        _local.con = (os.getpid(), con)
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


def source_kind(kind: pa.DataType) -> Source:
    """What a reader's Arrow column holds (DuckDB scans it with the matching type)."""
    if pa.types.is_dictionary(kind):
        return Source.TEXT if source_kind(kind.value_type) is Source.TEXT else Source.OTHER
    if pa.types.is_nested(kind):
        return Source.NESTED
    if pa.types.is_timestamp(kind):
        return Source.TIMESTAMP if kind.tz is None else Source.TIMESTAMP_TZ
    checks = ((Source.TEXT, (pa.types.is_string, pa.types.is_large_string,
                             pa.types.is_string_view)),
              (Source.BOOL, (pa.types.is_boolean,)),
              (Source.INTEGER, (pa.types.is_integer,)),
              (Source.FLOAT, (pa.types.is_floating,)),
              (Source.DECIMAL, (pa.types.is_decimal,)),
              (Source.DATE, (pa.types.is_date,)))
    return next((source for source, tests in checks if any(t(kind) for t in tests)),
                Source.OTHER)


@contextmanager
def relation(con: duckdb.DuckDBPyConnection, columns: Mapping[str, pa.ChunkedArray],
             num_rows: int, trim: set[str], times: Mapping[str, str] | None = None
             ) -> Iterator[Relation]:
    """The columns the plan reads, registered; the text columns it trims are trimmed here
    by Arrow (utf8_trim_whitespace strips exactly rules.WHITESPACE, about fifteen times
    faster than a regular expression in DuckDB; a column with nothing to trim is used as
    it is)."""
    data: dict[str, pa.ChunkedArray] = {}
    names: dict[str, str] = {}
    trimmed: dict[str, str] = {}
    for i, (header, values) in enumerate(columns.items()):
        data[f"c{i}"] = values
        names[header] = f"c{i}"
        if header in trim and (pa.types.is_string(values.type)
                               or pa.types.is_large_string(values.type)):
            stripped = pc.utf8_trim_whitespace(values)
            # trimming only removes characters: same lengths, same text
            if pc.all(pc.equal(pc.binary_length(stripped), pc.binary_length(values))).as_py() \
                    is False:
                data[f"t{i}"] = stripped
                trimmed[header] = f"t{i}"
            else:
                trimmed[header] = f"c{i}"
    parsed: dict[str, str] = {}
    for binding, header in (times or {}).items():
        read = arrow_times(data[trimmed.get(header) or names[header]])
        if read is not None:
            parsed[binding] = data_name = f"p{len(parsed)}"
            data[data_name] = read
    table = pa.table(data) if data else pa.table({ROW: pa.nulls(num_rows, pa.int64())})
    with registered(con, table) as view:
        yield Relation(view, table, names, trimmed, parsed)


ARROW_TYPES = {"text": pa.string(), "bool": pa.bool_(), "double": pa.float64(),
               "bigint": pa.int64(), "timestamp": pa.timestamp("us")}


def passable(plan: Plan, relation: Relation, headers: Mapping[str, str]) -> dict[str, str]:
    """Output column → the registered column it may equal on every row (same Arrow type):
    such a column is not exported when it does; only a flag says whether it does."""
    out: dict[str, str] = {}
    for name, (_, kind) in plan.outputs.items():
        header = headers.get(name)
        if header is None:
            continue
        source = relation.trimmed.get(header) or relation.names[header]
        if relation.table.column(source).type == ARROW_TYPES[kind]:
            out[name] = source
    return out


def differs_from(plan: Plan, name: str, source: str, relation: Relation) -> str:
    """SQL: the output column differs from the registered column ``source`` on this row.

    The usual text rule, ``case(empty, default, the cell)``, differs only where the cell is
    empty and the default is not what it holds: that is said without comparing text.
    """
    expr = plan.outputs[name][0]
    bound = dict(plan.bindings)
    rule = bound.get(str(expr.args[0])) if expr.op == "ref" else None
    if rule is not None and rule.op == "case" and len(rule.args) == 3:
        empty, default, value = rule.args
        while isinstance(value, Expr) and value.op == "ref" and str(value.args[0]) in bound:
            value = bound[str(value.args[0])]
        if isinstance(value, Expr) and compiled(value, relation) == quoted(source):
            return (f"({compiled(empty, relation)} AND "  # type: ignore[arg-type]
                    f"{compiled(default, relation)} IS DISTINCT FROM {quoted(source)})")  # type: ignore[arg-type]
    return f"NOT ({output(plan, name, relation)} IS NOT DISTINCT FROM {quoted(source)})"


def type_rows(con: duckdb.DuckDBPyConnection, plan: Plan, relation: Relation,
              headers: Mapping[str, str]) -> tuple[pa.Table, np.ndarray]:
    """Every row of the file typed (canonical columns, in file order) and the bit mask of
    the checks it failed (bit i: ``plan.checks[i]``).

    One query computes everything; it hands back the columns that differ from the file's
    (timestamps, translated values …) and, as bits after the checks', whether each other
    column equals its file column on every row. A second query, only for a column that
    does not (a default filled, a value translated), hands that one back.
    """
    same = passable(plan, relation, headers)
    other = [name for name in plan.outputs if name not in same]
    checks = [compiled(c.bad, relation) for c in plan.checks]
    differs = [differs_from(plan, name, source, relation) for name, source in same.items()]
    selected = [f"{output(plan, name, relation)} AS {quoted(name)}" for name in other]
    query = (f"SELECT {', '.join([*selected, flags(checks + differs) + ' AS __flags'])} "
             f"FROM ({body(plan, relation)})")
    result = arrow_table(con.execute(query))
    if result.num_rows != relation.table.num_rows:
        raise ValueError("the typing query lost rows")
    flagged = result.column("__flags")
    if pc.max(flagged).as_py() in (0, None):  # the usual case: nothing to report or fix
        mask, changed = np.zeros(len(flagged), dtype=np.int64), []
    else:
        bits = np.asarray(flagged.to_numpy(), dtype=np.uint64)
        mask = (bits & np.uint64((1 << len(checks)) - 1)).astype(np.int64)
        changed = [name for j, name in enumerate(same)
                   if ((bits >> np.uint64(len(checks) + j)) & np.uint64(1)).any()]
    columns = {name: result.column(name) for name in other}
    columns.update({name: relation.table.column(source) for name, source in same.items()})
    if changed:
        fixed = arrow_table(con.execute(
            f"SELECT {', '.join(f'{output(plan, n, relation)} AS {quoted(n)}' for n in changed)}"
            f" FROM ({body(plan, relation)})"))
        columns.update({name: fixed.column(name) for name in changed})
    return pa.table({name: columns[name] for name in plan.outputs}), mask


def fetch_cells(con: duckdb.DuckDBPyConnection, plan: Plan, relation: Relation,
                rows: np.ndarray) -> dict[str, dict[int, str]]:
    """Canonical column → {row: the raw cell as text} of the given rows (for reports)."""
    if not len(rows) or not plan.cells:
        return {}
    picked = pa.table({ROW: pa.array(np.unique(rows).astype(np.int64))})
    numbered = relation.table.append_column(ROW, pa.array(
        np.arange(relation.table.num_rows, dtype=np.int64)))
    with registered(con, numbered) as view, registered(con, picked) as wanted:
        found = arrow_table(con.execute(cells_query(plan, replace(relation, view=view), wanted)))
    numbers = found.column(ROW).to_pylist()
    return {column: {row: "" if value is None else str(value)
                     for row, value in zip(numbers, found.column(column).to_pylist(),
                                           strict=True)}
            for column in plan.cells}
