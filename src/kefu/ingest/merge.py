"""Merging the files of one table: overlapping exports load without duplicates.

- Tables with a key (agents, orders, cases): one row per key. Identical rows are
  one row; when files disagree, the file whose name sorts last wins (a newer
  export corrects an older one) and a warning counts the conflicts.
- Tables without a key (messages, ratings, sessions): a multiset union. Inside
  one file identical rows are all real (a buyer may send 在吗 twice in a second);
  across files a row appearing k times in one file and m times in another is
  loaded max(k, m) times, never k + m, because overlapping exports repeat it.

The merged rows keep the ordinal of their first occurrence.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from kefu.ingest.schema import Table
from kefu.ingest.validate import FILE_COLUMN


def quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def merge_files(table: Table, parts: list[pa.Table]) -> tuple[pa.Table, list[str]]:
    """Rows of the table's files (with _file and ordinal columns) → merged rows, warnings."""
    if len(parts) == 1:
        return parts[0], []
    if not table.key:
        return multiset_union(table, parts), []
    rows = pa.concat_tables(parts)
    content = ", ".join(quoted(c.name) for c in table.columns)
    con = duckdb.connect()
    try:
        con.register("rows_in", rows)
        key = ", ".join(quoted(k) for k in table.key)
        merged = con.execute(f"""
            SELECT * EXCLUDE (pick, ordinal, first_ordinal), first_ordinal AS ordinal FROM (
                SELECT *,
                    row_number() OVER (PARTITION BY {key}
                                       ORDER BY {FILE_COLUMN} DESC, ordinal) AS pick,
                    min(ordinal) OVER (PARTITION BY {key}) AS first_ordinal
                FROM rows_in)
            WHERE pick = 1
            ORDER BY ordinal
        """)
        merged_rows = arrow_table(merged)
        conflicts = con.execute(f"""
            SELECT count(*) FROM (
                SELECT {key} FROM rows_in GROUP BY {key}
                HAVING count(DISTINCT ({content})) > 1)
        """).fetchone()
    finally:
        con.close()
    warnings: list[str] = []
    count = int(conflicts[0]) if conflicts else 0
    if count:
        names = ", ".join(table.key)
        warnings.append(
            f"{table.name}: {count} {names} values have different rows in different files; "
            "kept the row from the file whose name sorts last"
        )
    return cast_like(merged_rows, rows), warnings


def multiset_union(table: Table, parts: list[pa.Table]) -> pa.Table:
    """Keyless rows: a row k times in one file and m times in another is kept max(k, m) times."""
    names = [c.name for c in table.columns]
    distinct: list[pa.Table] = []
    for part in parts:
        # The same export twice (a copy, or CSV and XLSX of one download): the later adds nothing.
        content = part.select(names)
        if not any(content.equals(seen.select(names)) for seen in distinct):
            distinct.append(part)
    parts = distinct
    if len(parts) == 1:
        return parts[0]
    # Only rows inside the time span of another file can repeat across files; the
    # rest (most rows of monthly exports) skip the costly comparison.
    time = table.timestamp_columns[0]
    spans = [pc.min_max(part.column(time)).values() for part in parts]
    inside: list[pa.ChunkedArray] = []
    for i, part in enumerate(parts):
        stamps = part.column(time)
        mask = pa.chunked_array([pa.array(np.zeros(part.num_rows, dtype=bool))])
        for j, (low, high) in enumerate(spans):
            if j != i and low.is_valid:
                between = pc.and_(pc.greater_equal(stamps, low), pc.less_equal(stamps, high))
                mask = pc.or_(mask, pc.fill_null(between, False))
        inside.append(mask)
    shared = pa.concat_tables(
        [part.select([*names, FILE_COLUMN, "ordinal"]).filter(mask)
         for part, mask in zip(parts, inside, strict=True)]
    )
    content = ", ".join(quoted(name) for name in names)
    con = duckdb.connect()
    try:
        con.register("rows_in", shared)
        kept = arrow_table(con.execute(f"""
            SELECT ordinal FROM (
                SELECT ordinal, {content}, row_number() OVER (
                    PARTITION BY {content}, {FILE_COLUMN} ORDER BY ordinal) AS copy_no
                FROM rows_in)
            QUALIFY row_number() OVER (PARTITION BY {content}, copy_no ORDER BY ordinal) = 1
        """)).column("ordinal")
    finally:
        con.close()
    # Filtering each file keeps file-then-line order, so no sort is needed.
    kept_parts = [
        part.filter(pc.or_(pc.invert(mask), pc.is_in(part.column("ordinal"), value_set=kept)))
        for part, mask in zip(parts, inside, strict=True)
    ]
    return pa.concat_tables(kept_parts)


def arrow_table(result: duckdb.DuckDBPyConnection) -> pa.Table:
    # to_arrow_table is DuckDB >= 1.4; fetch_arrow_table is deprecated there.
    fetch = getattr(result, "to_arrow_table", None) or result.fetch_arrow_table
    table: pa.Table = fetch()
    return table


def cast_like(merged: pa.Table, like: pa.Table) -> pa.Table:
    """DuckDB may hand back other Arrow types (large strings …); restore the input's."""
    return merged.select(like.column_names).cast(like.schema)
