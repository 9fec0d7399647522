"""kefu's command line: thin commands that parse, call one function and print.

The commands and options of shared/spec/cli.md are a stable contract.
Exit code 2 means bad input, with a message naming what is wrong.
"""

from __future__ import annotations

import datetime as dt
import functools
import inspect
import json
import os
import sys
import typing
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import typer
from pydantic.fields import FieldInfo

from kefu.config import AnalysisFields, get_settings
from kefu.console import print_error, print_note, print_warning
from kefu.options import AnalysisOptions

if TYPE_CHECKING:
    from kefu.analysis import Analysis

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

T = TypeVar("T")
FIRST_YEAR, LAST_YEAR = 2000, 2100


class OutFormat(StrEnum):
    json = "json"
    csv = "csv"
    xlsx = "xlsx"
    table = "table"


# Options shared by several commands, declared once (FastAPI-style Annotated aliases).
DataOpt = Annotated[Path, typer.Option(
    "--data", "--workspace", help="folder of export files, or a workspace (kefu import)")]
StartOpt = Annotated[str, typer.Option("--start", help="first day, YYYY-MM-DD")]
EndOpt = Annotated[str, typer.Option("--end", help="last day (inclusive), YYYY-MM-DD")]
OutOpt = Annotated[Path | None, typer.Option("--out", help="write here instead of stdout")]
SchemeOpt = Annotated[Path, typer.Option("--scheme", help="scheme YAML (or presale/aftersale)")]
ManualOpt = Annotated[
    Path | None, typer.Option("--manual", help="supervisor scores: agent_id,item,points")
]
HistoryOpt = Annotated[
    Path | None, typer.Option("--history", help="folder of earlier `kefu evaluate` JSON")
]


def fail(message: str) -> NoReturn:
    """Print a clear message and exit 2 (bad input), as cli.md requires."""
    print_error(message)
    raise typer.Exit(2)


def warn(lines: list[str]) -> None:
    for line in lines:
        print_warning(line)


def checked(call: Callable[[], T]) -> T:
    """Run a command's work; bad input (data, scheme, option, file) exits 2 with a sentence."""
    from pydantic import ValidationError

    from kefu.ingest import IngestError
    from kefu.scoring.scheme import SchemeError

    try:
        return call()
    except ValidationError as exc:
        fail(_validation_message(exc))
    except (SchemeError, IngestError, ValueError, KeyError, OSError) as exc:
        fail(str(exc).strip("'\""))


def _validation_message(exc: Any) -> str:
    parts = []
    for error in exc.errors():
        where = "--" + "-".join(str(p) for p in error["loc"]).replace("_", "-")
        parts.append(f"{where}: {str(error['msg']).removeprefix('Value error, ')}")
    return "; ".join(parts)


def parse_day(value: str, option: str) -> dt.date:
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        fail(f"{option} {value!r} is not a date YYYY-MM-DD")
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        fail(f"{option} {value} is out of range: kefu works with days from {FIRST_YEAR} "
             f"to {LAST_YEAR}")
    return day


def check_out(out: Path | None) -> None:
    """--out must be writable before any work is done (not after a long computation)."""
    if out is None:
        return
    folder = out.parent if str(out.parent) else Path(".")
    if out.is_dir():
        fail(f"--out {out} is a folder; give a file name")
    if not folder.is_dir():
        fail(f"--out {out}: the folder {folder} does not exist")
    if not os.access(folder, os.W_OK) or (out.exists() and not os.access(out, os.W_OK)):
        fail(f"--out {out}: cannot write there (permission denied)")


def period(start: str, end: str) -> tuple[dt.date, dt.date]:
    first, last = parse_day(start, "--start"), parse_day(end, "--end")
    if last < first:
        fail(f"--end {end} is before --start {start}")
    return first, last


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


# --- the analysis options, built from their one declaration (kefu.config) ------

