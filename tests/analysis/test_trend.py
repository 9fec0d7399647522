"""kefu trend: one metric over N months or weeks, with 环比 and 同比, from one session."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from kefu.analysis import Analysis, analysis_options
from kefu.analysis.trend import change, period_of, trend
from kefu.cli import app
from kefu.ingest import load_records
from kefu.ingest.dataset import Dataset
from tests.metrics.conftest import AGENTS, msg

A = "s1:amy"


def test_periods_are_whole_months_and_iso_weeks() -> None:
    day = dt.date(2024, 3, 13)  # a Wednesday
    assert period_of(day, "month") == (dt.date(2024, 3, 1), dt.date(2024, 3, 31))
    assert period_of(day, "month", 3) == (dt.date(2023, 12, 1), dt.date(2023, 12, 31))
    assert period_of(day, "month", 1) == (dt.date(2024, 2, 1), dt.date(2024, 2, 29))
    assert period_of(day, "week") == (dt.date(2024, 3, 11), dt.date(2024, 3, 17))
    assert period_of(day, "week", 52) == (dt.date(2023, 3, 13), dt.date(2023, 3, 19))
    assert change(6, 4) == 0.5 and change(2, 4) == -0.5
    assert change(3, 0) is None and change(None, 2) is None


def _shop() -> Dataset:
    # Amy receives 1 buyer in 2023-05, 2 in 2024-04 and 3 in 2024-05
    days = ["2023-05-10", "2024-04-03", "2024-04-04", "2024-05-01", "2024-05-02", "2024-05-31"]
    rows = [msg(A, f"u{i}", "buyer", f"{d} 10:00:00") for i, d in enumerate(days)]
    return load_records({"agents": AGENTS, "messages": rows}).dataset


def test_trend_by_month_with_mom_and_yoy() -> None:
    with Analysis(_shop(), analysis_options(qa=False)) as analysis:
        out = trend(analysis, "received", dt.date(2024, 5, 20), periods=2, by="month")
    amy = [r for r in out["rows"] if r["agent"] == A]
    assert [(r["period_start"], r["received"]) for r in amy] == [
        ("2024-04-01", 2), ("2024-05-01", 3)]
    may = amy[1]
    assert (may["previous"], may["mom"]) == (2, 0.5)
    assert (may["year_before"], may["yoy"]) == (1, 2.0)
    assert amy[0]["yoy"] is None  # 2023-04 had none: no 同比
    assert out["periods"][-1] == {"start": "2024-05-01", "end": "2024-05-31"}
    assert out["manifest"]["start"] == "2024-04-01"
    with Analysis(_shop(), analysis_options(qa=False)) as analysis,\
            pytest.raises(KeyError, match="unknown metric"):
        trend(analysis, "recieved", dt.date(2024, 5, 20))


def test_kefu_trend_writes_json_csv_and_xlsx(tmp_path: Path) -> None:
    from kefu.demo import DemoConfig, generate

    folder = tmp_path / "shop"
    generate(folder, DemoConfig(messages=3000, agents=4, days=21, seed=3))
    base = ["trend", "--data", str(folder), "--metric", "received", "--end", "2024-06-21",
            "--periods", "3", "--by", "week", "--level", "shop", "--no-qa"]
    as_json = CliRunner().invoke(app, base)
    assert as_json.exit_code == 0, as_json.output
    result = json.loads(as_json.stdout)
    weeks = [p["start"] for p in result["periods"]]
    assert weeks == ["2024-06-03", "2024-06-10", "2024-06-17"]
    with Analysis(folder, analysis_options(qa=False)) as analysis:
        week2 = analysis.metrics(dt.date(2024, 6, 10), dt.date(2024, 6, 16))
    for row in result["rows"]:
        if row["period_start"] == "2024-06-10":
            assert row["received"] == week2.shops[row["shop"]]["received"]
    csv = CliRunner().invoke(app, [*base, "--format", "csv"])
    assert csv.stdout.splitlines()[0] == \
        "shop,period_start,period_end,received,previous,mom,year_before,yoy"
    out = tmp_path / "t.xlsx"
    CliRunner().invoke(app, [*base, "--format", "xlsx", "--out", str(out)])
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["trend", "manifest"]
    assert book["trend"].max_row == len(result["rows"]) + 1
    bad = CliRunner().invoke(app, [*base[:-1], "--by", "day"])
    assert bad.exit_code == 2
