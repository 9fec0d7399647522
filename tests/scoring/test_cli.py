"""`kefu evaluate` and `kefu whatif` end to end on a small demo shop."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from kefu.cli import app
from kefu.scoring.scheme import TEMPLATES_DIR

runner = CliRunner()
JUNE = ["--start", "2024-06-01", "--end", "2024-06-30"]


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("shop") / "demo"
    res = runner.invoke(app, ["demo", "--out", str(out), "--messages", "5000", "--agents", "10"])
    assert res.exit_code == 0, res.output
    return out


def test_evaluate_json(shop: Path) -> None:
    res = runner.invoke(app, ["evaluate", "--data", str(shop), "--scheme", "presale", *JUNE])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert [s["name"] for s in data["segments"]] == ["618大促", "常规"]
    assert data["agents"], "presale agents are scored"
    for a in data["agents"]:
        assert a["role"] in ("presale", "both")
        contributions = sum(li["contribution"] for li in a["items"])
        if a["total"] is not None:
            assert contributions == pytest.approx(a["total"])
            assert a["grade"] in ("A", "B", "C")
            assert a["pay"]["total"] >= a["pay"]["base"] + min(
                0, sum(b["amount"] for b in a["pay"]["bonuses"])
            )
    ranks = [a["rank"] for a in data["agents"] if a["rank"] is not None]
    assert ranks == sorted(ranks) and ranks[0] == 1


def test_evaluate_xlsx_with_manual_scores(shop: Path, tmp_path: Path) -> None:
    with (shop / "agents.csv").open(encoding="utf-8-sig") as f:
        first = next(r["agent_id"] for r in csv.DictReader(f) if r["role"] == "aftersale")
    manual = tmp_path / "manual.csv"
    manual.write_text(f"agent_id,item,points\n{first},执行力,95\n", encoding="utf-8")
    out = tmp_path / "june.xlsx"
    res = runner.invoke(
        app,
        [
            "evaluate",
            "--data",
            str(shop),
            "--scheme",
            "aftersale",
            *JUNE,
            "--format",
            "xlsx",
            "--out",
            str(out),
            "--manual",
            str(manual),
        ],
    )
    assert res.exit_code == 0, res.output
    wb = load_workbook(io.BytesIO(out.read_bytes()))
    assert {"总览", "得分明细", "触发规则", "培训计划"} <= set(wb.sheetnames)
    rows = list(wb["得分明细"].iter_rows(min_row=2, values_only=True))
    assert any(r[0] == first and r[6] == "执行力" and r[11] == 95 for r in rows)


def test_history_supplies_the_previous_period(shop: Path, tmp_path: Path) -> None:
    hist = tmp_path / "history"
    hist.mkdir()
    first_half = ["--start", "2024-06-01", "--end", "2024-06-15"]
    res = runner.invoke(
        app,
        [
            "evaluate",
            "--data",
            str(shop),
            "--scheme",
            "presale",
            *first_half,
            "--out",
            str(hist / "h1.json"),
        ],
    )
    assert res.exit_code == 0, res.output
    stored = {a["agent_id"]: a for a in json.loads((hist / "h1.json").read_text("utf-8"))["agents"]}
    stored[next(iter(stored))]["total"] = 12.5  # a published (e.g. appealed) number wins
    data = json.loads((hist / "h1.json").read_text("utf-8"))
    for a in data["agents"]:
        a["total"] = stored[a["agent_id"]]["total"]
    (hist / "h1.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    res = runner.invoke(
        app,
        [
            "evaluate",
            "--data",
            str(shop),
            "--scheme",
            "presale",
            "--start",
            "2024-06-16",
            "--end",
            "2024-06-30",
            "--history",
            str(hist),
        ],
    )
    assert res.exit_code == 0, res.output
    now = json.loads(res.stdout)
    assert now["prev_start"] == "2024-06-01"
    prev = {a["agent_id"]: a["prev_total"] for a in now["agents"]}
    assert prev[next(iter(stored))] == 12.5
    assert any(a["follow_up"] for a in now["agents"])


def test_evaluate_bad_input_exits_2(shop: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "name: x\nitems:\n  - {key: reply_rat, weight: 1, floor: 0, target: 1}\n", encoding="utf-8"
    )
    res = runner.invoke(app, ["evaluate", "--data", str(shop), "--scheme", str(bad), *JUNE])
    assert res.exit_code == 2
    assert "unknown metric 'reply_rat'" in res.output
    res = runner.invoke(
        app, ["evaluate", "--data", str(shop), "--scheme", "presale", *JUNE, "--format", "xlsx"]
    )
    assert res.exit_code == 2 and "--out" in res.output
    res = runner.invoke(
        app,
        [
            "evaluate",
            "--data",
            str(shop),
            "--scheme",
            "presale",
            "--start",
            "2024-06-31",
            "--end",
            "2024-06-30",
        ],
    )
    assert res.exit_code == 2


def test_whatif(shop: Path, tmp_path: Path) -> None:
    b = tmp_path / "b.yaml"
    text = (TEMPLATES_DIR / "presale.yaml").read_text(encoding="utf-8")
    b.write_text(
        text.replace("performance_mode: grade", "performance_mode: total"), encoding="utf-8"
    )
    res = runner.invoke(
        app, ["whatif", "--data", str(shop), "--scheme", "presale", "--scheme-b", str(b), *JUNE]
    )
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    s = data["summary"]
    assert s["rank_changes"] == 0 and s["grade_changes"] == 0  # same scores, other pay rule
    assert s["pay_difference"] == pytest.approx(s["pay_total_b"] - s["pay_total_a"])


def test_training(shop: Path) -> None:
    res = runner.invoke(app, ["training", "--data", str(shop), "--scheme", "presale", *JUNE])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    plans = [a["training"] for a in data["agents"]]
    assert any(plans)
    for plan in plans:
        losses = [p["loss"] for p in plan]
        assert losses == sorted(losses, reverse=True) and len(plan) <= 3
        assert all(p["topics"] for p in plan)


def test_evaluate_table_lists_every_scored_agent_by_rank(shop: Path) -> None:
    res = runner.invoke(app, ["evaluate", "--data", str(shop), "--scheme", "presale", *JUNE])
    ranked = [a for a in json.loads(res.stdout)["agents"] if a["rank"] is not None]
    agents = sorted(ranked, key=lambda a: a["rank"])
    res = runner.invoke(app, ["evaluate", "--data", str(shop), "--scheme", "presale", *JUNE,
                              "--format", "table"])
    assert res.exit_code == 0, res.output
    assert "总分" in res.stdout and "等级" in res.stdout
    positions = [res.stdout.index(a["agent_id"]) for a in agents]
    assert positions == sorted(positions)  # best first
    first = agents[0]
    assert f"{first['total_display']:.1f}" in res.stdout