def _option_parameter(name: str, field: FieldInfo, default: Any) -> inspect.Parameter:
    flag = "--" + name.replace("_", "-")
    shown = "" if default is None else f" (default {default})"
    kind = field.annotation
    if "tuple" in str(kind):
        spec = typer.Option(flag, metavar="TABLE", help=f"{field.description} (repeatable)")
        return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None,
                                 annotation=Annotated[list[str] | None, spec])
    if kind is bool:
        spec = typer.Option(f"{flag}/--no-{flag[2:]}", help=f"{field.description}{shown}")
        annotation: Any = bool | None
    else:
        spec = typer.Option(flag, help=f"{field.description}{shown}")
        base: Any = Path if "Path" in str(kind) else str
        if kind in (float, int):
            base = kind
        annotation = base | None
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY,
                             default=None, annotation=Annotated[annotation, spec])


def with_analysis_options(command: Callable[..., None]) -> Callable[..., None]:
    """Give a command every analysis option (--tz, --session-gap-min, … --skip-bad-rows).

    The command receives them as one ``options: AnalysisOptions``; values not given
    come from the settings (KEFU_* variables, kefu.toml).
    """
    defaults = get_settings().model_dump()
    extra = [_option_parameter(name, field, defaults.get(name))
             for name, field in AnalysisFields.model_fields.items()]
    signature = inspect.signature(command)
    own = [p for p in signature.parameters.values() if p.name != "options"]

    @functools.wraps(command)
    def wrapper(**kwargs: Any) -> None:
        given = {p.name: kwargs.pop(p.name) for p in extra}
        options = checked(lambda: AnalysisOptions.model_validate(given))
        command(options=options, **kwargs)

    hints = typing.get_type_hints(command, include_extras=True)
    parameters = [p.replace(annotation=hints.get(p.name, p.annotation)) for p in own] + extra
    wrapper.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
    # Typer reads the annotations too: give it the options' real types
    wrapper.__annotations__ = {p.name: p.annotation for p in parameters}
    return wrapper


def open_analysis(data: Path, options: AnalysisOptions, progress: bool = False) -> Analysis:
    from kefu.analysis import Analysis
    from kefu.console import progress_bar

    with progress_bar(progress) as bar:
        analysis = checked(lambda: Analysis(data, options, progress=bar))
    warn(analysis.warnings)
    return analysis


@app.command()
@with_analysis_options
def metrics(
    data: DataOpt,
    start: StartOpt,
    end: EndOpt,
    options: AnalysisOptions,
    format: Annotated[OutFormat, typer.Option("--format", help="output format")] = (
        OutFormat.json
    ),
    out: OutOpt = None,
) -> None:
    """Compute every metric of metrics.md per agent, team and shop for a period."""
    from kefu.metrics.export import render

    first, last = period(start, end)
    check_out(out)
    quiet = format is OutFormat.table and out is None
    with open_analysis(data, options, progress=not quiet) as analysis:
        result = checked(lambda: analysis.metrics(first, last))
    write_output(render(result, format.value), out)


@app.command()
@with_analysis_options
def evidence(
    data: DataOpt,
    start: StartOpt,
    end: EndOpt,
    options: AnalysisOptions,
    metric: Annotated[
        str | None, typer.Option("--metric", help="metric key, e.g. avg_response_s")
    ] = None,
    filtered: Annotated[bool, typer.Option(
        "--filtered", help="list the rows the reception filters removed, with the reason")
    ] = False,
    agent: Annotated[
        str | None, typer.Option("--agent", help="agent_id (default: every agent)")
    ] = None,
    format: Annotated[str, typer.Option("--format", help="csv or xlsx")] = "csv",
    out: OutOpt = None,
) -> None:
    """The rows behind a number (drill-down): buyer-days, turns, orders, ratings …

    With --filtered: every row the reception filters removed, and why."""
    if format not in ("csv", "xlsx"):
        fail(f"--format must be csv or xlsx, not {format!r}")
    if format == "xlsx" and out is None:
        fail("--format xlsx needs --out FILE")
    if (metric is None) == (not filtered):
        fail("give --metric KEY, or --filtered (the rows the filters removed)")
    first, last = period(start, end)
    check_out(out)
    with open_analysis(data, options) as analysis:
        if filtered:
            table = analysis.filtered_rows(first, last, agent)
        else:
            assert metric is not None
            table = checked(lambda: analysis.evidence(metric, first, last, agent))
    frame = table.to_pandas()
    if format == "xlsx":
        for name in frame.columns:  # Excel keeps no time zones: show the shop's wall clock
            if getattr(frame[name].dtype, "tz", None) is not None:
                frame[name] = frame[name].dt.tz_localize(None)
        assert out is not None
        frame.to_excel(out, index=False, sheet_name=(metric or "filtered")[:31])
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
    print_note(f"demo shop written to {out}: {summary}")


