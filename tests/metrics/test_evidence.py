"""Drill-down: the rows behind each number give the number back."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pyarrow.compute as pc
import pytest
from typer.testing import CliRunner

from kefu.cli import app
from kefu.demo import DemoConfig, generate
from kefu.ingest import load_dir
from kefu.metrics import MetricParams, compute
from kefu.metrics.evidence import EVIDENCE, evidence
from kefu.metrics.registry import METRICS
from kefu.qa import floors

START, END = dt.date(2024, 6, 1), dt.date(2024, 6, 10)


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any, Any]:
    folder = tmp_path_factory.mktemp("shop")
    generate(folder, DemoConfig(messages=4000, agents=8, days=10, seed=3))
    dataset = load_dir(folder).dataset
    with pytest.MonkeyPatch.context() as patch:
        # every verdict counted, so that each number can be given back by its rows
        patch.setattr(floors, "MEETS_FLOOR", dict.fromkeys(floors.MEETS_FLOOR, True))
        result = compute(dataset, START, END, MetricParams(), qa=True)
    return folder, dataset, result


def test_every_metric_has_evidence() -> None:
    assert set(EVIDENCE) == {m.key for m in METRICS}


def test_rows_give_the_numbers_back(shop: tuple[Path, Any, Any]) -> None:
    _, dataset, result = shop
    checked = 0
    for agent_id, values in result.agents.items():
        def rows(metric: str, agent: str = agent_id) -> Any:
            return evidence(dataset, START, END, metric, agent, qa=True)

        if values["received"] == 0:
            continue
        days = rows("received")
        assert days.num_rows == values["received"]
        assert pc.sum(days.column("replied")).as_py() == values["replied"]
        turns = rows("avg_response_s")
        answered = turns.filter(turns.column("answered"))
        assert turns.num_rows - answered.num_rows == values["unanswered_turns"]
        if answered.num_rows:
            mean = pc.mean(answered.column("response_s")).as_py()
            assert mean == pytest.approx(values["avg_response_s"])
        conversations = rows("conversations")
        assert conversations.num_rows == values["conversations"]
        firsts = conversations.column("first_response_s").drop_null()
        if len(firsts):
            assert pc.mean(firsts).as_py() == pytest.approx(values["first_response_s"])
        if values["sales_amount"]:
            pairs = rows("sales_amount")
            credited = pairs.filter(pairs.column("credited"))
            assert credited.num_rows == values["orders"]
            assert pc.sum(credited.column("amount")).as_py() == pytest.approx(
                values["sales_amount"])
        if values["ratings"]:
            ratings = rows("csat_avg")
            assert ratings.num_rows == values["ratings"]
            assert pc.mean(ratings.column("score")).as_py() == pytest.approx(values["csat_avg"])
        messages = rows("forbidden_hits")
        human = messages.filter(pc.equal(messages.column("sender"), "agent"))
        assert pc.sum(human.column("qa_forbidden")).as_py() == values["forbidden_hits"]
        checked += 1
    assert checked >= 5


def test_evidence_command_writes_csv_and_refuses_unknown_metrics(
    shop: tuple[Path, Any, Any], tmp_path: Path,
) -> None:
    folder, _, result = shop
    agent = next(a for a, v in result.agents.items() if v["received"])
    runner = CliRunner()
    args = ["evidence", "--data", str(folder), "--start", "2024-06-01", "--end", "2024-06-10",
            "--agent", agent]
    res = runner.invoke(app, [*args, "--metric", "received"])
    assert res.exit_code == 0, res.output
    lines = res.stdout.strip().splitlines()
    assert lines[0].startswith("agent_id,shop_id,buyer_id")
    assert len(lines) - 1 == result.agents[agent]["received"]
    res = runner.invoke(app, [*args, "--metric", "received", "--format", "xlsx",
                              "--out", str(tmp_path / "e.xlsx")])
    assert res.exit_code == 0 and (tmp_path / "e.xlsx").stat().st_size > 0
    res = runner.invoke(app, [*args, "--metric", "speed"])
    assert res.exit_code == 2 and "unknown metric" in res.output
