"""``kefu import --profile NAME``: platform files through their profile into a workspace.

Canonical records (messages, ratings, new agents) are written as JSON Lines in a
temporary folder and imported by ``Workspace.import_files`` — same validation,
privacy, hashing (the conversion is deterministic, so importing a file twice
changes nothing). Reported values go to ``<workspace>/reports/``. With
``dry_run`` everything is read and checked, nothing is written.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow.parquet as pq

from kefu.ingest.errors import IngestError, RowError
from kefu.ingest.platform_files import Converted, convert
from kefu.ingest.platforms import PlatformProfile
from kefu.ingest.reports import REPORTS_DIR, save_reported
from kefu.store.privacy import NO_PRIVACY, Privacy
from kefu.store.workspace import ImportReport, Workspace


@dataclass
class PlatformImport:
    converted: list[Converted]
    imports: list[ImportReport] = field(default_factory=list)
    rejected: list[RowError] = field(default_factory=list)
    reports_stored: list[Path] = field(default_factory=list)


def workspace_agents(path: Path) -> dict[str, str]:
    """agent_id → name of the agents already imported into a workspace."""
    out: dict[str, str] = {}
    for f in sorted((path / "agents").glob("*.parquet")):
        for r in pq.read_table(f, columns=["agent_id", "name"]).to_pylist():
            out[r["agent_id"]] = r["name"] or r["agent_id"]
    return out


def import_platform_files(
    workspace: Path,
    files: list[Path],
    profile: PlatformProfile,
    tz: str = "Asia/Shanghai",
    skip_bad_rows: bool = False,
    privacy: Privacy = NO_PRIVACY,
    period: tuple[dt.date, dt.date] | None = None,
    dry_run: bool = False,
) -> PlatformImport:
    known = workspace_agents(workspace)
    result = PlatformImport([convert(f, profile, known, period) for f in files])
    errors = [e for c in result.converted for e in c.errors]
    if errors and not skip_bad_rows and not dry_run:
        raise IngestError(errors)
    result.rejected += errors
    with tempfile.TemporaryDirectory(prefix="kefu-import-") as tmp:
        written, origin = write_canonical(result.converted, Path(tmp))
        if written:
            result.imports, rejected = import_canonical(
                Workspace(workspace), written, origin, tz, skip_bad_rows, privacy, dry_run)
            result.rejected += rejected
    if not dry_run:
        for c in result.converted:
            if c.report is not None and c.report.values:
                key = c.source.read_bytes() + profile.model_dump_json().encode()
                result.reports_stored.append(save_reported(workspace, c.report.values, key))
    return result


def write_canonical(
    converted: list[Converted], folder: Path
) -> tuple[list[Path], dict[str, tuple[str, list[int]]]]:
    """JSON Lines per table and source file; ``origin``: jsonl name → (source, source lines)."""
    written: list[Path] = []
    origin: dict[str, tuple[str, list[int]]] = {}
    agents: dict[str, dict[str, str | None]] = {}
    for c in converted:
        for record in c.tables.get("agents", []):
            agents.setdefault(str(record["agent_id"]), record)
    if agents:
        path = folder / "agents_platform.jsonl"
        write_jsonl(path, list(agents.values()))
        written.append(path)
        origin[path.name] = ("(agents found in the files)", [])
    for c in converted:
        for table, records in c.tables.items():
            if table == "agents" or not records:
                continue
            path = folder / f"{table}_{c.source.stem}.jsonl"
            write_jsonl(path, records)
            written.append(path)
            origin[path.name] = (c.source.name, c.lines.get(table, []))
    return written, origin


def write_jsonl(path: Path, records: list[dict[str, str | None]]) -> None:
    with path.open("w", encoding="utf-8") as f:
        for record in records:
            f.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")


def import_canonical(
    ws: Workspace, files: list[Path], origin: dict[str, tuple[str, list[int]]], tz: str,
    skip_bad_rows: bool, privacy: Privacy, dry_run: bool,
) -> tuple[list[ImportReport], list[RowError]]:
    """Validate (and unless dry_run, store) the converted files; errors point at the source."""
    def at_source(e: RowError) -> RowError:
        source, lines = origin.get(e.file, (e.file, []))
        line = lines[e.line - 1] if 0 < e.line <= len(lines) else e.line
        return RowError(source, line, e.column, e.value, e.reason)

    if dry_run:
        reports: list[ImportReport] = []
        rejected: list[RowError] = []
        known = None
        for f in sorted(files, key=lambda p: not p.name.startswith("agents")):
            prepared = ws.prepare(f, tz=tz, skip_bad_rows=True, new_agents=known, privacy=privacy)
            if f.name.startswith("agents"):
                known = prepared.rows.column("agent_id").combine_chunks()
            reports.append(prepared.report)
            rejected += [at_source(e) for e in prepared.report.skipped]
        return reports, rejected
    try:
        reports = ws.import_files(files, tz=tz, skip_bad_rows=skip_bad_rows, privacy=privacy)
    except IngestError as exc:
        if exc.message is not None:
            raise
        raise IngestError([at_source(e) for e in exc.errors]) from exc
    return reports, [at_source(e) for r in reports for e in r.skipped]


__all__ = ["REPORTS_DIR", "PlatformImport", "import_platform_files", "workspace_agents"]