@qa_app.command("scan")
@with_analysis_options
def qa_scan(
    input: Annotated[Path, typer.Option("--input", help="csv/xlsx/parquet/jsonl file")],
    text_column: Annotated[str, typer.Option("--text-column", help="column holding the text")],
    options: AnalysisOptions,
    role: Annotated[str, typer.Option("--role", help="agent or buyer checks")] = "agent",
    format: Annotated[str, typer.Option("--format", help="jsonl")] = "jsonl",
) -> None:
    """Run the automatic checks on each row's text; one JSON object per row."""
    from kefu.qa import load_lexicons, scan_file

    if role not in ("agent", "buyer"):
        fail(f"--role must be agent or buyer, not {role!r}")
    if format != "jsonl":
        fail(f"--format must be jsonl, not {format!r}")
    lexicons = checked(lambda: load_lexicons(options.lexicons))

    def scan() -> None:
        for record in scan_file(input, text_column, role=role, lexicons=lexicons):
            sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")

    checked(scan)


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
@with_analysis_options
def evaluate(
    data: DataOpt,
    scheme: SchemeOpt,
    start: StartOpt,
    end: EndOpt,
    options: AnalysisOptions,
    format: Annotated[EvalFormat, typer.Option("--format", help="json, xlsx or table")] = (
        EvalFormat.json
    ),
    out: OutOpt = None,
    manual: ManualOpt = None,
    history: HistoryOpt = None,
) -> None:
    """Score agents with a scheme: points, total, grade, rank, pay and training plan (考核)."""
    from kefu.scoring.export import render
    from kefu.scoring.scheme import load_scheme

    first, last = period(start, end)
    check_out(out)
    if format is EvalFormat.xlsx and out is None:
        fail("--format xlsx needs --out FILE")
    sch = checked(lambda: load_scheme(scheme))  # a bad scheme fails before the data is read
    with open_analysis(data, options) as analysis:
        result = checked(lambda: analysis.evaluate(sch, first, last, manual, history))
    warn(result.warnings[len(analysis.warnings):])
    write_output(render(result, format.value), out)


@app.command()
@with_analysis_options
def whatif(
    data: DataOpt,
    scheme: Annotated[Path, typer.Option("--scheme", help="current scheme (A)")],
    scheme_b: Annotated[Path, typer.Option("--scheme-b", help="proposed scheme (B)")],
    start: StartOpt,
    end: EndOpt,
    options: AnalysisOptions,
    out: OutOpt = None,
    manual: ManualOpt = None,
    history: HistoryOpt = None,
) -> None:
    """Compare two schemes on one period: rank and grade changes, total pay difference (JSON)."""
    from kefu.scoring.scheme import load_scheme

    first, last = period(start, end)
    check_out(out)
    a, b = checked(lambda: (load_scheme(scheme), load_scheme(scheme_b)))
    with open_analysis(data, options) as analysis:
        result = checked(lambda: analysis.whatif(a, b, first, last, manual, history))
    write_output(json.dumps(result.to_json_dict(), ensure_ascii=False, indent=2) + "\n", out)


