"""Pay (薪酬): base + performance pay by grade or score, bonuses and deductions."""

from __future__ import annotations

import datetime as dt
from typing import Any

from kefu.metrics.registry import BY_KEY, Direction
from kefu.metrics.result import MetricsResult
from kefu.scoring.items import EPS, number, scored_values
from kefu.scoring.results import AgentScore, Bonus, PayLine
from kefu.scoring.scheme import Item, PayRule, Scheme
from kefu.scoring.sources import Counts

Records = dict[str, dict[str, Any]]
"""agent_id → {team, metrics}: what top/streak rules compete on."""


def records_from_result(result: MetricsResult, agents: list[str]) -> dict[str, dict[str, Any]]:
    return {
        a: {"team": result.agent_info.get(a, {}).get("team", ""), "metrics": result.agents[a]}
        for a in agents
    }


def records_from_json(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        a["agent_id"]: {"team": a.get("team", ""), "metrics": a.get("metrics", {})}
        for a in data["agents"]
    }


def top_agents(records: dict[str, dict[str, Any]], scheme: Scheme, rule: PayRule) -> list[str]:
    """Agents holding first place in rule.metric (ties all win).

    The value competed on is the one the scheme scores (shrunk when the item scores the
    shrunk rate); agents below min_count (the rule's, else the item's) do not compete.
    """
    assert rule.metric is not None
    key = rule.metric
    item = next((i for i in scheme.all_items() if i.key == key), None)
    if item is None:
        # not scored by the scheme: compete on the raw value
        item = Item.model_validate(
            {"key": key, "rule": "steps", "steps": [{"at": 0, "points": 0}], "compare": ">="}
        )
    if rule.min_count is not None:
        item = item.model_copy(update={"min_count": rule.min_count})
        if item.count_of is None:
            return []
    fake = MetricsResult(
        start=dt.date.min,
        end=dt.date.min,
        params=None,  # type: ignore[arg-type]
        agents={a: r["metrics"] for a, r in records.items()},
        teams={},
        shops={},
        agent_info={a: {"team": r.get("team", "")} for a, r in records.items()},
    )
    vals = scored_values(fake, scheme, item, sorted(records))
    scored = {a: v[2] for a, v in vals.items() if v[2] is not None}
    if not scored:
        return []
    better_high = BY_KEY[key].direction is Direction.UP
    best = max(scored.values()) if better_high else min(scored.values())
    return sorted(a for a, v in scored.items() if abs(v - best) <= EPS)


def pay_for(
    scheme: Scheme,
    agent: str,
    total: float | None,
    grade: str | None,
    metrics: dict[str, Any],
    counts: dict[str, float],
    tops: dict[str, list[str]],
    streaks: dict[str, list[str]],
) -> PayLine:
    """Base + performance pay + bonuses/deductions of one agent."""
    p = scheme.pay
    target = p.salaries.get(agent, p.target_salary)
    base = target * (1 - p.performance_share)
    if total is None:
        coef = 0.0  # nothing to judge: no performance pay (flagged in warnings)
    elif p.performance_mode == "grade":
        coef = p.grade_coefficients[grade or scheme.grades[-1].grade]
    else:
        coef = total / 100.0
    perf = target * p.performance_share * coef
    bonuses: list[Bonus] = []
    for r in p.rules:
        if r.kind == "top" and agent in tops.get(r.name, []):
            bonuses.append(Bonus(r.name, r.amount, f"{BY_KEY[r.metric or ''].label_zh}第一"))
        elif r.kind == "streak" and agent in streaks.get(r.name, []):
            bonuses.append(Bonus(r.name, r.amount, f"连续{r.periods}期{r.metric}第一"))
        elif r.kind == "per_count":
            key = r.count or ""
            n = counts.get(key) if key in counts else number(metrics.get(key))
            times = max(0.0, (n or 0.0) - r.beyond)
            if times > 0:
                detail = f"{key}={n:g}" + (f", 超出{r.beyond:g}" if r.beyond else "")
                bonuses.append(Bonus(r.name, round(r.amount * times, 2), detail))
    pay_total = base + perf + sum(b.amount for b in bonuses)
    return PayLine(
        round(target, 2), round(base, 2), round(perf, 2), coef, bonuses, round(pay_total, 2)
    )




def assign_pay(
    scheme: Scheme,
    results: list[AgentScore],
    records: Records,
    counts: Counts,
    previous: list[dict[str, Any] | None],
    warnings: list[str],
) -> None:
    """Each agent's pay line; streak bonuses need the earlier periods' results."""
    tops: dict[str, list[str]] = {}
    streaks: dict[str, list[str]] = {}
    for rule in scheme.pay.rules:
        if rule.kind == "top":
            tops[rule.name] = top_agents(records, scheme, rule)
        elif rule.kind == "streak":
            streaks[rule.name] = streak_winners(records, scheme, rule, previous, warnings)
    for score in results:
        score.pay = pay_for(scheme, score.agent_id, score.total, score.grade, score.metrics,
                            counts.get(score.agent_id, {}), tops, streaks)


def streak_winners(
    records: Records,
    scheme: Scheme,
    rule: PayRule,
    previous: list[dict[str, Any] | None],
    warnings: list[str],
) -> list[str]:
    """First place now and in each of the rule's earlier periods."""
    winners = set(top_agents(records, scheme, rule))
    for back, stored in enumerate(previous[: rule.periods - 1]):
        if stored is None:
            warnings.append(
                f"pay rule {rule.name}: no data {back + 1} period(s) back, streak not awarded"
            )
            return []
        winners &= set(top_agents(records_from_json(stored), scheme, rule))
    return sorted(winners)
