"""Reading a shop's files inside Spark: found, typed, validated, merged and cross-checked
where the cluster stores them, so no row passes through kefu's own process.

The typing and validation rules are kefu.ingest.rules, compiled to Spark column
expressions (rules_spark) as the embedded engine compiles them to SQL; the merge and
cross-table checks are those of load_dir (merge.py, load.cross_check, docs/data.md).
The parity tests (tests/ingest/test_rules_parity.py, tests/metrics/test_spark_cluster.py)
keep the error reports and the numbers equal to the embedded path. Only the bad-row
reports (at most MAX_COLLECTED_ERRORS) and the agents table come back to the driver.

The cluster path reads Parquet: exports written as Parquet, and workspaces (kefu
import stores validated Parquet). Other formats are refused with a sentence
saying to import them first (kefu import writes the workspace where the cluster
reads it).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import reduce
from pathlib import Path
from typing import Any

import pyarrow as pa

from kefu.ingest import rules_spark
from kefu.ingest.errors import MAX_SHOWN_ERRORS, IngestError, RowError
from kefu.ingest.load import AGENT_TABLES, table_for_file
from kefu.ingest.manifest import MANIFEST_NAME
from kefu.ingest.profile import MappingProfile, column_mapping
from kefu.ingest.readers import RawFile
from kefu.ingest.rules import OUTPUT_TYPES, Unreadable, plan_file
from kefu.ingest.rules_spark import SPARK_TYPES
from kefu.ingest.schema import TABLES, Table
from kefu.ingest.validate import DERIVED, check_header, describe_default

MAX_COLLECTED_ERRORS = 1000
"""Bad-row reports brought back to the driver; the total is always counted."""

FILE_NO, ROW_NO, LINE, BAD, PROBLEMS = "_file", "_row", "_line", "_bad", "_problems"
DUP, CLASH, CROSS = "_dup", "_clash", "_cross"
CROSS_TYPE = "struct<column:string,value:string,reason:string>"


@dataclass(frozen=True)
class SparkFile:
    table: str
    url: str
    source: str
    """Name in reports, relative to the location (messages/june.parquet)."""
    size: int


@dataclass
class SparkShop:
    """The shop's canonical tables as Spark DataFrames (schema.py columns, X_at as a UTC
    TIMESTAMP, plus ``ordinal``); ``agents`` also on the driver (it is small)."""

    frames: dict[str, Any]
    agents: pa.Table
    files: list[SparkFile]
    tz: str
    skipped: list[RowError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def frame(self, name: str) -> Any | None:
        return self.frames.get(name)


def _F() -> Any:
    from pyspark.sql import functions

    return functions


# --- finding the files ---------------------------------------------------------


def _hadoop(spark: Any, url: str) -> tuple[Any, Any]:
    path = spark._jvm.org.apache.hadoop.fs.Path(url)
    return path.getFileSystem(spark._jsc.hadoopConfiguration()), path


def location_url(location: str | Path) -> str:
    """A URL Spark reads: URLs as given, local folders as file:// of their absolute path."""
    text = str(location)
    if "://" in text:
        return text.rstrip("/")
    return Path(text).resolve().as_uri()


def discover(spark: Any, url: str) -> tuple[list[SparkFile], bool]:
    """Files per table in load order, by the rules of load.discover (names, table folders,
    a workspace's manifest), listed through Hadoop's file system (file:, hdfs:, s3a: …);
    and whether the location is a workspace."""
    fs, root = _hadoop(spark, url)
    if not fs.exists(root) or not fs.getFileStatus(root).isDirectory():
        raise IngestError([], f"{url} is not a folder")
    manifest = root.suffix("/" + MANIFEST_NAME)
    if fs.exists(manifest):
        text = spark.read.text(manifest.toString(), wholetext=True).first()[0]
        return _vouched(spark, fs, url, json.loads(text)["files"]), True
    found: list[SparkFile] = []
    for status in fs.listStatus(root):
        name = status.getPath().getName()
        if status.isDirectory() and name in TABLES:
            found += [SparkFile(name, s.getPath().toString(), f"{name}/{s.getPath().getName()}",
                                s.getLen())
                      for s in fs.listStatus(status.getPath())
                      if s.isFile() and not s.getPath().getName().startswith((".", "~$", "_"))]
        elif status.isFile() and (table := table_for_file(Path(name))) is not None:
            found.append(SparkFile(table, status.getPath().toString(), name, status.getLen()))
    order = list(TABLES)
    found.sort(key=lambda f: (order.index(f.table), Path(f.source).name, f.source))
    return found, False


