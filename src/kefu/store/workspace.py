"""A workspace: a folder of typed Parquet files, one subfolder per canonical table,
and a manifest naming the files that are its data.

    <workspace>/kefu-manifest.json
    <workspace>/<table>/<sha256 of the source file>.parquet

Importing validates a file exactly as ``load_dir`` would and stores its typed rows
(timestamps as UTC instants) under the hash of the source bytes, so importing the
same file again changes nothing; overlapping exports merge at load time
(kefu.ingest.merge). ``load`` is ``load_dir`` on the folder, which reads only what
the manifest lists.

A batch lands all or nothing: its files are written into a staging folder, moved
beside the stored ones, and only then does one ``os.replace`` of the manifest make
them part of the workspace. A failed write (a full disk) removes what the batch
wrote; a killed import leaves files the manifest does not list, which are never
read and are removed by the next import or ``Workspace.load``.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import uuid
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from kefu.ingest import IngestError, LoadResult, RowError, load_dir, table_for_file
from kefu.ingest.load import (
    ProgressCallback,
    check_allow_empty,
    check_tz,
    read_typed,
    resolve_profile,
)
from kefu.ingest.manifest import (
    MANIFEST_NAME,
    Manifest,
    StoredFile,
    fsync_dir,
    read_manifest,
    unlisted_files,
    write_manifest,
)
from kefu.ingest.profile import MappingProfile
from kefu.ingest.schema import TABLES, Kind
from kefu.ingest.validate import LINE_COLUMN, TypedFile
from kefu.store.privacy import NO_PRIVACY, Privacy, protect, workspace_key

IMPORT_WRITE_ERRORS = (OSError, pa.ArrowException)
STORED_NAME = re.compile(r"^[0-9a-f]{64}\.parquet$")
STAGING_PREFIX = ".staging-"
LOCK_NAME = ".kefu-lock"


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


def write_rows(rows: pa.Table, path: Path) -> None:
    """Write one stored file and flush it to disk (tests replace this to fail or die)."""
    pq.write_table(rows, path)
    with open(path, "rb") as written:
        os.fsync(written.fileno())


@contextlib.contextmanager
def locked(folder: Path) -> Iterator[None]:
    """One writer (or repairer) at a time per workspace (POSIX advisory lock)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: imports must not overlap
        yield
        return
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / LOCK_NAME, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


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
        *,
        allow_empty: Collection[str] = (),
    ) -> PreparedImport:
        """Read and validate one file; raises IngestError if it has bad rows (unless skipping).

        ``new_agents``: agent ids being imported in the same batch (they count as known).
        ``allow_empty``: tables whose files may be empty or hold only a header.
        """
        check_tz(tz)
        empty_ok = check_allow_empty(allow_empty)
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
            raise IngestError([], f"cannot read {src}: {exc.strerror or exc}") from exc
        digest = hashlib.sha256(data).hexdigest()
        target = self.table_dir(name) / f"{digest}.parquet"
        mapping = resolve_profile(profile)
        typed = read_typed(src, name, src.name, tz, mapping, name in empty_ok)
        errors = typed.errors + self.unknown_agents(typed, new_agents)
        errors.sort(key=lambda e: (e.sheet, e.line, e.column))
        if errors and not skip_bad_rows:
            raise IngestError(errors)
        warnings = list(typed.warnings)
        if typed.duplicates:
            warnings.append(f"{src.name}: {typed.duplicates} repeated identical rows; kept one")
        rows = self.good_rows(typed, errors)
        if privacy.active:
            key = workspace_key(self.path) if privacy.pseudonymise_buyers else None
            rows = protect(rows, name, privacy, key)
        manifest = read_manifest(self.path)
        stored = manifest is not None and self.relative(target) in manifest.paths()
        report = ImportReport(src, name, rows.num_rows, target, stored, errors, warnings)
        if report.already_imported:
            report.rows = 0
        return PreparedImport(report, rows)

    def relative(self, stored: Path) -> str:
        return stored.relative_to(self.path).as_posix()

    def commit(self, prepared: PreparedImport) -> ImportReport:
        """Store one prepared file (a batch of one)."""
        return self.commit_all([prepared])[0]

    def commit_all(self, batch: list[PreparedImport]) -> list[ImportReport]:
        """Store a batch all or nothing: staged, moved, then one manifest switch."""
        with locked(self.path):
            manifest = self.repaired_manifest()
            listed = manifest.paths()
            new: list[PreparedImport] = []
            for item in batch:
                path = self.relative(item.report.stored_as)
                if path in listed:
                    item.report.already_imported, item.report.rows = True, 0
                else:
                    listed.add(path)
                    new.append(item)
            if new:
                self.store(manifest, new)
        return [item.report for item in batch]

    def store(self, manifest: Manifest, new: list[PreparedImport]) -> None:
        staging = self.path / f"{STAGING_PREFIX}{uuid.uuid4().hex}"
        moved: list[Path] = []
        current = ""
        try:
            staging.mkdir(parents=True)
            for item in new:
                current = str(item.report.stored_as)
                write_rows(item.rows, staging / item.report.stored_as.name)
            entries = []
            for item in new:
                final = item.report.stored_as
                current = str(final)
                final.parent.mkdir(parents=True, exist_ok=True)
                os.replace(staging / final.name, final)
                moved.append(final)
                entries.append(StoredFile(item.report.table, self.relative(final),
                                          item.report.source.name, item.rows.num_rows,
                                          final.stat().st_size))
            for folder in {path.parent for path in moved}:
                fsync_dir(folder)
            current = MANIFEST_NAME
            # The switch: before it the workspace is the old one, after it the new one.
            write_manifest(self.path, Manifest(manifest.files + entries))
        except IMPORT_WRITE_ERRORS as exc:
            for path in moved:
                path.unlink(missing_ok=True)
            raise IngestError([], (
                f"cannot write {current}: {exc}; nothing of this import was stored "
                "(the workspace is as it was before)"
            )) from exc
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def repaired_manifest(self) -> Manifest:
        """The manifest after removing leftovers of interrupted imports (call under lock).

        A workspace written before manifests existed is adopted: its stored files were
        written whole (renamed into place), so they are listed as they are.
        """
        manifest = read_manifest(self.path)
        if manifest is None:
            manifest = Manifest(self.adoptable())
            if manifest.files:
                write_manifest(self.path, manifest)
        for leftover in self.leftovers(manifest):
            if leftover.is_dir():
                shutil.rmtree(leftover, ignore_errors=True)
            else:
                leftover.unlink(missing_ok=True)
        return manifest

    def adoptable(self) -> list[StoredFile]:
        files = []
        for name in TABLES:
            for path in sorted(self.table_dir(name).glob("*.parquet")):
                if STORED_NAME.match(path.name):
                    rows = pq.ParquetFile(path).metadata.num_rows
                    files.append(StoredFile(name, self.relative(path),
                                            "(imported before manifests)", rows,
                                            path.stat().st_size))
        return files

    def leftovers(self, manifest: Manifest) -> list[Path]:
        """What kefu wrote that the manifest does not list: staging folders, partial and
        unlisted stored files, a manifest that was never switched in."""
        if not self.path.is_dir():
            return []
        found = [p for p in self.path.iterdir()
                 if p.name.startswith(STAGING_PREFIX) or p.name == MANIFEST_NAME + ".tmp"]
        # Only files kefu names itself: a user's own file in a table folder stays.
        return found + [p for p in unlisted_files(self.path, manifest)
                        if STORED_NAME.match(p.name) or p.name.endswith(".parquet.partial")]

    def import_file(
        self,
        src: Path,
        table: str | None = None,
        tz: str = "Asia/Shanghai",
        skip_bad_rows: bool = False,
        profile: Path | MappingProfile | None = None,
        privacy: Privacy = NO_PRIVACY,
        *,
        allow_empty: Collection[str] = (),
    ) -> ImportReport:
        """Validate ``src`` and store its typed rows; importing it again changes nothing."""
        return self.import_files([src], table, tz, skip_bad_rows, profile, privacy,
                                 allow_empty=allow_empty)[0]

    def import_files(
        self,
        sources: list[Path],
        table: str | None = None,
        tz: str = "Asia/Shanghai",
        skip_bad_rows: bool = False,
        profile: Path | MappingProfile | None = None,
        privacy: Privacy = NO_PRIVACY,
        *,
        allow_empty: Collection[str] = (),
    ) -> list[ImportReport]:
        """Import several files: all are validated before any is written, and the batch
        is stored all or nothing (see the module docstring)."""
        prepared: dict[int, PreparedImport] = {}
        errors: list[RowError] = []
        new_agents: list[pa.Array] = []
        # Agents first, so the other files of the batch may name the new agents.
        is_agents = [(table or table_for_file(src)) == "agents" for src in sources]
        order = sorted(range(len(sources)), key=lambda i: not is_agents[i])
        for i in order:
            known = pa.concat_arrays(new_agents) if new_agents else None
            try:
                item = self.prepare(sources[i], table, tz, skip_bad_rows, profile, known,
                                    privacy, allow_empty=allow_empty)
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
        return self.commit_all([prepared[i] for i in range(len(sources))])

    def load(
        self,
        tz: str = "Asia/Shanghai",
        skip_bad_rows: bool = False,
        progress: ProgressCallback | None = None,
    ) -> LoadResult:
        """All imported tables, merged and checked across tables (see ingest.load_dir);
        leftovers of interrupted imports are removed first."""
        with locked(self.path):
            self.repaired_manifest()
        return load_dir(self.path, tz=tz, skip_bad_rows=skip_bad_rows, progress=progress)

    def agent_ids(self) -> pa.Array | None:
        manifest = read_manifest(self.path)
        if manifest is None:
            return None
        files = [self.path / f.path for f in manifest.files if f.table == "agents"]
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