@app.command("import")
@with_analysis_options
def import_(
    files: Annotated[
        list[Path], typer.Argument(help="export files (csv/xlsx/parquet/jsonl)", metavar="FILE")
    ],
    workspace: Annotated[Path, typer.Option("--workspace", help="workspace folder")],
    options: AnalysisOptions,
    table: Annotated[
        str | None, typer.Option("--table", help="table of the files (default: from the name)")
    ] = None,
    pseudonymise: Annotated[
        bool, typer.Option("--pseudonymise", help="store buyer ids as keyed pseudonyms")
    ] = False,
    mask_pii: Annotated[
        bool, typer.Option("--mask-pii", help="mask phones, ID numbers, e-mail, addresses in text")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="show how rows map, what is rejected; write nothing")
    ] = False,
    start: Annotated[str | None, typer.Option(help="period of a KPI report without dates")] = None,
    end: Annotated[str | None, typer.Option(help="last day of that period")] = None,
) -> None:
    """Validate export files and store them in a workspace (then: kefu metrics --data DIR).

    --profile takes a mapping profile file or a platform profile (kefu profiles)."""
    from kefu.cli_platforms import platform_import
    from kefu.store import Privacy, Workspace

    privacy = Privacy(pseudonymise_buyers=pseudonymise, mask_text=mask_pii)
    tz, skip_bad_rows, profile = options.tz, options.skip_bad_rows, options.profile
    if checked(lambda: platform_import(files, workspace, profile, tz, skip_bad_rows, privacy,
                                       dry_run, start, end)):
        return
    reports = checked(lambda: Workspace(workspace).import_files(
        files, table=table, tz=tz, skip_bad_rows=skip_bad_rows, profile=profile,
        privacy=privacy, allow_empty=options.allow_empty,
    ))
    for report in reports:
        if report.already_imported:
            print_note(f"{report.source}: already imported ({report.table})")
        else:
            print_note(f"{report.source}: imported {report.rows} rows into {report.table}")
        warn(report.warnings)
        for error in report.skipped:
            print_note(str(error), "skipped")


@app.command()
@with_analysis_options
def training(
    data: DataOpt,
    scheme: SchemeOpt,
    start: StartOpt,
    end: EndOpt,
    options: AnalysisOptions,
    out: OutOpt = None,
    manual: ManualOpt = None,
    history: HistoryOpt = None,
) -> None:
    """Training plans (培训计划): each agent's weakest items and last plan's follow-up (JSON)."""
    from kefu.scoring.scheme import load_scheme

    first, last = period(start, end)
    check_out(out)
    sch = checked(lambda: load_scheme(scheme))
    with open_analysis(data, options) as analysis:
        result = checked(lambda: analysis.training(sch, first, last, manual, history))
    write_output(json.dumps(result.to_json_dict(), ensure_ascii=False, indent=2) + "\n", out)


class TrendBy(StrEnum):
    month = "month"
    week = "week"


class TrendLevel(StrEnum):
    agent = "agent"
    team = "team"
    shop = "shop"


@app.command()
@with_analysis_options
def trend(
    data: DataOpt,
    metric: Annotated[str, typer.Option("--metric", help="metric key, e.g. conversion_rate")],
    end: EndOpt,
    options: AnalysisOptions,
    periods: Annotated[int, typer.Option("--periods", help="number of periods")] = 12,
    by: Annotated[TrendBy, typer.Option("--by", help="month or week")] = TrendBy.month,
    level: Annotated[TrendLevel, typer.Option("--level", help="agent, team or shop")] = (
        TrendLevel.agent
    ),
    format: Annotated[str, typer.Option("--format", help="json, csv or xlsx")] = "json",
    out: OutOpt = None,
) -> None:
    """A metric over the last N months or weeks per agent/team/shop, with 环比 and 同比."""
    import pandas as pd

    from kefu.analysis.trend import trend as compute_trend

    if format not in ("json", "csv", "xlsx"):
        fail(f"--format must be json, csv or xlsx, not {format!r}")
    if format == "xlsx" and out is None:
        fail("--format xlsx needs --out FILE")
    last = parse_day(end, "--end")
    with open_analysis(data, options) as analysis:
        result = checked(lambda: compute_trend(
            analysis, metric, last, periods, by.value, level.value))
    if format == "json":
        write_output(json.dumps(result, ensure_ascii=False, indent=2) + "\n", out)
        return
    frame = pd.DataFrame(result["rows"])
    if format == "csv":
        write_output(frame.to_csv(index=False), out)
        return
    from kefu.metrics.export import manifest_sheet

    assert out is not None
    with pd.ExcelWriter(out, engine="openpyxl") as xlsx:
        frame.to_excel(xlsx, index=False, sheet_name="trend")
        manifest_sheet(xlsx.book, result["manifest"])


from kefu.cli_platforms import compare_report, profiles  # noqa: E402

app.command("profiles")(profiles)
app.command("compare-report")(compare_report)


def main() -> None:  # pragma: no cover - entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
