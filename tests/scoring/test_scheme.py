"""Scheme validation: every refusal names the problem."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from kefu.metrics.registry import BY_KEY
from kefu.scoring.scheme import TEMPLATES_DIR, SchemeError, load_scheme, parse_scheme
from kefu.scoring.training import load_topics


def base(**over: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "t",
        "items": [
            {"key": "reply_rate", "weight": 0.5, "floor": 0.8, "target": 1.0},
            {"key": "avg_response_s", "weight": 0.5, "floor": 120, "target": 30},
        ],
    }
    data.update(over)
    return data


def refused(data: dict[str, Any]) -> str:
    with pytest.raises(SchemeError) as exc:
        parse_scheme(data)
    return str(exc.value)


def test_unknown_metric_suggests_the_closest() -> None:
    d = base()
    d["items"][0]["key"] = "reply_rat"
    assert "unknown metric 'reply_rat' (did you mean reply_rate?)" in refused(d)


def test_weights_not_summing_to_one() -> None:
    d = base()
    d["items"][1]["weight"] = 0.4
    msg = refused(d)
    assert "weights sum to 0.9, not 1" in msg and "reply_rate 0.5 + avg_response_s 0.4" in msg


def test_floor_target_order_follows_direction() -> None:
    d = base()
    d["items"][1].update(floor=30, target=120)
    assert "lower is better (↓), so floor must be above target (floor 30, target 120)" in refused(d)
    d = base()
    d["items"][0].update(floor=1.0, target=0.8)
    assert "higher is better (↑), so floor must be below target" in refused(d)


def test_overlapping_scenarios() -> None:
    d = base(
        scenarios=[
            {"name": "618", "start": "06-01", "end": "06-20"},
            {"name": "年中", "start": "06-15", "end": "07-05"},
        ]
    )
    assert "scenarios 618 (06-01..06-20) and 年中 (06-15..07-05) overlap" in refused(d)
    # a dated scenario inside a recurring one overlaps too
    d = base(
        scenarios=[
            {"name": "618", "start": "06-01", "end": "06-20"},
            {"name": "2024年中", "start": dt.date(2024, 6, 20), "end": dt.date(2024, 6, 25)},
        ]
    )
    assert "overlap" in refused(d)
    ok = base(
        scenarios=[
            {"name": "618", "start": "06-01", "end": "06-20"},
            {"name": "双11", "start": "10-20", "end": "11-11"},
        ]
    )
    assert len(parse_scheme(ok).scenarios) == 2


def test_inconsistent_ahp_names_the_worst_comparison() -> None:
    # weights 8:4:2:1 would be consistent; a vs d is reversed (1/8 instead of 8)
    d = {
        "name": "t",
        "ahp": [
            ["1", "2", "4", "1/8"],
            ["1/2", 1, 2, 4],
            ["1/4", "1/2", 1, 2],
            [8, "1/4", "1/2", 1],
        ],
        "items": [
            {"key": "reply_rate", "floor": 0.8, "target": 1.0},
            {"key": "avg_response_s", "floor": 120, "target": 30},
            {"key": "satisfaction_rate", "floor": 0.6, "target": 1.0},
            {"key": "conversion_rate", "floor": 0.1, "target": 0.4},
        ],
    }
    msg = refused(d)
    assert "CR = 1.013 ≥ 0.10" in msg
    assert "most inconsistent comparison is reply_rate vs conversion_rate: judged 1/8" in msg


def test_ahp_weights_in_a_group() -> None:
    s = parse_scheme(
        {
            "name": "t",
            "groups": [
                {
                    "name": "服务",
                    "weight": 1,
                    "ahp": [[1, 3], ["1/3", 1]],
                    "items": [
                        {"key": "reply_rate", "floor": 0.8, "target": 1.0},
                        {"key": "avg_response_s", "floor": 120, "target": 30},
                    ],
                }
            ],
        }
    )
    assert s.flat_weights() == pytest.approx({"reply_rate": 0.75, "avg_response_s": 0.25})


def test_two_levels_multiply() -> None:
    s = parse_scheme(
        {
            "name": "t",
            "groups": [
                {
                    "name": "A",
                    "weight": 0.6,
                    "items": [
                        {"key": "reply_rate", "weight": 0.5, "floor": 0.8, "target": 1.0},
                        {"key": "avg_response_s", "weight": 0.5, "floor": 120, "target": 30},
                    ],
                },
                {
                    "name": "B",
                    "weight": 0.4,
                    "items": [{"key": "执行力", "rule": "manual", "weight": 1}],
                },
            ],
        }
    )
    assert s.flat_weights() == pytest.approx(
        {"reply_rate": 0.3, "avg_response_s": 0.3, "执行力": 0.4}
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"items": None}, "give either items (one level) or groups (two levels)"),
        (
            {"grades": [{"grade": "A", "min": 80}, {"grade": "B", "min": 60}]},
            "the lowest grade B must start at 0",
        ),
        (
            {
                "grades": [
                    {"grade": "B", "min": 60},
                    {"grade": "A", "min": 80},
                    {"grade": "C", "min": 0},
                ]
            },
            "from the highest min to the lowest",
        ),
        (
            {
                "triggers": [
                    {
                        "name": "x",
                        "metric": "complaint_rate",
                        "op": ">",
                        "value": 0.03,
                        "move": {"from": "sales_amount", "to": "reply_rate", "weight": 0.1},
                    }
                ]
            },
            "trigger x: moves weight of 'sales_amount', not an item",
        ),
        (
            {
                "triggers": [
                    {
                        "name": "x",
                        "metric": "complaint_rate",
                        "op": ">",
                        "value": 0.03,
                        "move": {"from": "reply_rate", "to": "reply_rate", "weight": 0.1},
                    }
                ]
            },
            "trigger x: moves weight from reply_rate to itself",
        ),
        (
            {
                "triggers": [
                    {
                        "name": "x",
                        "metric": "complaint_rat",
                        "op": ">",
                        "value": 0.03,
                        "move": {"from": "reply_rate", "to": "avg_response_s", "weight": 0.1},
                    }
                ]
            },
            "unknown metric 'complaint_rat'",
        ),
        (
            {"pay": {"rules": [{"name": "赢", "kind": "per_count", "count": "wins", "amount": 1}]}},
            "count 'wins' is neither a metric nor one of disputes_won",
        ),
        ({"weights": {"a": 1}}, "weights: Extra inputs are not permitted"),
        (
            {
                "pay": {
                    "rules": [
                        {
                            "name": "t",
                            "kind": "top",
                            "metric": "refund_rate",
                            "amount": 1,
                            "min_count": 5,
                        }
                    ]
                }
            },
            "min_count needs a metric with a known count (refund_rate has none)",
        ),
        (
            {"pay": {"performance_mode": "grade", "grade_coefficients": {"A": 1.2}}},
            "no coefficient for ['B', 'C']",
        ),
    ],
)
def test_other_refusals(change: dict[str, Any], message: str) -> None:
    assert message in refused(base(**change))


def test_item_level_refusals() -> None:
    d = base()
    d["items"][0] = {"key": "reply_rate", "weight": 0.5}
    assert "rule linear needs floor and target" in refused(d)
    d["items"][0] = {"key": "reply_rate", "rule": "manual", "weight": 0.5}
    assert "a manual item needs its own name, not a metric key" in refused(d)
    d["items"][0] = {
        "key": "refund_rate",
        "weight": 0.5,
        "floor": 0.2,
        "target": 0.0,
        "min_count": 5,
    }
    assert "min_count/shrink need count_metric" in refused(d)
    d["items"][0] = {"key": "csat_avg", "weight": 0.5, "floor": 3, "target": 5, "shrink": "score"}
    assert "shrinkage applies to rates (ratios) only" in refused(d)
    d["items"][0] = {"key": "reply_rate", "floor": 0.8, "target": 1.0}
    assert "no weight for ['reply_rate'] (or give an AHP matrix)" in refused(d)


def test_scenario_override_must_stay_valid() -> None:
    d = base(
        scenarios=[
            {
                "name": "大促",
                "start": "06-01",
                "end": "06-20",
                "items": {"reply_rate": {"weight": 0.7}},
            }
        ]
    )
    assert "scenario 大促: items: weights sum to 1.2, not 1" in refused(d)
    d = base(scenarios=[{"name": "大促", "start": "06-20", "end": "06-01"}])
    assert "scenario 大促: start 06-20 is after end 06-01" in refused(d)
    d = base(
        scenarios=[
            {"name": "大促", "start": "06-01", "end": "06-20", "items": {"csat_avg": {"target": 5}}}
        ]
    )
    assert "scenario 大促: no item 'csat_avg'" in refused(d)


def test_load_scheme_reports_file_problems(tmp_path: Path) -> None:
    p = tmp_path / "s.yaml"
    p.write_text("name: [unclosed\n", encoding="utf-8")
    with pytest.raises(SchemeError, match="not valid YAML"):
        load_scheme(p)
    with pytest.raises(SchemeError, match="cannot read"):
        load_scheme(tmp_path / "missing.yaml")


@pytest.mark.parametrize("name", ["presale", "aftersale"])
def test_templates_load_and_follow_scoring_md(name: str) -> None:
    s = load_scheme(TEMPLATES_DIR / f"{name}.yaml")
    w = s.flat_weights()
    assert sum(w.values()) == pytest.approx(1)
    assert {sc.name for sc in s.scenarios} == {"618大促", "双11"}
    assert s.scenario_on(dt.date(2024, 6, 18)) == "618大促"
    assert s.scenario_on(dt.date(2024, 6, 21)) is None
    if name == "presale":
        groups = {g.name: g.weight for g in s.groups or []}
        assert groups == {"销售业绩": 0.5, "顾客满意度": 0.3, "服务质量": 0.2}


def test_training_topics_name_known_metrics_or_manual_items() -> None:
    for key in load_topics():
        assert key in BY_KEY or not key.isascii(), key