def _vouched(spark: Any, fs: Any, url: str, entries: list[dict[str, Any]]) -> list[SparkFile]:
    """The manifest's files in import order; refuses a missing or changed one
    (manifest.vouched_files)."""
    files: list[SparkFile] = []
    for entry in entries:
        file_url = f"{url}/{entry['path']}"
        path = spark._jvm.org.apache.hadoop.fs.Path(file_url)
        size = fs.getFileStatus(path).getLen() if fs.exists(path) else -1
        if size != entry["size"]:
            state = "missing" if size < 0 else f"{size} bytes instead of {entry['size']}"
            raise IngestError([], (
                f"workspace {url}: {entry['path']} (imported from {entry['source']}) is {state}; "
                "the workspace was changed outside kefu. Re-import it, or start a new workspace"))
        files.append(SparkFile(entry["table"], file_url, entry["path"], size))
    order = list(TABLES)
    files.sort(key=lambda f: order.index(f.table))  # stable: import order within a table
    return files


# --- typing and validating one file -------------------------------------------


def stored_types(table: Table) -> dict[str, str]:
    """The Spark types of a workspace's stored rows (load.stored_schema)."""
    return {c.name: SPARK_TYPES[OUTPUT_TYPES[c.kind]] for c in table.columns}


def type_file(spark: Any, file: SparkFile, file_no: int, tz: str, profile: MappingProfile,
              ) -> tuple[Any, list[RowError], list[str]]:
    """(typed rows with _file/_row/_line/_bad/_problems, header errors, warnings): the rules
    of kefu.ingest.rules, compiled to Spark (rules_spark) as the embedded engine compiles
    them to SQL."""
    F = _F()
    table = TABLES[file.table]
    raw = spark.read.parquet(file.url).select("*", F.col("_metadata.row_index").alias(ROW_NO))
    types = {name: kind for name, kind in raw.dtypes if name != ROW_NO}
    headers = column_mapping(list(types), table.name, profile)
    shell = RawFile(file.source, {h: pa.chunked_array([], pa.null()) for h in types},
                    _no_lines())
    header_errors = check_header(shell, table, headers, profile)
    if header_errors:
        return None, header_errors, []
    sources = {h: (rules_spark.source_kind(kind), kind) for h, kind in types.items()}
    try:
        plan = plan_file(table, headers, sources, tz, profile)
    except Unreadable as exc:
        return None, [RowError(file.source, 1, exc.column, "", str(exc))], []
    warnings: list[str] = []
    absent = [c for c in table.columns if c.name not in headers and c.name not in DERIVED]
    if absent:
        warnings.append(f"{file.source}: optional columns absent, every row takes the default: "
                        + ", ".join(f"{c.name} ({describe_default(c)})" for c in absent))
    rows = rules_spark.with_bindings(raw, plan).select(
        *rules_spark.outputs(plan), F.lit(file_no).alias(FILE_NO), F.col(ROW_NO),
        (F.col(ROW_NO) + 1).alias(LINE), rules_spark.problems(plan).alias(PROBLEMS))
    return rows.withColumn(BAD, F.size(PROBLEMS) > 0), [], warnings


def _no_lines() -> Any:
    import numpy as np

    return np.zeros(0, dtype=np.int64)


def stored_file(spark: Any, file: SparkFile, file_no: int) -> Any | None:
    """A workspace's stored rows (validated at import), or None when not in the stored
    schema (an older kefu): then the file is validated like an export."""
    F = _F()
    table = TABLES[file.table]
    rows = spark.read.parquet(file.url).select("*", F.col("_metadata.row_index").alias(ROW_NO))
    if dict(rows.dtypes) != {**stored_types(table), ROW_NO: "bigint"}:
        return None
    return rows.select(*[c.name for c in table.columns], F.lit(file_no).alias(FILE_NO),
                       ROW_NO, (F.col(ROW_NO) + 1).alias(LINE),
                       F.array().cast(rules_spark.PROBLEMS_TYPE).alias(PROBLEMS),
                       F.lit(False).alias(BAD))


# --- the whole location --------------------------------------------------------


