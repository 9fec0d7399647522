"""A workspace: a folder of typed Parquet files, one subfolder per canonical table.

    <workspace>/<table>/<sha256 of the source file>.parquet

Importing validates a file exactly as ``load_dir`` would and stores its typed rows
(timestamps as UTC instants) under the hash of the source bytes, so importing the
same file again changes nothing; overlapping exports merge at load time
(kefu.ingest.merge). ``load`` is ``load_dir`` on the folder.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from kefu.ingest import IngestError, LoadResult, RowError, load_dir, table_for_file
from kefu.ingest.load import check_tz, resolve_profile
from kefu.ingest.profile import MappingProfile
from kefu.ingest.readers import read_file
from kefu.ingest.schema import TABLES, Kind
from kefu.ingest.validate import LINE_COLUMN, TypedFile, type_file
from kefu.store.privacy import NO_PRIVACY, Privacy, protect, workspace_key

IMPORT_WRITE_ERRORS = (OSError, pa.ArrowException)


@dataclass
class ImportReport:
    source: Path
    table: str
    rows: int
    """Rows stored (0 when the file was already imported)."""
    stored_as: Path
    already_imported: bool = False
    skipped: list[RowError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass
class PreparedImport:
    """A validated file, ready to be written."""

    report: ImportReport
    rows: pa.Table


class Workspace:
    def __init__(self, path: Path) -> None:
        self.path = path

    def table_dir(self, table: str) -> Path:
        return self.path / table

    def prepare(
        self,
        src: Path,
        table: str | None = None,
        tz: str = "Asia/Shanghai",
        skip_bad_rows: bool = False,
        profile: Path | MappingProfile | None = None,
        new_agents: pa.Array | None = None,
        privacy: Privacy = NO_PRIVACY,
    ) -> PreparedImport:
        """Read and validate one file; raises IngestError if it has bad rows (unless skipping).

        ``new_agents``: agent ids being imported in the same batch (they count as known).
        """
        check_tz(tz)
        name = table or table_for_file(src)
        if name is None:
            raise IngestError([], (
                f"cannot tell which table {src.name} holds; name it after a table "
                f"({', '.join(TABLES)}) or pass --table"
            ))
        if name not in TABLES:
            raise IngestError([], f"unknown table {name!r}; expected one of {', '.join(TABLES)}")
        try:
            data = src.read_bytes()
        except OSError as exc:
            raise IngestError([], f"cannot read {src}: {exc}") from exc
        digest = hashlib.sha256(data).hexdigest()
        target = self.table_dir(name) / f"{digest}.parquet"
        typed = type_file(read_file(src, table=name, source=src.name), TABLES[name], tz,
                          resolve_profile(profile))
        errors = typed.errors + self.unknown_agents(typed, new_agents)
        errors.sort(key=lambda e: (e.line, e.column))
        if errors and not skip_bad_rows:
            raise IngestError(errors)
        warnings = []
        if typed.duplicates:
            warnings.append(f"{src.name}: {typed.duplicates} repeated identical rows; kept one")
        rows = self.good_rows(typed, errors)
        if privacy.active:
            key = workspace_key(self.path) if privacy.pseudonymise_buyers else None
            rows = protect(rows, name, privacy, key)
        report = ImportReport(src, name, rows.num_rows, target, target.exists(), errors, warnings)
        if report.already_imported:
            report.rows = 0
        return PreparedImport(report, rows)

    def commit(self, prepared: PreparedImport) -> ImportReport:
        report = prepared.report
        if report.already_imported:
            return report
        report.stored_as.parent.mkdir(parents=True, exist_ok=True)
        partial = report.stored_as.with_suffix(".parquet.partial")
        try:
            pq.write_table(prepared.rows, partial)
            # A reader never sees half a file: rename is atomic on one file system.
            os.replace(partial, report.stored_as)
        except IMPORT_WRITE_ERRORS as exc:
            partial.unlink(missing_ok=True)
            raise IngestError([], f"cannot write {report.stored_as}: {exc}") from exc
        return report

    def import_file(
        self,
        src: Path,
        table: str | None = None,
        tz: str = "Asia/Shanghai",
        skip_bad_rows: bool = False,
        profile: Path | MappingProfile | None = None,
        privacy: Privacy = NO_PRIVACY,
    ) -> ImportReport:
        """Validate ``src`` and store its typed rows; importing it again changes nothing."""
        return self.commit(
            self.prepare(src, table, tz, skip_bad_rows, profile, privacy=privacy)
        )

    def import_files(
        self,
        sources: list[Path],
        table: str | None = None,
        tz: str = "Asia/Shanghai",
        skip_bad_rows: bool = False,
        profile: Path | MappingProfile | None = None,
        privacy: Privacy = NO_PRIVACY,
    ) -> list[ImportReport]:
        """Import several files: all are validated before any is written."""
        prepared: dict[int, PreparedImport] = {}
        errors: list[RowError] = []
        new_agents: list[pa.Array] = []
        # Agents first, so the other files of the batch may name the new agents.
        is_agents = [(table or table_for_file(src)) == "agents" for src in sources]
        order = sorted(range(len(sources)), key=lambda i: not is_agents[i])
        for i in order:
            known = pa.concat_arrays(new_agents) if new_agents else None
            try:
                item = self.prepare(
                    sources[i], table, tz, skip_bad_rows, profile, known, privacy
                )
            except IngestError as exc:
                if exc.message is not None:
                    raise
                errors += exc.errors
                continue
            prepared[i] = item
            if is_agents[i]:
                new_agents.append(item.rows.column("agent_id").combine_chunks())
        if errors:
            raise IngestError(errors)
        return [self.commit(prepared[i]) for i in range(len(sources))]

    def load(
        self,
        tz: str = "Asia/Shanghai",
        skip_bad_rows: bool = False,
        progress: bool = False,
    ) -> LoadResult:
        """All imported tables, merged and checked across tables (see ingest.load_dir)."""
        return load_dir(self.path, tz=tz, skip_bad_rows=skip_bad_rows, progress=progress)

    def agent_ids(self) -> pa.Array | None:
        files = sorted(self.table_dir("agents").glob("*.parquet"))
        if not files:
            return None
        ids = [pq.read_table(f, columns=["agent_id"]).column("agent_id") for f in files]
        return pa.chunked_array(ids).combine_chunks().unique()

    def unknown_agents(self, typed: TypedFile, new_agents: pa.Array | None) -> list[RowError]:
        """Agent ids not in the workspace's agents, when agents were imported already."""
        if "agent_id" not in typed.rows.column_names or typed.table == "agents":
            return []
        stored = self.agent_ids()
        if stored is None and new_agents is None:
            return []  # no agents yet: checked when the workspace is loaded
        known = pa.concat_arrays([ids.cast(pa.string()) for ids in (stored, new_agents)
                                  if ids is not None])
        rows = typed.rows
        unknown = pc.invert(pc.is_in(rows.column("agent_id"), value_set=known))
        bad = rows.filter(unknown)
        return [
            RowError(typed.source, line, "agent_id", value, "agent_id not in agents")
            for line, value in zip(bad.column(LINE_COLUMN).to_pylist(),
                                   bad.column("agent_id").to_pylist(), strict=True)
        ]

    @staticmethod
    def good_rows(typed: TypedFile, errors: list[RowError]) -> pa.Table:
        """Typed rows to store: bad rows out, timestamps as zoned UTC so any reader is right."""
        rows = typed.rows
        bad_lines = {e.line for e in errors if e.file == typed.source}
        if bad_lines:
            keep = pc.invert(pc.is_in(rows.column(LINE_COLUMN), value_set=pa.array(
                sorted(bad_lines), pa.int64())))
            rows = rows.filter(keep)
        table = TABLES[typed.table]
        columns = {}
        for column in table.columns:
            values = rows.column(column.name)
            if column.kind is Kind.TIMESTAMP:
                values = values.cast(pa.timestamp("us", "UTC"))
            columns[column.name] = values
        return pa.table(columns)

