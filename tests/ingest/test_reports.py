# ruff: noqa: E501  (sample files are written as the platforms write them)
"""KPI reports → reported metrics; a scheme scores agents from the report alone (by hand)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kefu.cli import app
from kefu.ingest.cells import clean_cell, duration_seconds, number
from kefu.ingest.platforms import load_platform_profile
from kefu.ingest.reports import read_report
from kefu.scoring.reported import ReportSource

runner = CliRunner()
D = dt.date
# header "询单转化率 " has a trailing space; 汇总 is a summary row; -, -- and 延迟统计 are missing
KPI = """日期,客服,接待人数,询单人数,询单->最终付款人数,询单转化率 ,平均响应时间,很满意,满意,一般,不满,很不满,咨询人数
2024-06-01,'店:A,100,40,12,30.00%,20,8,2,0,0,0,120
2024-06-01,="店:B",50,20,4,20%,-,3,1,1,0,1,60
2024-06-02,店:A,80,10,5,50%,30,--,--,--,--,--,90
2024-06-02,店:B,60,30,--,延迟统计,40,2,2,0,0,0,70
汇总,,290,100,21,21%,28,13,5,1,0,1,340
"""
SCHEME = """name: 报表考核
items:
  - {key: conversion_rate, weight: 0.5, rule: linear, floor: 0.1, target: 0.5}
  - {key: csat_avg, weight: 0.5, rule: linear, floor: 3.0, target: 5.0}
"""


@pytest.fixture
def kpi(tmp_path: Path) -> Path:
    path = tmp_path / "kpi.csv"
    path.write_bytes(KPI.encode("gb18030"))  # Chinese exports are often GBK
    return path


def test_messy_cells() -> None:
    assert clean_cell('="1234567890123456789"', ["-"]) == "1234567890123456789"  # 19 digits kept
    assert clean_cell("'0123", []) == "0123"
    assert clean_cell(" -- ", ["--"]) is None
    assert number("35.2%", "percent") == pytest.approx(0.352)
    assert number("35.2", "percent") == pytest.approx(0.352)
    assert number("¥1,299.00", "cny") == 1299
    assert duration_seconds("1分30秒") == 90
    assert duration_seconds("1 hour 5 minutes") == 3900
    assert duration_seconds("00:01:30") == 90
    assert number("2", "minutes") == 120


def test_report_rows_summary_and_missing(kpi: Path) -> None:
    read = read_report(kpi, load_platform_profile("taobao_kpi"))
    assert not read.errors
    assert read.summary_lines == [6]
    assert read.unmapped == ["咨询人数"]
    assert read.mapped["询单转化率"] == "conversion_rate"
    # B: 平均响应时间 '-', 询单->最终付款人数 '--', 询单转化率 延迟统计 (rating counts apart)
    assert read.missing_cells == 3
    day1 = {(v.agent_id, v.key): v.value for v in read.values if v.start == D(2024, 6, 1)}
    assert day1[("店:B", "csat_avg")] == pytest.approx(23 / 6)
    assert ("店:B", "avg_response_s") not in day1


def test_period_values_hand_computed(kpi: Path) -> None:
    read = read_report(kpi, load_platform_profile("taobao_kpi"))
    result = ReportSource(read.values).metrics(D(2024, 6, 1), D(2024, 6, 2))
    a, b = result.agents["店:A"], result.agents["店:B"]
    assert a["received"] == 180
    assert a["conversion_rate"] == pytest.approx((0.30 * 40 + 0.50 * 10) / 50)  # = 17/50
    assert a["avg_response_s"] == pytest.approx((20 * 100 + 30 * 80) / 180)
    assert a["csat_avg"] == pytest.approx(4.8) and a["ratings"] == 10
    assert b["conversion_rate"] == pytest.approx(0.20)  # day 2 is 延迟统计: no value
    assert b["avg_response_s"] == pytest.approx(40)
    assert b["csat_avg"] == pytest.approx((23 + 18) / 10)
    assert b["satisfaction_rate"] == pytest.approx(8 / 10) and b["dissatisfied"] == 1
    assert result.provenance["conversion_rate"] == "reported"
    assert result.to_json_dict()["provenance"]["csat_avg"] == "reported"
    with pytest.raises(ValueError, match="no rows"):
        ReportSource(read.values).metrics(D(2024, 7, 1), D(2024, 7, 2))


def test_a_monthly_row_is_not_cut_into_days(tmp_path: Path) -> None:
    path = tmp_path / "pdd.csv"
    path.write_text("客服账号,人工接待人数,询单转化率\n小美,10,20%\n", encoding="utf-8")
    read = read_report(path, load_platform_profile("pinduoduo_kpi"), (D(2024, 6, 1), D(2024, 6, 30)))
    source = ReportSource(read.values)
    assert source.metrics(D(2024, 6, 1), D(2024, 6, 30)).agents["小美"]["received"] == 10
    with pytest.raises(ValueError, match="cannot be cut"):
        source.metrics(D(2024, 6, 1), D(2024, 6, 15))


def test_report_without_period_asks_for_one(tmp_path: Path) -> None:
    path = tmp_path / "pdd.csv"
    path.write_text("客服账号,人工接待人数\n小美,10\n", encoding="utf-8")
    read = read_report(path, load_platform_profile("pinduoduo_kpi"))
    assert [e.reason for e in read.errors] == ["the report names no period: give --start and --end"]


def test_scheme_scores_agents_from_the_report_alone(kpi: Path, tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    dry = runner.invoke(app, ["import", str(kpi), "--profile", "taobao_kpi", "--workspace",
                              str(ws), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "summary rows left out (汇总/均值 …): lines 6" in dry.output
    # 4 rows × 5 mapped columns − 3 missing cells + 3 rows × 4 rating values (A day 2 has none)
    assert "reports: would import 29 reported values" in dry.output
    assert not ws.exists()
    res = runner.invoke(app, ["import", str(kpi), "--profile", "taobao_kpi", "--workspace",
                              str(ws)])
    assert res.exit_code == 0, res.output
    scheme = tmp_path / "s.yaml"
    scheme.write_text(SCHEME, encoding="utf-8")
    out = runner.invoke(app, ["evaluate", "--data", str(ws), "--scheme", str(scheme),
                              "--start", "2024-06-01", "--end", "2024-06-02"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    totals = {a["agent_id"]: a["total"] for a in data["agents"]}
    # A: conversion 0.34 → (0.34-0.1)/0.4 = 60 points; csat 4.8 → (4.8-3)/2 = 90 → 75
    # B: conversion 0.20 → 25 points; csat 4.1 → 55 → 40
    assert totals == {"店:A": pytest.approx(75), "店:B": pytest.approx(40)}
    assert data["provenance"] == {"conversion_rate": "reported", "csat_avg": "reported",
                                  **{k: "reported" for k in data["provenance"]}}
    notes = {li["note"] for a in data["agents"] for li in a["items"]}
    assert notes == {"平台报表值(reported)"}
