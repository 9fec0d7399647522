"""Pay, bonuses and deductions, worked by hand."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kefu.scoring.evaluate import Evaluation, evaluate
from kefu.scoring.sources import StaticSource, load_history

from .helpers import D, result, scheme

APR, MAY, JUNE = (
    (D(2024, 4, 1), D(2024, 4, 30)),
    (D(2024, 5, 1), D(2024, 5, 31)),
    (D(2024, 6, 1), D(2024, 6, 30)),
)

RULES = [
    {
        "name": "满意率第一",
        "kind": "top",
        "metric": "satisfaction_rate",
        "amount": 500,
        "min_count": 10,
    },
    {"name": "纠纷胜诉", "kind": "per_count", "count": "disputes_won", "amount": 200},
    {
        "name": "禁用语超标",
        "kind": "per_count",
        "count": "forbidden_hits",
        "beyond": 3,
        "amount": -50,
    },
    {
        "name": "连续三月第一",
        "kind": "streak",
        "metric": "satisfaction_rate",
        "periods": 3,
        "amount": 1000,
        "min_count": 10,
    },
]


def pay_scheme(**pay: Any) -> Any:
    return scheme(
        {
            "items": [{"key": "satisfaction_rate", "weight": 1, "floor": 0.6, "target": 1.0}],
            "pay": {"target_salary": 6000, "performance_share": 0.5, "rules": RULES, **pay},
        }
    )


JUNE_AGENTS = {
    # satisfaction .95 → 87.5 points → A; 40 ratings; 5 forbidden hits
    "a": {"satisfaction_rate": 0.95, "ratings": 40, "forbidden_hits": 5},
    # tie for first with a; 3 forbidden hits (not beyond 3)
    "b": {"satisfaction_rate": 0.95, "ratings": 20, "forbidden_hits": 3},
    # 100 % on 3 ratings: scores 100 (A) but may not compete for "first" (min_count 10)
    "c": {"satisfaction_rate": 1.0, "ratings": 3, "forbidden_hits": 0},
    # .7 → 25 points → C; 4 forbidden hits
    "d": {"satisfaction_rate": 0.7, "ratings": 30, "forbidden_hits": 4},
}


def test_grade_pay_with_bonuses_and_deductions() -> None:
    src = StaticSource(
        {JUNE: result(*JUNE, JUNE_AGENTS)}, counts={JUNE: {"a": {"disputes_won": 2}}}
    )
    ev = evaluate(src, pay_scheme(), *JUNE)
    pay = {a.agent_id: a.pay for a in ev.agents}
    # a: base 3000 + 3000 × 1.2 + 500 (first, tied) + 2 × 200 − 2 × 50 = 7400
    assert pay["a"] is not None and pay["a"].total == pytest.approx(7400)
    assert {b.name: b.amount for b in pay["a"].bonuses} == {
        "满意率第一": 500,
        "纠纷胜诉": 400,
        "禁用语超标": -100,
    }
    # b: 3000 + 3600 + 500 = 7100 (3 hits: nothing beyond 3)
    assert pay["b"] is not None and pay["b"].total == pytest.approx(7100)
    # c: 3000 + 3600 = 6600, no "first" on 3 ratings
    assert pay["c"] is not None and pay["c"].total == pytest.approx(6600)
    # d: 3000 + 3000 × 0.6 − 50 = 4750
    assert pay["d"] is not None and pay["d"].total == pytest.approx(4750)
    assert pay["d"].base == 3000 and pay["d"].performance == 1800
    assert ev.to_json_dict()["pay_total"] == pytest.approx(7400 + 7100 + 6600 + 4750)


def test_pay_by_total() -> None:
    # total mode: d scores 25 → 3000 + 3000 × .25 − 50 = 3700
    src = StaticSource({JUNE: result(*JUNE, JUNE_AGENTS)})
    ev = evaluate(src, pay_scheme(performance_mode="total", salaries={"d": 8000}), *JUNE)
    d = ev.agent("d").pay
    # d has its own target salary 8000: 4000 + 4000 × .25 − 50 = 4950
    assert d is not None and d.total == pytest.approx(4950) and d.coefficient == pytest.approx(0.25)
    a = ev.agent("a").pay
    assert a is not None and a.performance == pytest.approx(3000 * 0.875)


def bonuses(ev: Evaluation, agent: str) -> list[str]:
    pay = ev.agent(agent).pay
    assert pay is not None
    return [b.name for b in pay.bonuses]


def total_pay(ev: Evaluation, agent: str) -> float:
    pay = ev.agent(agent).pay
    assert pay is not None
    return pay.total


def months(apr: dict[str, Any], may: dict[str, Any]) -> StaticSource:
    return StaticSource(
        {
            APR: result(*APR, apr),
            MAY: result(*MAY, may),
            JUNE: result(*JUNE, JUNE_AGENTS),
        }
    )


def test_first_three_months_running() -> None:
    apr = {
        "a": {"satisfaction_rate": 0.97, "ratings": 30},
        "b": {"satisfaction_rate": 0.9, "ratings": 30},
    }
    may = {
        "a": {"satisfaction_rate": 0.96, "ratings": 30},
        "b": {"satisfaction_rate": 0.96, "ratings": 30},
    }
    ev = evaluate(months(apr, may), pay_scheme(), *JUNE)
    # a first in April, tied first in May and June → +1000; b missed April
    assert bonuses(ev, "a") == ["满意率第一", "禁用语超标", "连续三月第一"]
    assert total_pay(ev, "a") == pytest.approx(6600 + 500 - 100 + 1000)
    assert "连续三月第一" not in bonuses(ev, "b")


def test_streak_needs_every_previous_period() -> None:
    src = StaticSource(
        {
            MAY: result(*MAY, {"a": {"satisfaction_rate": 1.0, "ratings": 30}}),
            JUNE: result(*JUNE, JUNE_AGENTS),
        }
    )
    ev = evaluate(src, pay_scheme(), *JUNE)
    assert "连续三月第一" not in bonuses(ev, "a")
    assert any("no data 2 period(s) back" in w for w in ev.warnings)


def test_stored_history_stands_in_for_missing_data(tmp_path: Path) -> None:
    # April exists only as a stored result (kefu evaluate --format json) in --history
    apr = {
        "a": {"satisfaction_rate": 0.97, "ratings": 30},
        "b": {"satisfaction_rate": 0.9, "ratings": 30},
    }
    stored = evaluate(StaticSource({APR: result(*APR, apr)}), pay_scheme(), *APR)
    (tmp_path / "2024-04.json").write_text(
        json.dumps(stored.to_json_dict(), ensure_ascii=False), encoding="utf-8"
    )
    (tmp_path / "notes.json").write_text("{}", encoding="utf-8")  # ignored
    may = {
        "a": {"satisfaction_rate": 0.96, "ratings": 30},
        "b": {"satisfaction_rate": 0.9, "ratings": 30},
    }
    src = StaticSource({MAY: result(*MAY, may), JUNE: result(*JUNE, JUNE_AGENTS)})
    ev = evaluate(src, pay_scheme(), *JUNE, history=load_history(tmp_path))
    assert "连续三月第一" in bonuses(ev, "a")
