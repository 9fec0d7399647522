"""kefu's command line: thin commands that parse, call one function and print.

The commands and options of shared/spec/cli.md are a stable contract.
Exit code 2 means bad input, with a message naming what is wrong.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, NoReturn, TypeVar

import typer
from rich.console import Console

app = typer.Typer(
    help="kefu — fair, explainable evaluation of customer-service agents (客服考核).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
qa_app = typer.Typer(help="Automatic quality checks (智能质检).", no_args_is_help=True)
app.add_typer(qa_app, name="qa")
try:  # the web app's commands (kefu serve, kefu users); absent without the app extra
    from kefu.app.cli import register
    register(app)
except ImportError:  # pragma: no cover
    pass

err = Console(stderr=True)
T = TypeVar("T")


class Engine(StrEnum):
    duckdb = "duckdb"
    spark = "spark"


class OutFormat(StrEnum):
    json = "json"
    csv = "csv"
    xlsx = "xlsx"
    table = "table"


# Options shared by several commands, declared once (FastAPI-style Annotated aliases).
DataOpt = Annotated[Path, typer.Option("--data", help="folder of canonical files")]
StartOpt = Annotated[str, typer.Option("--start", help="first day, YYYY-MM-DD")]
EndOpt = Annotated[str, typer.Option("--end", help="last day (inclusive), YYYY-MM-DD")]
OutOpt = Annotated[Path | None, typer.Option("--out", help="write here instead of stdout")]
TzOpt = Annotated[str, typer.Option("--tz", help="shop time zone")]
NoQaOpt = Annotated[bool, typer.Option("--no-qa", help="skip the quality metrics")]
SchemeOpt = Annotated[Path, typer.Option("--scheme", help="scheme YAML (or presale/aftersale)")]
ManualOpt = Annotated[
    Path | None, typer.Option("--manual", help="supervisor scores: agent_id,item,points")
]
HistoryOpt = Annotated[
    Path | None, typer.Option("--history", help="folder of earlier `kefu evaluate` JSON")
]
ProfileOpt = Annotated[
    Path | None, typer.Option("--profile", help="mapping profile (YAML) for the exports")
]
SkipBadOpt = Annotated[
    bool, typer.Option("--skip-bad-rows", help="load the good rows of files with bad rows")
]
SHOP_TZ = "Asia/Shanghai"


def fail(message: str) -> NoReturn:
    """Print a clear message and exit 2 (bad input), as cli.md requires."""
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(2)


def scored(call: Callable[[], T]) -> T:
    """Run a scoring command's work; a bad scheme, data file or value exits 2."""
    from kefu.ingest import IngestError
    from kefu.scoring.scheme import SchemeError

    try:
        return call()
    except (SchemeError, IngestError, ValueError, OSError) as exc:
        fail(str(exc))


