"""Loading: find the files of a folder, read and type them, merge, check across tables.

The order is fixed so every rule has one place:
read (readers) → type and check each file (validate) → merge files of a table
(merge) → check across tables (agent ids, shop defaults) → final typed tables.
Nothing is returned unless every row is good or the caller asked to skip bad rows.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from kefu.ingest import convert
from kefu.ingest.dataset import Dataset
from kefu.ingest.errors import MAX_SHOWN_ERRORS, IngestError, RowError
from kefu.ingest.manifest import read_manifest, unlisted_files, vouched_files
from kefu.ingest.merge import merge_files
from kefu.ingest.profile import MappingProfile, load_profile
from kefu.ingest.readers import SUFFIXES, read_file, records_to_raw
from kefu.ingest.schema import TABLES, Kind, Table
from kefu.ingest.validate import (
    FILE_COLUMN,
    LINE_COLUMN,
    ROW_COLUMN,
    TypedFile,
    type_file,
)

ProgressCallback = Callable[[int, int, str], None]
"""(bytes read, bytes in all, label) → None: for a terminal bar or a web page; the
core never draws one itself."""
AGENT_TABLES = ("messages", "ratings", "cases", "sessions", "shifts")


@dataclass
class LoadResult:
    dataset: Dataset
    skipped: list[RowError] = field(default_factory=list)
    """Bad rows that were left out (only with skip_bad_rows)."""
    warnings: list[str] = field(default_factory=list)


def table_for_file(path: Path) -> str | None:
    """The canonical table a file name belongs to: agents.csv, messages_2024-06.xlsx …"""
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES or path.name.startswith((".", "~$")):
        return None
    stem = path.name[: -len(suffix)].lower()
    for name in TABLES:
        if stem == name or stem.startswith((f"{name}_", f"{name}-", f"{name}.")):
            return name
    return None


def discover(folder: Path) -> dict[str, list[Path]]:
    """Files per table: canonical names at the top, or any file in a folder named after a table.

    A workspace (a folder with a manifest) yields exactly the files its manifest lists,
    in import order; leftovers of interrupted imports are not read.
    """
    found: dict[str, list[Path]] = {name: [] for name in TABLES}
    manifest = read_manifest(folder)
    if manifest is not None:
        found.update(vouched_files(folder, manifest))
        return found
    for entry in folder.iterdir():
        if entry.is_file():
            name = table_for_file(entry)
            if name is not None:
                found[name].append(entry)
        elif entry.is_dir() and entry.name in TABLES:
            for inner in entry.iterdir():
                if (inner.is_file() and inner.suffix.lower() in SUFFIXES
                        and not inner.name.startswith((".", "~$"))):
                    found[entry.name].append(inner)
    for paths in found.values():
        # File-name order decides load order and which file wins a conflict.
        paths.sort(key=lambda p: (p.name, str(p.relative_to(folder))))
    return found


def check_tz(tz: str) -> None:
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise IngestError([], f"unknown time zone {tz!r}") from exc


def resolve_profile(profile: Path | MappingProfile | None) -> MappingProfile:
    if profile is None:
        return MappingProfile()
    if isinstance(profile, MappingProfile):
        return profile
    try:
        return load_profile(profile)
    except ValueError as exc:
        raise IngestError([], str(exc)) from exc


def check_allow_empty(allow_empty: Collection[str]) -> frozenset[str]:
    unknown = sorted(set(allow_empty) - set(TABLES))
    if unknown:
        raise IngestError([], (f"--allow-empty: unknown table {unknown[0]!r}; expected one of "
                               f"{', '.join(TABLES)}"))
    return frozenset(allow_empty)


# What a damaged file can make the libraries raise; each becomes an IngestError naming it.
UNREADABLE = (OSError, pa.ArrowException, ValueError, UnicodeError, OverflowError,
              IndexError, KeyError, duckdb.Error)


def read_typed(
    file: Path, name: str, source: str, tz: str, mapping: MappingProfile, allow_empty: bool
) -> TypedFile:
    """Read and type one file; anything a damaged file makes a library raise names it."""
    try:
        raw = read_file(file, table=name, source=source, profile=mapping)
        return type_file(raw, TABLES[name], tz, mapping, allow_empty=allow_empty)
    except IngestError:
        raise
    except UNREADABLE as exc:
        raise IngestError([], f"cannot read {source}: {type(exc).__name__}: {exc}") from exc


def stored_schema(name: str) -> pa.Schema:
    """The schema of a table's rows as a workspace stores them (Workspace.good_rows)."""
    types = {Kind.TEXT: pa.string(), Kind.ENUM: pa.string(), Kind.BOOL: pa.bool_(),
             Kind.MONEY: pa.float64(), Kind.INT: pa.int64(),
             Kind.TIMESTAMP: pa.timestamp("us", "UTC")}
    return pa.schema([(c.name, types[c.kind]) for c in TABLES[name].columns])