def load_spark(
    spark: Any,
    location: str | Path,
    tz: str,
    skip_bad_rows: bool = False,
    profile: MappingProfile | None = None,
    allow_empty: frozenset[str] = frozenset(),
) -> SparkShop:
    """load_dir inside Spark: the same files, rules, merges and cross-checks (see module)."""
    profile = profile or MappingProfile()
    url = location_url(location)
    files, workspace = discover(spark, url)
    _check_files(files, url)
    header_errors: list[RowError] = []
    warnings: list[str] = []
    parts: dict[str, list[Any]] = {}
    for file_no, file in enumerate(files):
        rows = stored_file(spark, file, file_no) if workspace else None
        if rows is None:
            rows, errors, notes = type_file(spark, file, file_no, tz, profile)
            header_errors += errors
            warnings += notes
        if rows is not None:
            parts.setdefault(file.table, []).append(rows)
    if header_errors:
        raise IngestError(header_errors)
    empty_ok = frozenset(TABLES) if workspace else allow_empty
    # typed and checked for repeated keys once, kept: the counts, the reports and the merge
    # all read these rows (and the optimizer never pushes a filter into the typing rules)
    checked = {name: _in_file_duplicates(TABLES[name], reduce(
        lambda a, b: a.unionByName(b), frames)).persist(_disk_and_memory())
        for name, frames in parts.items()}
    tables: dict[str, Any] = {}
    merge_warnings: dict[str, list[str]] = {}
    for name, rows in checked.items():
        kept = rows.filter(~_F().col(BAD) & ~_F().col(DUP) & ~_F().col(CLASH))
        tables[name], merge_warnings[name] = _merge(
            TABLES[name], kept.drop(PROBLEMS, DUP, CLASH, "_first"), len(parts[name]))
    # checkpointed: the metrics' plans start from these rows, not from the typing rules
    final = {name: rows.localCheckpoint() for name, rows in _cross_checked(tables).items()}
    counts = _file_counts(checked, final)
    header_errors += _empty_files(counts, files, empty_ok)
    for name in checked:
        warnings += _duplicate_warnings(counts, files, name) + merge_warnings[name]
    total = len(header_errors) + sum(c["problems"] for c in counts.values())
    errors = header_errors + (_collected(_problems(checked, final), files) if total else [])
    for rows in checked.values():
        rows.unpersist()
    if errors and not skip_bad_rows:
        raise IngestError(errors, None if total <= len(errors) else (
            str(IngestError(errors)) + f"\n(the first {len(errors)} of {total} bad cells)"))
    if errors:
        warnings += _skipped_warnings(errors, total)
    frames_out = {name: rows.filter(_F().col(CROSS).isNull()).select(
        *[c.name for c in TABLES[name].columns], "ordinal") for name, rows in final.items()}
    agents = _to_arrow(frames_out["agents"].orderBy("ordinal"))
    return SparkShop(frames_out, agents, files, tz, errors, warnings)


def _file_counts(checked: dict[str, Any], final: dict[str, Any]) -> dict[int, dict[str, int]]:
    """Per file number, in one Spark job set: rows, repeated rows dropped (identical), and
    problems (bad cells, clashing repeats, failed cross-table checks)."""
    F = _F()
    parts = [rows.groupBy(FILE_NO).agg(
        F.count(F.lit(1)).alias("rows"), F.sum(F.col(DUP).cast("long")).alias("dups"),
        F.sum(F.size(PROBLEMS) + F.col(CLASH).cast("int")).cast("long").alias("problems"))
        for rows in checked.values()]
    parts += [rows.filter(F.col(CROSS).isNotNull()).groupBy(FILE_NO).agg(
        F.lit(0).cast("long").alias("rows"), F.lit(0).cast("long").alias("dups"),
        F.count(F.lit(1)).alias("problems")) for rows in final.values()]
    counts: dict[int, dict[str, int]] = {}
    for row in reduce(lambda a, b: a.unionByName(b), parts).collect():
        entry = counts.setdefault(row[FILE_NO], {"rows": 0, "dups": 0, "problems": 0})
        for name in entry:
            entry[name] += int(row[name] or 0)
    return counts


def _disk_and_memory() -> Any:
    from pyspark import StorageLevel

    return StorageLevel.MEMORY_AND_DISK


def _check_files(files: list[SparkFile], url: str) -> None:
    for name, table in TABLES.items():
        if table.required_file and not any(f.table == name for f in files):
            raise IngestError([], f"no {name} file in {url} (expected {name}.parquet, "
                                  f"or Parquet files in {name}/)")
    other = [f.source for f in files if not f.source.lower().endswith(".parquet")]
    if other:
        raise IngestError([], (
            f"the Spark cluster reads Parquet; {other[0]} is not: import the exports first "
            "(kefu import --workspace DIR on a folder the cluster shares), or write them as "
            "Parquet"))