def parse_day(value: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        fail(f"{option} {value!r} is not a date YYYY-MM-DD")


def write_output(text: str | bytes, out: Path | None) -> None:
    if out is None:
        if isinstance(text, bytes):
            sys.stdout.buffer.write(text)
        else:
            sys.stdout.write(text)
        return
    if isinstance(text, bytes):
        out.write_bytes(text)
    else:
        out.write_text(text, encoding="utf-8")


@app.command()
def metrics(
    data: DataOpt,
    start: StartOpt,
    end: EndOpt,
    engine: Annotated[Engine, typer.Option(help="analytics engine")] = Engine.duckdb,
    format: Annotated[OutFormat, typer.Option("--format", help="output format")] = (
        OutFormat.json
    ),
    out: OutOpt = None,
    session_gap_min: Annotated[float, typer.Option(help="conversation split gap, minutes")] = 30,
    response_target_s: Annotated[float, typer.Option(help="on-time response target, s")] = 30,
    conversion_window_days: Annotated[int, typer.Option(help="conversion window, days")] = 1,
    repeat_window_h: Annotated[float, typer.Option(help="repeat-contact window, hours")] = 48,
    tz: TzOpt = SHOP_TZ,
    no_qa: NoQaOpt = False,
    skip_bad_rows: SkipBadOpt = False,
    profile: ProfileOpt = None,
) -> None:
    """Compute every metric of metrics.md per agent, team and shop for a period."""
    import pyarrow as pa

    from kefu.ingest import IngestError, load_dir
    from kefu.metrics import MetricParams, compute
    from kefu.metrics.export import render

    first, last = parse_day(start, "--start"), parse_day(end, "--end")
    if last < first:
        fail(f"--end {end} is before --start {start}")
    try:
        params = MetricParams(
            session_gap_min=session_gap_min,
            response_target_s=response_target_s,
            conversion_window_days=conversion_window_days,
            repeat_window_h=repeat_window_h,
            tz=tz,
        )
    except ValueError as exc:
        fail(str(exc))
    try:
        loaded = load_dir(data, tz=tz, skip_bad_rows=skip_bad_rows, profile=profile,
                          progress=format is not OutFormat.table or out is not None)
    except IngestError as exc:
        fail(str(exc))
    for line in loaded.warnings:
        err.print(f"[yellow]warning:[/] {line}", highlight=False, soft_wrap=True)
    dataset = loaded.dataset
    if no_qa:  # the text is only read by the checks: free it before the heavy part
        dataset.messages = dataset.messages.drop_columns(["content"])
        del loaded
        pa.default_memory_pool().release_unused()
    try:
        result = compute(dataset, first, last, params, engine=engine.value, qa=not no_qa)
    except ValueError as exc:
        fail(str(exc))
    write_output(render(result, format.value), out)


@app.command()
def evidence(
    data: DataOpt,
    start: StartOpt,
    end: EndOpt,
    metric: Annotated[str, typer.Option("--metric", help="metric key, e.g. avg_response_s")],
    agent: Annotated[
        str | None, typer.Option("--agent", help="agent_id (default: every agent)")
    ] = None,
    format: Annotated[str, typer.Option("--format", help="csv or xlsx")] = "csv",
    out: OutOpt = None,
    tz: TzOpt = SHOP_TZ,
    qa: Annotated[bool, typer.Option("--qa", help="include the automatic checks")] = False,
) -> None:
    """The rows behind a number (drill-down): buyer-days, turns, orders, ratings …"""
    from kefu.ingest import IngestError, load_dir
    from kefu.metrics import MetricParams
    from kefu.metrics.evidence import evidence as rows_behind

    if format not in ("csv", "xlsx"):
        fail(f"--format must be csv or xlsx, not {format!r}")
    if format == "xlsx" and out is None:
        fail("--format xlsx needs --out FILE")
    first, last = parse_day(start, "--start"), parse_day(end, "--end")
    try:
        dataset = load_dir(data, tz=tz).dataset
        table = rows_behind(dataset, first, last, metric, agent, MetricParams(tz=tz), qa=qa)
    except (IngestError, ValueError) as exc:
        fail(str(exc))
    frame = table.to_pandas()
    if format == "xlsx":
        for name in frame.columns:  # Excel keeps no time zones: show the shop's wall clock
            if getattr(frame[name].dtype, "tz", None) is not None:
                frame[name] = frame[name].dt.tz_localize(None)
        assert out is not None
        frame.to_excel(out, index=False, sheet_name=metric[:31])
        return
    write_output(frame.to_csv(index=False), out)


@app.command()
def demo(
    out: Annotated[Path, typer.Option("--out", help="folder to write the demo shop into")] = Path(
        "demo-data"
    ),
    messages: Annotated[int, typer.Option(help="approximate number of messages")] = 60_000,
    agents: Annotated[int, typer.Option(help="number of agents")] = 24,
    seed: Annotated[int, typer.Option(help="random seed (same seed, same shop)")] = 7,
    start: Annotated[str, typer.Option(help="first day of the month generated")] = "2024-06-01",
    days: Annotated[int, typer.Option(help="number of days")] = 30,
    file_format: Annotated[str, typer.Option("--file-format", help="csv or parquet")] = "csv",
    force: Annotated[bool, typer.Option(help="overwrite an existing folder")] = False,
) -> None:
    """Generate a realistic, deterministic demo shop (agents, chats, orders, …)."""
    from kefu.demo import DemoConfig, generate

    if out.exists() and any(out.iterdir()) and not force:
        fail(f"{out} exists and is not empty (use --force to overwrite)")
    config = DemoConfig(
        messages=messages,
        agents=agents,
        seed=seed,
        start=parse_day(start, "--start"),
        days=days,
        file_format=file_format,
    )
    summary = generate(out, config)
    err.print(f"demo shop written to {out}: {summary}", highlight=False)


@qa_app.command("scan")
def qa_scan(
    input: Annotated[Path, typer.Option("--input", help="csv/xlsx/parquet/jsonl file")],
    text_column: Annotated[str, typer.Option("--text-column", help="column holding the text")],
    role: Annotated[str, typer.Option("--role", help="agent or buyer checks")] = "agent",
    format: Annotated[str, typer.Option("--format", help="jsonl")] = "jsonl",
) -> None:
    """Run the automatic checks on each row's text; one JSON object per row."""
    from kefu.qa import scan_file

    if role not in ("agent", "buyer"):
        fail(f"--role must be agent or buyer, not {role!r}")
    if format != "jsonl":
        fail(f"--format must be jsonl, not {format!r}")
    try:
        for record in scan_file(input, text_column, role=role):
            sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
    except (ValueError, OSError) as exc:
        fail(str(exc))


@app.command()
def ahp(
    matrix: Annotated[Path, typer.Argument(help="CSV pairwise comparison matrix")],
    format: Annotated[str, typer.Option("--format", help="json")] = "json",
) -> None:
    """Weights, λmax, CI and CR of an AHP pairwise comparison matrix (层次分析法)."""
    from kefu.scoring.ahp import AHPError, ahp_from_csv

    if format != "json":
        fail(f"--format must be json, not {format!r}")
    try:
        result = ahp_from_csv(matrix)
    except (AHPError, OSError) as exc:
        fail(str(exc))
    sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")


class EvalFormat(StrEnum):
    json = "json"
    xlsx = "xlsx"
    table = "table"


@app.command()
def evaluate(
    data: DataOpt,
    scheme: SchemeOpt,
    start: StartOpt,
    end: EndOpt,
    format: Annotated[EvalFormat, typer.Option("--format", help="json, xlsx or table")] = (
        EvalFormat.json
    ),
    out: OutOpt = None,
    manual: ManualOpt = None,
    history: HistoryOpt = None,
    tz: TzOpt = SHOP_TZ,
    no_qa: NoQaOpt = False,
) -> None:
    """Score agents with a scheme: points, total, grade, rank, pay and training plan (考核)."""
    from kefu.scoring.export import render
    from kefu.scoring.run import evaluate_dir

    first, last = parse_day(start, "--start"), parse_day(end, "--end")
    if format is EvalFormat.xlsx and out is None:
        fail("--format xlsx needs --out FILE")
    result = scored(
        lambda: evaluate_dir(data, scheme, first, last, manual, history, tz, qa=not no_qa)
    )
    for line in result.warnings:
        err.print(f"[yellow]warning:[/] {line}", highlight=False, soft_wrap=True)
    write_output(render(result, format.value), out)


@app.command()
def whatif(
    data: DataOpt,
    scheme: Annotated[Path, typer.Option("--scheme", help="current scheme (A)")],
    scheme_b: Annotated[Path, typer.Option("--scheme-b", help="proposed scheme (B)")],
    start: StartOpt,
    end: EndOpt,
    out: OutOpt = None,
    manual: ManualOpt = None,
    history: HistoryOpt = None,
    tz: TzOpt = SHOP_TZ,
    no_qa: NoQaOpt = False,
) -> None:
    """Compare two schemes on one period: rank and grade changes, total pay difference (JSON)."""
    from kefu.scoring.run import whatif_dir

    first, last = parse_day(start, "--start"), parse_day(end, "--end")
    result = scored(
        lambda: whatif_dir(data, scheme, scheme_b, first, last, manual, history, tz,
                           qa=not no_qa)
    )
    write_output(json.dumps(result, ensure_ascii=False, indent=2) + "\n", out)


@app.command("import")
def import_(
    files: Annotated[
        list[Path], typer.Argument(help="export files (csv/xlsx/parquet/jsonl)", metavar="FILE")
    ],
    workspace: Annotated[Path, typer.Option("--workspace", help="workspace folder")],
    table: Annotated[
        str | None, typer.Option("--table", help="table of the files (default: from the name)")
    ] = None,
    tz: Annotated[str, typer.Option("--tz", help="shop time zone of naive times")] = (
        "Asia/Shanghai"
    ),
    skip_bad_rows: Annotated[
        bool, typer.Option("--skip-bad-rows", help="import the good rows of files with bad rows")
    ] = False,
    profile: ProfileOpt = None,
    pseudonymise: Annotated[
        bool, typer.Option("--pseudonymise", help="store buyer ids as keyed pseudonyms")
    ] = False,
    mask_pii: Annotated[
        bool, typer.Option("--mask-pii", help="mask phones, ID numbers, e-mail, addresses in text")
    ] = False,
) -> None:
    """Validate export files and store them in a workspace (then: kefu metrics --data DIR)."""
    from kefu.ingest import IngestError
    from kefu.store import Privacy, Workspace

    try:
        reports = Workspace(workspace).import_files(
            files, table=table, tz=tz, skip_bad_rows=skip_bad_rows, profile=profile,
            privacy=Privacy(pseudonymise_buyers=pseudonymise, mask_text=mask_pii),
        )
    except IngestError as exc:
        fail(str(exc))
    for report in reports:
        if report.already_imported:
            err.print(f"{report.source}: already imported ({report.table})", highlight=False)
        else:
            err.print(f"{report.source}: imported {report.rows} rows into {report.table}",
                      highlight=False)
        for line in report.warnings:
            err.print(f"[yellow]warning:[/] {line}", highlight=False, soft_wrap=True)
        for error in report.skipped:
            err.print(f"[yellow]skipped:[/] {error}", highlight=False, soft_wrap=True)


@app.command()
def training(
    data: DataOpt,
    scheme: SchemeOpt,
    start: StartOpt,
    end: EndOpt,
    out: OutOpt = None,
    manual: ManualOpt = None,
    history: HistoryOpt = None,
    tz: TzOpt = SHOP_TZ,
    no_qa: NoQaOpt = False,
) -> None:
    """Training plans (培训计划): each agent's weakest items and last plan's follow-up (JSON)."""
    from kefu.scoring.run import training_dir

    first, last = parse_day(start, "--start"), parse_day(end, "--end")
    result = scored(
        lambda: training_dir(data, scheme, first, last, manual, history, tz, qa=not no_qa)
    )
    write_output(json.dumps(result, ensure_ascii=False, indent=2) + "\n", out)


def main() -> None:  # pragma: no cover - entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
