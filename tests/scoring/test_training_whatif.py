"""Training plans and their follow-up, what-if comparisons, and the XLSX export."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from kefu.scoring.evaluate import evaluate
from kefu.scoring.export import render
from kefu.scoring.scheme import Scheme
from kefu.scoring.sources import StaticSource
from kefu.scoring.whatif import whatif

from .helpers import D, result, scheme

MAY, JUNE = (D(2024, 5, 1), D(2024, 5, 31)), (D(2024, 6, 1), D(2024, 6, 30))
ITEMS = [
    {"key": "reply_rate", "weight": 0.5, "floor": 0.8, "target": 1.0},
    {"key": "avg_response_s", "weight": 0.3, "floor": 120, "target": 30},
    {"key": "satisfaction_rate", "weight": 0.2, "floor": 0.6, "target": 1.0},
]


def test_plan_lists_the_items_that_cost_most_points() -> None:
    # reply .9 → 50 (loss .5 × 50 = 25), avg 48 → 80 (loss .3 × 20 = 6),
    # satisfaction .55 → 0 (loss .2 × 100 = 20): plan = reply_rate, satisfaction_rate
    src = StaticSource(
        {
            JUNE: result(
                *JUNE, {"a": {"reply_rate": 0.9, "avg_response_s": 48, "satisfaction_rate": 0.55}}
            )
        }
    )
    s = scheme({"items": ITEMS, "training": {"max_items": 2}})
    plan = evaluate(src, s, *JUNE).agent("a").training
    assert [(p.key, p.loss) for p in plan] == [
        ("reply_rate", pytest.approx(25)),
        ("satisfaction_rate", pytest.approx(20)),
    ]
    assert "接待流程与不漏接" in plan[0].topics  # from training_topics.yaml


def test_next_period_reports_whether_planned_items_improved() -> None:
    may = {"a": {"reply_rate": 0.9, "avg_response_s": 48, "satisfaction_rate": 0.55}}
    june = {"a": {"reply_rate": 0.95, "avg_response_s": 48, "satisfaction_rate": 0.5}}
    src = StaticSource({MAY: result(*MAY, may), JUNE: result(*JUNE, june)})
    ev = evaluate(src, scheme({"items": ITEMS, "training": {"max_items": 2}}), *JUNE)
    a = ev.agent("a")
    fu = {f.key: f for f in a.follow_up}
    # reply 50 → 75 points: improved; satisfaction 0 → 0 points and .55 → .5: not improved
    assert fu["reply_rate"].improved is True
    assert (fu["reply_rate"].prev_points, fu["reply_rate"].points) == pytest.approx((50, 75))
    assert fu["satisfaction_rate"].improved is False
    # 环比: May 25 + 24 + 0 = 49, June 37.5 + 24 + 0 = 61.5
    assert a.prev_total == pytest.approx(49)
    assert a.total == pytest.approx(61.5)
    assert ev.teams["T1"]["change"] == pytest.approx(12.5)


def test_whatif_reports_rank_grade_and_pay_changes() -> None:
    # x: reply .9 → 50, avg 48 → 80; y: reply 1.0 → 100, avg 102 → 20
    # A (.5/.5): x 65 B, y 60 B → ranks x1 y2, pay 6000 + 6000
    # B (.8/.2): x 56 C, y 84 A → ranks y1 x2, pay 4800 + 6600
    agents = {
        "x": {"reply_rate": 0.9, "avg_response_s": 48},
        "y": {"reply_rate": 1.0, "avg_response_s": 102},
    }
    src = StaticSource({JUNE: result(*JUNE, agents)})

    def two(w1: float, w2: float) -> Scheme:
        return scheme(
            {
                "items": [
                    {"key": "reply_rate", "weight": w1, "floor": 0.8, "target": 1.0},
                    {"key": "avg_response_s", "weight": w2, "floor": 120, "target": 30},
                ]
            }
        )

    out = whatif(src, two(0.5, 0.5), two(0.8, 0.2), *JUNE).to_json_dict()
    assert out["summary"] == {
        "agents": 2,
        "rank_changes": 2,
        "grade_changes": 2,
        "pay_total_a": 12000,
        "pay_total_b": 11400,
        "pay_difference": -600,
    }
    rows = {r["agent_id"]: r for r in out["agents"]}
    assert (rows["y"]["rank_a"], rows["y"]["rank_b"], rows["y"]["rank_change"]) == (2, 1, 1)
    assert (rows["x"]["grade_a"], rows["x"]["grade_b"], rows["x"]["pay_change"]) == (
        "B",
        "C",
        -1200,
    )


def test_xlsx_has_team_sheets_breakdown_and_frozen_headers() -> None:
    agents = {
        "a": {"reply_rate": 0.9, "avg_response_s": 48, "satisfaction_rate": 0.55},
        "b": {"reply_rate": 0.8, "avg_response_s": 48, "satisfaction_rate": 0.9},
    }
    src = StaticSource({JUNE: result(*JUNE, agents, info={"b": {"team": "售前二组"}})})
    data = render(evaluate(src, scheme({"items": ITEMS}), *JUNE), "xlsx")
    assert isinstance(data, bytes)
    wb = load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["总览", "T1", "售前二组", "得分明细", "触发规则", "培训计划"]
    for ws in wb:
        assert ws.freeze_panes == "A2"
    detail = wb["得分明细"]
    header = [c.value for c in detail[1]]
    assert header[5] == "指标" and "贡献" in header
    labels = {row[5] for row in detail.iter_rows(min_row=2, values_only=True)}
    assert labels == {"回复率", "平均响应时间", "满意率"}  # Chinese labels from the registry
    first = next(detail.iter_rows(min_row=2, values_only=True))
    # value → points → weight → contribution: reply .9 → 50 × .5 = 25
    assert (first[6], first[7], first[11], first[12], first[14]) == ("reply_rate", 0.9, 50, 0.5, 25)