def _empty_files(counts: dict[int, dict[str, int]], files: list[SparkFile],
                 empty_ok: frozenset[str]) -> list[RowError]:
    """A file without rows is an error unless its table may be empty (--allow-empty)."""
    return [RowError(file.source, 1, "", "", (
        "the file has a header but no rows; pass --allow-empty "
        f"{file.table} if the table is empty on purpose")) for i, file in enumerate(files)
        if file.table not in empty_ok and not counts.get(i, {}).get("rows")]


def _duplicate_warnings(counts: dict[int, dict[str, int]], files: list[SparkFile], table: str
                        ) -> list[str]:
    warnings = []
    for i, file in enumerate(files):
        if file.table == table and (dups := counts.get(i, {}).get("dups")):
            names = ", ".join(TABLES[file.table].key)
            warnings.append(f"{file.source}: {dups} repeated rows identical to an earlier row "
                            f"with the same {names}; kept one")
    return warnings


def _content(table: Table) -> Any:
    F = _F()
    return F.struct(*[F.col(c.name) for c in table.columns])


def _in_file_duplicates(table: Table, rows: Any) -> Any:
    """validate.duplicate_keys, as columns: DUP marks a later good row repeating a key in its
    file with the same content (dropped), CLASH one with different content (an error);
    ``_first`` is the first good row of the key (content and line)."""
    F = _F()
    if not table.key:
        return rows.select("*", F.lit(None).cast("int").alias("_first"), F.lit(False).alias(DUP),
                           F.lit(False).alias(CLASH))
    from pyspark.sql import Window

    by_key = Window.partitionBy(FILE_NO, *table.key).orderBy(ROW_NO)
    good = ~F.col(BAD)
    first = F.first(F.when(good, F.struct(_content(table).alias("c"),
                                          F.col(LINE).alias("line"))), ignorenulls=True)
    marked = rows.withColumn("_first", first.over(by_key.rowsBetween(
        Window.unboundedPreceding, Window.unboundedFollowing)))
    later = good & (F.col("_first.line") != F.col(LINE))
    same = _content(table).eqNullSafe(F.col("_first.c"))
    return marked.withColumn(DUP, later & same).withColumn(CLASH, later & ~same)


def _problems(checked: dict[str, Any], final: dict[str, Any]) -> list[Any]:
    """The reports (file, line, column, value, reason): bad cells, clashing repeats and failed
    cross-table checks."""
    F = _F()
    problems = [rows.filter(BAD).select(FILE_NO, LINE, F.explode(PROBLEMS).alias("p"))
                .select(FILE_NO, LINE, "p.column", "p.value", "p.reason")
                for rows in checked.values()]
    for name, rows in checked.items():
        if key := TABLES[name].key:
            problems.append(rows.filter(CLASH).select(
                FILE_NO, LINE, F.lit(key[0]).alias("column"),
                F.col(key[0]).cast("string").alias("value"),
                F.concat(F.lit(f"duplicate {key[0]} with different content (first on row "),
                         F.col("_first.line").cast("string"), F.lit(")")).alias("reason")))
    problems += [rows.filter(F.col(CROSS).isNotNull()).select(
        FILE_NO, LINE, f"{CROSS}.column", f"{CROSS}.value", f"{CROSS}.reason")
        for rows in final.values()]
    return problems


ORDINAL_FILE_SHIFT = 2**40
"""ordinal = file number * 2^40 + row: load order (file by file, row by row) as one integer."""