def validated_rows(file: Path, name: str, source: str) -> TypedFile | None:
    """A workspace's stored rows, validated when they were imported: read, not checked again.

    None when the file is not in the schema this kefu stores (an older workspace):
    then it is read and validated like any export.
    """
    if file.suffix != ".parquet":
        return None
    try:
        rows = pq.read_table(file)
    except (OSError, pa.ArrowException) as exc:
        raise IngestError([], f"cannot read {source}: {exc}") from exc
    if not rows.schema.equals(stored_schema(name)):
        return None
    columns = {f.name: (rows.column(f.name).cast(convert.TIMESTAMP_US)
                        if pa.types.is_timestamp(f.type) else rows.column(f.name))
               for f in rows.schema}
    numbers = np.arange(rows.num_rows, dtype=np.int64)
    columns[ROW_COLUMN] = pa.array(numbers)
    columns[LINE_COLUMN] = pa.array(numbers + 1)  # a stored row's line is its position
    return TypedFile(source, name, pa.table(columns), [], rows.num_rows)


def load_dir(
    path: Path,
    tz: str = "Asia/Shanghai",
    skip_bad_rows: bool = False,
    profile: Path | None = None,
    progress: ProgressCallback | None = None,
    *,
    allow_empty: Collection[str] = (),
) -> LoadResult:
    """Load the canonical files of a folder (see shared/spec/cli.md) into a Dataset.

    ``allow_empty``: tables whose files may be empty or hold only a header.
    """
    check_tz(tz)
    empty_ok = check_allow_empty(allow_empty)
    mapping = resolve_profile(profile)
    if not path.is_dir():
        raise IngestError([], f"{path} is not a folder")
    found = discover(path)
    warnings: list[str] = []
    manifest = read_manifest(path)
    if manifest is not None:
        # A workspace: empty files were allowed (or refused) when they were imported.
        empty_ok = frozenset(TABLES)
        ignored = unlisted_files(path, manifest)
        if ignored:
            warnings.append(
                f"{path}: ignored {len(ignored)} files the workspace manifest does not list "
                "(left by an interrupted import; the next kefu import removes them)")
    for name, table in TABLES.items():
        if table.required_file and not found[name]:
            raise IngestError([], (
                f"no {name} file in {path} (expected {name}.csv, .xlsx, .parquet or .jsonl, "
                f"or files in {name}/)"
            ))
    typed: dict[str, list[TypedFile]] = {}
    try:
        total = sum(p.stat().st_size for paths in found.values() for p in paths)
    except OSError as exc:
        raise IngestError([], f"cannot read {exc.filename}: {exc.strerror}") from exc
    done = 0
    for name, paths in found.items():
        for file in paths:
            source = str(file.relative_to(path))
            if progress is not None:
                progress(done, total, f"reading {source}")
            stored = validated_rows(file, name, source) if manifest is not None else None
            typed.setdefault(name, []).append(
                stored or read_typed(file, name, source, tz, mapping, name in empty_ok))
            done += file.stat().st_size
    if progress is not None:
        progress(done, total, "read")
    result = assemble(typed, tz, skip_bad_rows)
    result.warnings[:0] = warnings
    return result


def load_records(
    tables: Mapping[str, Sequence[Mapping[str, object]]],
    tz: str = "Asia/Shanghai",
    skip_bad_rows: bool = False,
) -> LoadResult:
    """Build a Dataset from Python records through the same checks as files.

    Errors name the file ``<table>`` and line = record index + 2 (as if line 1 were
    a header). Values may be str, int, float, bool, None or datetime.
    """
    check_tz(tz)
    for name in tables:
        if name not in TABLES:
            raise IngestError([], f"unknown table {name!r}; expected one of {', '.join(TABLES)}")
    for name, table in TABLES.items():
        if table.required_file and name not in tables:
            raise IngestError([], f"no {name} records given")
    mapping = MappingProfile()
    typed: dict[str, list[TypedFile]] = {}
    for name, records in tables.items():
        lines = np.arange(2, len(records) + 2, dtype=np.int64)
        raw = records_to_raw(records, f"<{name}>", lines)
        # Records are given by code: an empty list is an empty table on purpose.
        typed[name] = [type_file(raw, TABLES[name], tz, mapping, allow_empty=True)]
    return assemble(typed, tz, skip_bad_rows)


