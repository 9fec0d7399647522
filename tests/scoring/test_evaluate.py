"""Totals, grades, ranks, scenarios, triggers and small samples on hand-made metrics."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from kefu.scoring.evaluate import (
    competition_rank,
    evaluate,
    grade_of,
    previous_period,
    segments_of,
)
from kefu.scoring.sources import StaticSource, load_manual

from .helpers import D, result, scheme

JUNE = (D(2024, 6, 1), D(2024, 6, 30))

TWO = [
    {"key": "reply_rate", "weight": 0.5, "floor": 0.8, "target": 1.0},
    {"key": "avg_response_s", "weight": 0.3, "floor": 120, "target": 30},
    {"key": "satisfaction_rate", "weight": 0.2, "floor": 0.6, "target": 1.0},
]


def one_period(agents: dict[str, Any], **kw: Any) -> StaticSource:
    return StaticSource({JUNE: result(*JUNE, agents, **kw)})


def test_unavailable_metric_weights_are_rescaled() -> None:
    # reply .9 → 50 points, avg 48 s → 80, satisfaction null → left out
    # weights .5 and .3 become .625 and .375: total = 31.25 + 30 = 61.25 → B
    src = one_period({"a": {"reply_rate": 0.9, "avg_response_s": 48, "satisfaction_rate": None}})
    ev = evaluate(src, scheme({"items": TWO}), *JUNE)
    a = ev.agent("a")
    assert a.total == pytest.approx(61.25)
    assert a.grade == "B"
    lines = {li.key: li for li in a.items}
    assert lines["reply_rate"].eff_weight == pytest.approx(0.625)
    assert lines["reply_rate"].contribution == pytest.approx(31.25)
    assert lines["satisfaction_rate"].points is None
    assert lines["satisfaction_rate"].eff_weight == 0


def test_unavailable_metric_scored_zero_when_the_scheme_says_so() -> None:
    # .5 × 50 + .3 × 80 + .2 × 0 = 49 → C
    src = one_period({"a": {"reply_rate": 0.9, "avg_response_s": 48, "satisfaction_rate": None}})
    ev = evaluate(src, scheme({"items": TWO, "missing": "zero"}), *JUNE)
    assert ev.agent("a").total == pytest.approx(49)
    assert ev.agent("a").grade == "C"


def test_grades_use_the_exact_total() -> None:
    s = scheme({"items": TWO})
    assert grade_of(s, 80) == "A"
    assert grade_of(s, 79.96) == "B"  # shown as 80.0, still B: display rounding never grades
    assert grade_of(s, 60) == "B"
    assert grade_of(s, 59.99) == "C"
    assert grade_of(s, 0) == "C"
    assert grade_of(s, None) is None


def test_competition_ranking() -> None:
    assert competition_rank({"a": 90, "b": 80, "c": 80, "d": 70, "e": None}) == {
        "a": 1,
        "b": 2,
        "c": 2,
        "d": 4,
        "e": None,
    }


def test_ranks_within_role_and_team_and_population() -> None:
    s = scheme({"items": [{"key": "reply_rate", "weight": 1, "floor": 0, "target": 1}]})
    src = one_period(
        {
            "a": {"reply_rate": 0.9},
            "b": {"reply_rate": 0.8},
            "c": {"reply_rate": 0.7},
            "x": {"reply_rate": 1.0},
        },
        info={"b": {"team": "T2"}, "c": {"role": "both"}, "x": {"role": "aftersale"}},
    )
    ev = evaluate(
        src,
        s.model_copy(
            update={"applies_to": s.applies_to.model_copy(update={"roles": ["presale", "both"]})}
        ),
        *JUNE,
    )
    assert [a.agent_id for a in ev.agents] == ["a", "b", "c"]  # x is aftersale: not in
    c = ev.agent("c")
    assert (c.rank, c.rank_in_role, c.rank_in_team) == (3, 1, 2)
    b = ev.agent("b")
    assert (b.rank, b.rank_in_role, b.rank_in_team) == (2, 2, 1)


def test_min_count_makes_a_small_sample_unavailable() -> None:
    items = [
        {"key": "reply_rate", "weight": 0.5, "floor": 0.8, "target": 1.0},
        {"key": "satisfaction_rate", "weight": 0.5, "floor": 0.6, "target": 1.0, "min_count": 10},
    ]
    src = one_period({"a": {"reply_rate": 0.9, "satisfaction_rate": 1.0, "ratings": 3}})
    a = evaluate(src, scheme({"items": items}), *JUNE).agent("a")
    line = next(li for li in a.items if li.key == "satisfaction_rate")
    assert line.value is None and line.value_raw == 1.0
    assert "样本不足(ratings=3<10)" in line.note
    assert a.total == pytest.approx(50)  # only reply_rate counts


def test_shrunk_rate_scores_and_both_values_are_shown() -> None:
    # the tiny team of test_rules: 3/3 shrinks to 0.80011 → (0.80011 − .6)/.4 = 50.03 points
    items = [
        {"key": "satisfaction_rate", "weight": 1, "floor": 0.6, "target": 1.0, "shrink": "score"}
    ]
    src = one_period(
        {
            "a": {"satisfaction_rate": 1.0, "ratings": 3},
            "b": {"satisfaction_rate": 0.6, "ratings": 100},
            "c": {"satisfaction_rate": 0.9, "ratings": 100},
            "d": {"satisfaction_rate": 0.75, "ratings": 100},
            "z": {"satisfaction_rate": 0.1, "ratings": 100},  # another team: not in a's prior
        },
        info={"z": {"team": "T9"}},
    )
    ev = evaluate(src, scheme({"items": items}), *JUNE)
    a, c = ev.agent("a"), ev.agent("c")
    assert a.items[0].value_raw == 1.0
    assert a.items[0].value_shrunk == pytest.approx(0.80011, abs=1e-5)
    assert a.total == pytest.approx((0.80011 - 0.6) / 0.4 * 100, abs=1e-3)
    assert c.rank == 1 and a.rank == 2  # luck no longer tops the ranking
    assert ev.agent("z").items[0].value_shrunk == 0.1  # a team of one is not shrunk


def test_shrink_show_scores_the_raw_value() -> None:
    items = [
        {"key": "satisfaction_rate", "weight": 1, "floor": 0.6, "target": 1.0, "shrink": "show"}
    ]
    src = one_period(
        {
            "a": {"satisfaction_rate": 1.0, "ratings": 3},
            "b": {"satisfaction_rate": 0.6, "ratings": 100},
            "c": {"satisfaction_rate": 0.9, "ratings": 100},
            "d": {"satisfaction_rate": 0.75, "ratings": 100},
        }
    )
    a = evaluate(src, scheme({"items": items}), *JUNE).agent("a")
    assert a.total == pytest.approx(100)
    assert a.items[0].value_shrunk == pytest.approx(0.80011, abs=1e-5)


# ------------------------------------------------------------------ scenarios


SCENARIO_SCHEME = {
    "items": [
        {"key": "reply_rate", "weight": 0.5, "floor": 0.8, "target": 1.0},
        {"key": "avg_response_s", "weight": 0.5, "floor": 120, "target": 30},
    ],
    "scenarios": [
        {
            "name": "大促",
            "start": "06-18",
            "end": "06-20",
            "items": {
                "reply_rate": {"weight": 0.2},
                "avg_response_s": {"weight": 0.8, "floor": 60, "target": 20},
            },
        }
    ],
}


def scenario_source() -> StaticSource:
    p1, p2, p3 = (
        (D(2024, 6, 16), D(2024, 6, 17)),
        (D(2024, 6, 18), D(2024, 6, 20)),
        (D(2024, 6, 21), D(2024, 6, 22)),
    )
    whole = (D(2024, 6, 16), D(2024, 6, 22))
    return StaticSource(
        {
            whole: result(*whole, {"a": {"reply_rate": 0.9, "avg_response_s": 60, "received": 60}}),
            p1: result(*p1, {"a": {"reply_rate": 0.9, "avg_response_s": 75, "received": 10}}),
            p2: result(*p2, {"a": {"reply_rate": 1.0, "avg_response_s": 40, "received": 40}}),
            p3: result(*p3, {"a": {"reply_rate": 0.8, "avg_response_s": 30, "received": 10}}),
        }
    )


def test_scenario_boundaries_cut_segments() -> None:
    s = scheme(SCENARIO_SCHEME)
    assert segments_of(s, D(2024, 6, 16), D(2024, 6, 22)) == [
        (None, D(2024, 6, 16), D(2024, 6, 17)),
        ("大促", D(2024, 6, 18), D(2024, 6, 20)),
        (None, D(2024, 6, 21), D(2024, 6, 22)),
    ]
    assert segments_of(s, D(2024, 6, 18), D(2024, 6, 18)) == [
        ("大促", D(2024, 6, 18), D(2024, 6, 18))
    ]


def test_period_spanning_a_scenario_is_weighted_by_days() -> None:
    # 06-16..17: reply .9 → 50, avg 75 → 50; total 50
    # 大促 06-18..20: reply 1.0 → 100 (w .2), avg 40 s on floor 60/target 20 → 50 (w .8): 60
    # 06-21..22: reply .8 → 0, avg 30 → 100: total 50
    # by days: (2×50 + 3×60 + 2×50)/7 = 380/7
    ev = evaluate(scenario_source(), scheme(SCENARIO_SCHEME), D(2024, 6, 16), D(2024, 6, 22))
    a = ev.agent("a")
    assert [s.total for s in a.segments] == pytest.approx([50, 60, 50])
    assert [s.share for s in a.segments] == pytest.approx([2 / 7, 3 / 7, 2 / 7])
    assert a.total == pytest.approx(380 / 7)
    assert sum(li.contribution for li in a.items) == pytest.approx(380 / 7)
    # combined lines show the whole period's raw value; segments hold the scored ones
    assert (a.items[0].value_raw, a.items[0].note) == (0.9, "分段计分")
    # reply_rate: (2×.5×50 + 3×.2×100 + 2×.5×0)/7 = 110/7 contribution on weight 2.6/7
    assert a.items[0].contribution == pytest.approx(110 / 7)
    assert a.items[0].eff_weight == pytest.approx(2.6 / 7)
    assert [s["name"] for s in ev.segments] == ["常规", "大促", "常规"]


def test_period_spanning_a_scenario_weighted_by_received() -> None:
    # received 10, 40, 10: (10×50 + 40×60 + 10×50)/60 = 3400/60
    data = {**SCENARIO_SCHEME, "scenario_combine": "received"}
    ev = evaluate(scenario_source(), scheme(data), D(2024, 6, 16), D(2024, 6, 22))
    assert ev.agent("a").total == pytest.approx(3400 / 60)


# ------------------------------------------------------------------ triggers


TRIGGER_SCHEME = {
    "items": [
        {"key": "sales_amount", "weight": 0.5, "floor": 0, "target": 1000},
        {"key": "satisfaction_rate", "weight": 0.5, "floor": 0.6, "target": 1.0},
    ],
    "triggers": [
        {
            "name": "投诉率告警",
            "scope": "shop",
            "metric": "complaint_rate",
            "op": ">",
            "value": 0.03,
            "move": {"from": "sales_amount", "to": "satisfaction_rate", "weight": 0.10},
        }
    ],
}


def test_trigger_moves_weight_only_in_the_shop_that_crossed() -> None:
    # both agents: sales 500 → 50 points, satisfaction .9 → 75 points
    # S1 complaint .04 > .03 → weights .4/.6: 20 + 45 = 65; S2 (.02) keeps .5/.5: 62.5
    src = one_period(
        {
            "a": {"sales_amount": 500, "satisfaction_rate": 0.9},
            "b": {"sales_amount": 500, "satisfaction_rate": 0.9},
        },
        info={"b": {"shop_id": "S2"}},
        shops={"S1": {"complaint_rate": 0.04}, "S2": {"complaint_rate": 0.02}},
    )
    ev = evaluate(src, scheme(TRIGGER_SCHEME), *JUNE)
    assert ev.agent("a").total == pytest.approx(65)
    assert ev.agent("b").total == pytest.approx(62.5)
    assert len(ev.triggers) == 1
    t = ev.triggers[0]
    assert (t.name, t.scope_id, t.value, t.moved, t.agents) == (
        "投诉率告警",
        "S1",
        0.04,
        0.1,
        ["a"],
    )


def test_trigger_threshold_is_strict_for_greater_than() -> None:
    src = one_period(
        {"a": {"sales_amount": 500, "satisfaction_rate": 0.9}},
        shops={"S1": {"complaint_rate": 0.03}},
    )
    ev = evaluate(src, scheme(TRIGGER_SCHEME), *JUNE)
    assert ev.triggers == [] and ev.agent("a").total == pytest.approx(62.5)


# ------------------------------------------------------------------ manual items


def test_manual_scores_from_csv(tmp_path: Path) -> None:
    p = tmp_path / "manual.csv"
    p.write_text("agent_id,item,points\na,执行力,90\n", encoding="utf-8-sig")
    items = [
        {"key": "reply_rate", "weight": 0.6, "floor": 0.8, "target": 1.0},
        {"key": "执行力", "rule": "manual", "weight": 0.4},
    ]
    src = one_period({"a": {"reply_rate": 0.9}, "b": {"reply_rate": 0.9}})
    ev = evaluate(src, scheme({"items": items}), *JUNE, manual=load_manual(p))
    # a: .6 × 50 + .4 × 90 = 66; b has no manual score: rescaled to reply_rate only → 50
    assert ev.agent("a").total == pytest.approx(66)
    assert ev.agent("b").total == pytest.approx(50)
    assert any("执行力" in w for w in ev.warnings)


def test_manual_scores_are_checked(tmp_path: Path) -> None:
    p = tmp_path / "manual.yaml"
    p.write_text("a: {执行力: 120}\n", encoding="utf-8")
    with pytest.raises(ValueError, match="outside 0–100"):
        load_manual(p)
    p.write_text("a: {团队合作: 80}\n", encoding="utf-8")
    items = [{"key": "执行力", "rule": "manual", "weight": 1}]
    with pytest.raises(ValueError, match=r"\['团队合作'\] are not manual items"):
        evaluate(one_period({"a": {}}), scheme({"items": items}), *JUNE, manual=load_manual(p))


def test_previous_period() -> None:
    assert previous_period(D(2024, 3, 1), D(2024, 3, 31)) == (D(2024, 2, 1), D(2024, 2, 29))
    assert previous_period(D(2024, 1, 1), D(2024, 3, 31)) == (D(2023, 10, 1), D(2023, 12, 31))
    assert previous_period(D(2024, 6, 11), D(2024, 6, 20)) == (D(2024, 6, 1), D(2024, 6, 10))
    assert previous_period(D(2024, 6, 1), D(2024, 6, 1)) == (D(2024, 5, 31), D(2024, 5, 31))


def test_json_is_serialisable_and_rounded_only_for_display() -> None:
    import json

    src = one_period({"a": {"reply_rate": 0.9, "avg_response_s": 48, "satisfaction_rate": None}})
    data = evaluate(src, scheme({"items": TWO}), *JUNE).to_json_dict()
    text = json.dumps(data, ensure_ascii=False)
    back = json.loads(text)
    assert back["agents"][0]["total"] == pytest.approx(61.25)
    assert back["agents"][0]["total_display"] == 61.3  # half up
    assert back["scheme"]["sha256"] and back["start"] == "2024-06-01"
    assert dt.date.fromisoformat(back["end"]) == D(2024, 6, 30)
