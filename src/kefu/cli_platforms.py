"""CLI commands of the platform profiles: ``kefu profiles``, ``kefu compare-report`` and the
platform path of ``kefu import --profile NAME [--dry-run]`` (registered in cli.py)."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from kefu.console import print_error

err = Console(stderr=True)
out = Console()


def fail(message: str) -> NoReturn:
    print_error(message)
    raise typer.Exit(2)


def profiles(
    show: Annotated[str | None, typer.Argument(help="a profile to print in full")] = None,
) -> None:
    """The shipped platform profiles (kefu import --profile NAME); a YAML file works too."""
    from kefu.ingest.platforms import builtin_profiles, load_platform_profile

    files = builtin_profiles()
    if show is not None:
        if show not in files:
            fail(f"no profile {show!r}; shipped: {', '.join(files)}")
        sys.stdout.write(files[show].read_text(encoding="utf-8"))
        return
    table = Table("name", "kind", "layout", "platform", "title")
    for name in files:
        p = load_platform_profile(name)
        table.add_row(name, p.kind, p.status, p.platform, p.title)
    out.print(table)
    out.print("layout: documented = seen in public material; described = from the issue only, "
              "not verified against a real file. Sources: kefu profiles NAME, docs/data.md.",
              highlight=False)


def platform_import(
    files: list[Path], workspace: Path, profile: Path | None, tz: str, skip_bad_rows: bool,
    privacy: Any, dry_run: bool, start: str | None = None, end: str | None = None,
) -> bool:
    """The import of platform files (or any dry run); False leaves the import to cli.py."""
    from kefu.ingest import IngestError
    from kefu.ingest.platforms import is_platform_profile, load_platform_profile
    from kefu.store.platform_import import import_platform_files

    if profile is None or not is_platform_profile(profile):
        if dry_run:
            mapping_dry_run(files, workspace, profile, tz)
            return True
        return False
    try:
        prof = load_platform_profile(profile)
        period = period_of(start, end)
        result = import_platform_files(workspace, files, prof, tz, skip_bad_rows, privacy,
                                       period, dry_run)
    except (IngestError, ValueError, OSError) as exc:
        fail(str(exc))
        return True
    verb = "would import" if dry_run else "imported"
    for c in result.converted:
        err.print(f"[bold]{c.source.name}[/] — profile {prof.name} ({prof.title}; {prof.kind}, "
                  f"layout {prof.status})", highlight=False)
        for line in c.preview:
            err.print(f"  {line}", highlight=False, soft_wrap=True)
        for d in c.roles:
            err.print(f"  role: {d.sender} → {d.role} ({d.reason}) × {d.messages}",
                      highlight=False)
        for note in c.notes:
            err.print(f"  {note}", highlight=False, soft_wrap=True)
    for r in result.imports:
        state = "already imported" if r.already_imported and not dry_run else (
            f"{verb} {r.rows} rows")
        err.print(f"{r.table}: {state}", highlight=False)
    if result.reports_stored or (dry_run and any(c.report for c in result.converted)):
        n = sum(len(c.report.values) for c in result.converted if c.report)
        err.print(f"reports: {verb} {n} reported values", highlight=False)
    for e in result.rejected:
        err.print(f"[yellow]{'would reject' if dry_run else 'skipped'}:[/] {e}", highlight=False,
                  soft_wrap=True)
    if dry_run:
        err.print("dry run: nothing was written", highlight=False)
    return True


def period_of(start: str | None, end: str | None) -> tuple[dt.date, dt.date] | None:
    if start is None and end is None:
        return None
    if start is None or end is None:
        raise ValueError("give both --start and --end for the report's period")
    return dt.date.fromisoformat(start), dt.date.fromisoformat(end)


def mapping_dry_run(files: list[Path], workspace: Path, profile: Path | None, tz: str) -> None:
    """Dry run of canonical exports: how the headers map, the first rows, what is rejected."""
    from kefu.ingest import IngestError, table_for_file
    from kefu.ingest.load import resolve_profile
    from kefu.ingest.profile import column_mapping
    from kefu.ingest.readers import read_file
    from kefu.store import Workspace

    try:
        mapping = resolve_profile(profile)
        for f in files:
            table = table_for_file(f)
            if table is None:
                fail(f"cannot tell which table {f.name} holds; name it after a table")
                return
            raw = read_file(f, table=table)
            used = column_mapping(list(raw.columns), table, mapping)
            err.print(f"[bold]{f.name}[/] → {table}: " + "; ".join(
                f"{h} → {c}" for c, h in used.items()), highlight=False, soft_wrap=True)
            prepared = Workspace(workspace).prepare(f, table, tz, True, mapping)
            for row in prepared.rows.slice(0, 3).to_pylist():
                err.print(f"  {row}", highlight=False, soft_wrap=True)
            err.print(f"  would import {prepared.report.rows} rows", highlight=False)
            for e in prepared.report.skipped:
                err.print(f"  [yellow]would reject:[/] {e}", highlight=False, soft_wrap=True)
    except IngestError as exc:
        fail(str(exc))
    err.print("dry run: nothing was written", highlight=False)


def compare_report(
    data: Annotated[Path, typer.Option("--data", help="folder or workspace with chat data")],
    start: Annotated[str, typer.Option("--start", help="first day, YYYY-MM-DD")],
    end: Annotated[str, typer.Option("--end", help="last day (inclusive), YYYY-MM-DD")],
    report: Annotated[Path | None, typer.Option(
        "--report", help="KPI report file (default: the workspace's imported reports)")] = None,
    profile: Annotated[str | None, typer.Option(
        "--profile", help="platform profile of --report")] = None,
    format: Annotated[str, typer.Option("--format", help="table or json")] = "table",
    tz: Annotated[str, typer.Option("--tz", help="shop time zone")] = "Asia/Shanghai",
) -> None:
    """kefu's computed value beside the platform's reported one, per agent and metric."""
    from kefu.ingest import IngestError
    from kefu.scoring.compare import compare

    try:
        first, last = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
        rows = compare(data, first, last, report, profile, tz)
    except (IngestError, ValueError, OSError) as exc:
        fail(str(exc))
        return
    if format == "json":
        sys.stdout.write(json.dumps({"start": start, "end": end, "rows": rows},
                                    ensure_ascii=False, indent=2) + "\n")
        return
    table = Table("agent_id", "metric", "computed", "reported", "difference")
    for r in rows:
        table.add_row(r["agent_id"], r["metric"], fmt(r["computed"]), fmt(r["reported"]),
                      fmt(r["difference"]))
    out.print(table)


def fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.4g}"