def assemble(typed: dict[str, list[TypedFile]], tz: str, skip_bad_rows: bool) -> LoadResult:
    sources: list[str] = []
    located: list[TypedFile] = []
    errors: list[RowError] = []
    warnings: list[str] = []
    merged: dict[str, pa.Table] = {}
    for name, files in typed.items():
        parts: list[pa.Table] = []
        offset = 0
        for file in files:
            errors += file.errors
            warnings += file.warnings
            if file.duplicates:
                warnings.append(
                    f"{file.source}: {file.duplicates} repeated rows identical to an earlier row "
                    f"with the same {', '.join(TABLES[name].key)}; kept one"
                )
            rows = file.rows
            rows = rows.append_column(FILE_COLUMN, pa.array(
                np.full(rows.num_rows, len(sources), dtype=np.int64)))
            rows = rows.append_column("ordinal", pc.add(rows.column(ROW_COLUMN), offset))
            sources.append(file.source)
            located.append(file)
            offset += file.num_rows
            parts.append(rows)
        table, conflict_warnings = merge_files(TABLES[name], parts)
        warnings += conflict_warnings
        merged[name] = table

    cross_errors = cross_check(merged, located)
    errors += cross_errors
    order = {source: i for i, source in enumerate(sources)}
    errors.sort(key=lambda e: (order.get(e.file, len(order)), e.sheet, e.line, e.column))
    if errors and not skip_bad_rows:
        raise IngestError(errors)
    if errors:
        bad_files = {e.file for e in errors}
        rows = {(e.file, e.line) for e in errors}
        warnings.append(f"skipped {len(rows)} bad rows in {len(bad_files)} files:")
        warnings += [f"  {e}" for e in errors[:MAX_SHOWN_ERRORS]]
        if len(errors) > MAX_SHOWN_ERRORS:
            warnings.append(f"  … and {len(errors) - MAX_SHOWN_ERRORS} more")

    final = {name: finish(TABLES[name], table, tz) for name, table in merged.items()}
    dataset = Dataset(
        agents=final["agents"],
        messages=final["messages"],
        orders=final.get("orders"),
        ratings=final.get("ratings"),
        cases=final.get("cases"),
        sessions=final.get("sessions"),
        shifts=final.get("shifts"),
        tz=tz,
    )
    return LoadResult(dataset, errors, warnings)


def cross_check(tables: dict[str, pa.Table], files: list[TypedFile]) -> list[RowError]:
    """Agent ids must exist in agents; empty shop_id takes the agent's (or the only) shop.

    Rows failing a check are removed from ``tables`` in place.
    """
    errors: list[RowError] = []
    agents = tables["agents"]
    ids = agents.column("agent_id")
    shops = agents.column("shop_id")

    def report(name: str, bad: np.ndarray, column: str, reason: str) -> None:
        table = tables[name]
        picked = pa.array(np.flatnonzero(bad))
        indices = table.column(FILE_COLUMN).take(picked).to_pylist()
        lines = table.column(LINE_COLUMN).take(picked).to_pylist()
        raw_rows = table.column(ROW_COLUMN).take(picked).to_pylist()
        values = table.column(column).take(picked).to_pylist()
        for index, line, row, value in zip(indices, lines, raw_rows, values, strict=True):
            file = files[index]
            errors.append(RowError(file.source, line, column, value or "", reason,
                                   file.sheet(row)))
        tables[name] = table.filter(pa.array(~bad))

    for name in AGENT_TABLES:
        if name not in tables:
            continue
        table = tables[name]
        unknown = ~convert.mask(pc.is_in(table.column("agent_id"), value_set=ids))
        if unknown.any():
            report(name, unknown, "agent_id", "agent_id not in agents")
            table = tables[name]
        if "shop_id" in table.column_names:
            shop = table.column("shop_id")
            empty = pc.or_kleene(pc.is_null(shop), pc.equal(shop, ""))
            own = shops.take(pc.index_in(table.column("agent_id"), value_set=ids))
            filled = pc.if_else(empty, own, shop)
            tables[name] = table.set_column(
                table.schema.get_field_index("shop_id"), "shop_id", filled)

    if "orders" in tables:
        table = tables["orders"]
        shop = table.column("shop_id")
        empty = convert.mask(pc.or_kleene(pc.is_null(shop), pc.equal(shop, "")))
        if empty.any():
            distinct = pc.unique(shops).to_pylist()
            if len(distinct) == 1:
                filled = pc.if_else(pa.array(empty), distinct[0], shop)
                tables["orders"] = table.set_column(
                    table.schema.get_field_index("shop_id"), "shop_id", filled)
            else:
                report("orders", empty, "shop_id",
                       f"shop_id is empty and agents name {len(distinct)} shops")
    return errors


def finish(table: Table, rows: pa.Table, tz: str) -> pa.Table:
    """Final column order and types: X_at (UTC) then X_local, …, ordinal last."""
    ordinal = rows.column("ordinal").to_numpy()
    if len(ordinal) > 1 and not (ordinal[1:] > ordinal[:-1]).all():
        rows = rows.sort_by("ordinal")
    columns: dict[str, pa.ChunkedArray] = {}
    for column in table.columns:
        values = rows.column(column.name)
        if column.kind is Kind.TIMESTAMP:
            values = values.cast(convert.TIMESTAMP_US)
            columns[column.name] = values
            columns[column.name.removesuffix("_at") + "_local"] = convert.local_time(values, tz)
        else:
            columns[column.name] = values
    columns["ordinal"] = rows.column("ordinal").cast(pa.int64())
    return pa.table(columns)