def _merge(table: Table, rows: Any, n_files: int) -> tuple[Any, list[str]]:
    """merge.merge_files: one row per key (the file loaded last wins), or a multiset union
    (a row k times in one file and m times in another is kept max(k, m) times)."""
    F = _F()
    from pyspark.sql import Window

    rows = rows.withColumn("ordinal", F.col(FILE_NO) * ORDINAL_FILE_SHIFT + F.col(ROW_NO))
    if n_files == 1:
        return rows, []
    content = [c.name for c in table.columns]
    if not table.key:
        copies = Window.partitionBy(*content, FILE_NO).orderBy("ordinal")
        picks = Window.partitionBy(*content, "_copy").orderBy("ordinal")
        kept = (rows.withColumn("_copy", F.row_number().over(copies))
                .withColumn("_pick", F.row_number().over(picks))
                .filter("_pick = 1").drop("_copy", "_pick"))
        return kept, []
    by_key = Window.partitionBy(*table.key)
    kept = (rows.withColumn("_pick", F.row_number().over(
                by_key.orderBy(F.col(FILE_NO).desc(), "ordinal")))
            .withColumn("_first", F.min("ordinal").over(by_key))
            .filter("_pick = 1").withColumn("ordinal", F.col("_first")).drop("_pick", "_first"))
    conflicts = (rows.groupBy(*table.key)
                 .agg(F.countDistinct(F.to_json(_content(table))).alias("n"))
                 .filter("n > 1").count())
    warnings = []
    if conflicts:
        warnings.append(
            f"{table.name}: {conflicts} {', '.join(table.key)} values have different rows in "
            "different files; kept the row from the file whose name sorts last")
    return kept, warnings


def _cross_checked(tables: dict[str, Any]) -> dict[str, Any]:
    """load.cross_check, as a column: CROSS is the failed check of a row (column, value,
    reason), null when it passes; agent ids must exist in agents, an empty shop_id takes
    the agent's (orders: the only shop)."""
    F = _F()
    agents = tables["agents"].select(F.col("agent_id").alias("_agent"),
                                     F.col("shop_id").alias("_own_shop"))
    out: dict[str, Any] = {}
    for name, rows in tables.items():
        rows = rows.withColumn(CROSS, F.lit(None).cast(CROSS_TYPE))
        empty = F.col("shop_id").isNull() | (F.col("shop_id") == "")
        if name in AGENT_TABLES:
            rows = rows.join(F.broadcast(agents), F.col("agent_id") == F.col("_agent"), "left")
            rows = rows.withColumn(CROSS, F.when(F.col("_agent").isNull(), F.struct(
                F.lit("agent_id").alias("column"), F.col("agent_id").alias("value"),
                F.lit("agent_id not in agents").alias("reason"))))
            if "shop_id" in rows.columns:
                rows = rows.withColumn("shop_id", F.when(empty, F.col("_own_shop"))
                                       .otherwise(F.col("shop_id")))
            rows = rows.drop("_agent", "_own_shop")
        if name == "orders":
            shops = [row[0] for row in tables["agents"].select("shop_id").distinct().collect()]
            if len(shops) == 1:
                rows = rows.withColumn("shop_id", F.when(empty, F.lit(shops[0]))
                                       .otherwise(F.col("shop_id")))
            else:
                rows = rows.withColumn(CROSS, F.when(empty, F.struct(
                    F.lit("shop_id").alias("column"), F.lit("").alias("value"),
                    F.lit(f"shop_id is empty and agents name {len(shops)} shops")
                    .alias("reason"))))
        out[name] = rows
    return out


def _collected(problems: list[Any], files: list[SparkFile]) -> list[RowError]:
    """The first MAX_COLLECTED_ERRORS reports in load order."""
    every = reduce(lambda a, b: a.unionByName(b), problems)
    first = every.orderBy(FILE_NO, LINE, "column").limit(MAX_COLLECTED_ERRORS).collect()
    return [RowError(files[r[FILE_NO]].source, int(r[LINE]), r["column"], r["value"] or "",
                     r["reason"]) for r in first]


def _skipped_warnings(errors: list[RowError], total: int) -> list[str]:
    rows = {(e.file, e.line) for e in errors}
    lines = [f"skipped {len(rows)} bad rows in {len({e.file for e in errors})} files:"]
    lines += [f"  {e}" for e in errors[:MAX_SHOWN_ERRORS]]
    if total > MAX_SHOWN_ERRORS:
        lines.append(f"  … and {total - MAX_SHOWN_ERRORS} more")
    return lines


def _to_arrow(frame: Any) -> pa.Table:
    """A small frame on the driver (agents), with the types of the schema."""
    return pa.Table.from_pylist([row.asDict() for row in frame.collect()],
                                schema=_arrow_schema(frame))


def _arrow_schema(frame: Any) -> pa.Schema:
    kinds = {"string": pa.string(), "boolean": pa.bool_(), "double": pa.float64(),
             "bigint": pa.int64(), "timestamp": pa.timestamp("us")}
    return pa.schema([(name, kinds[kind]) for name, kind in frame.dtypes])
