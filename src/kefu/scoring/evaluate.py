"""Evaluate a period with a scheme: points, weights, totals, grades, ranks, pay, plans.

The rules chosen where scoring.md is silent are in docs/schemes.md; in short:
- A period that meets scenarios is cut into *segments* (maximal runs of days with the
  same scenario or none). Metrics are computed per segment, each segment is scored with
  its own effective scheme (scenario overrides, then triggers on that segment's shop or
  team metrics), and an agent's total is Σ share × segment total, with share = days of
  the segment / days of the period (or the agent's received, as the scheme says).
- Inside a segment: total = Σ w′ᵢ × pointsᵢ, w′ᵢ = wᵢ / Σ (weights of available items);
  an unavailable item scored as `missing: zero` counts as available with 0 points.
- Grades compare the exact total (display rounding never changes a grade).
- Ranks: competition ranking (1, 2, 2, 4) by exact total, descending.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from kefu.metrics.registry import BY_KEY
from kefu.metrics.result import MetricsResult
from kefu.scoring.items import combine_segments, number, score_segment
from kefu.scoring.pay import assign_pay, records_from_result
from kefu.scoring.periods import Segment, previous_period, segments_of
from kefu.scoring.ranking import competition_rank, grade_of, ranks_within
from kefu.scoring.results import (
    BASE,
    AgentScore,
    Bonus,
    Evaluation,
    FiredTrigger,
    ItemLine,
    PayLine,
    SegmentLine,
    display,
)
from kefu.scoring.scheme import Rule, Scheme, scheme_fingerprint
from kefu.scoring.sources import Manual, Source
from kefu.scoring.training import follow_up, plan_for

__all__ = [
    "AgentScore", "Bonus", "Evaluation", "FiredTrigger", "ItemLine", "PayLine", "SegmentLine",
    "competition_rank", "display", "evaluate", "grade_of", "previous_period", "segments_of",
]
History = dict[tuple[dt.date, dt.date], dict[str, Any]]
Scored = tuple[float | None, list[ItemLine]]


def evaluate(
    source: Source,
    scheme: Scheme,
    start: dt.date,
    end: dt.date,
    manual: Manual | None = None,
    history: History | None = None,
    _depth: int = 0,
) -> Evaluation:
    """Score every agent of the scheme's population on start..end (see module doc).

    The steps: check the inputs → score each scenario segment → combine segments →
    totals, grades, ranks and plans → previous periods (环比, streaks) → pay → follow-up.
    """
    if end < start:
        raise ValueError(f"end {end} is before start {start}")
    manual = manual or {}
    partial = getattr(source, "metrics_for", None)
    if _depth > 0 and partial is not None:
        # a previous period: its scores, plans and the pay rules' metrics are enough
        whole = partial(start, end, segment_keys(scheme) | pay_keys(scheme))
    else:
        whole = source.metrics(start, end)
    agents = population(whole, scheme)
    warnings = check_inputs(whole, scheme, agents, manual, report=_depth == 0)
    segs = segments_of(scheme, start, end)
    per_agent, fired = score_segments(source, scheme, whole, agents, manual, segs)
    combined = {a: combine_segments(per_agent[a]) for a in agents}
    if len(segs) > 1:
        # segments were scored separately; show the whole period's raw value for reading
        for a in agents:
            for line in combined[a][1]:
                line.value_raw = number(whole.agents[a].get(line.key)) if line.key in BY_KEY \
                    else None
                line.note = "分段计分"
    results = agent_scores(scheme, whole, agents, combined, per_agent, segs, warnings)
    for line in (li for r in results for li in r.items if li.key in whole.provenance):
        line.note = line.note or "平台报表值(reported)"  # a platform's number, not kefu's
    prev_start, prev_end = previous_period(start, end)
    ev = Evaluation(
        scheme={**scheme.describe(), "sha256": scheme_fingerprint(scheme)},
        start=start, end=end,
        segments=[{"name": sc or BASE, "start": s0, "end": s1, "days": (s1 - s0).days + 1}
                  for sc, s0, s1 in segs],
        triggers=fired, agents=results, teams={}, warnings=warnings,
        prev_start=prev_start, prev_end=prev_end,
        provenance=dict(whole.provenance),
    )
    if _depth > 0:
        return ev  # a previous period only needs scores and plans
    previous = previous_results(source, scheme, start, end, history, _depth)
    if previous[0] is None:
        ev.prev_start = ev.prev_end = None
        warnings.append(f"no data for the previous period {prev_start}..{prev_end}: "
                        "no 环比 and no training follow-up")
    assign_pay(scheme, results, records_from_result(whole, agents),
               source.counts(start, end), previous, warnings)
    add_follow_up(scheme, results, previous[0])
    ev.teams = team_summary(results, previous[0])
    return ev


def population(result: MetricsResult, scheme: Scheme) -> list[str]:
    """Agents the scheme applies to: roles and/or teams (empty list = any)."""
    roles, teams = scheme.applies_to.roles, scheme.applies_to.teams
    ids = []
    for agent_id in result.agents:
        info = result.agent_info.get(agent_id, {})
        if roles and info.get("role") not in roles:
            continue
        if teams and info.get("team") not in teams:
            continue
        ids.append(agent_id)
    return sorted(ids)


def check_inputs(
    whole: MetricsResult, scheme: Scheme, agents: list[str], manual: Manual, report: bool
) -> list[str]:
    """Warnings about the population, absent metrics and manual scores; bad manual raises."""
    warnings: list[str] = []
    if not agents:
        warnings.append("the scheme's population (roles/teams) has no agent in the data")
    absent = [i.key for i in scheme.all_items() if i.rule is not Rule.manual
              and not any(i.key in v for v in whole.agents.values())]
    if absent and report:
        warnings.append(f"metrics not in the data's results (QA skipped?): {absent}")
    manual_items = {i.key for i in scheme.all_items() if i.rule is Rule.manual}
    for a, entered in manual.items():
        unknown = sorted(set(entered) - manual_items)
        if unknown:
            raise ValueError(f"manual scores: {unknown} are not manual items of the scheme")
        if a not in whole.agents:
            raise ValueError(f"manual scores: agent {a!r} is not in the data")
    missing = sorted({k for k in manual_items for a in agents if k not in manual.get(a, {})})
    if missing and report:
        warnings.append(f"manual items without scores for some agents: {missing}")
    return warnings


def score_segments(
    source: Source,
    scheme: Scheme,
    whole: MetricsResult,
    agents: list[str],
    manual: Manual,
    segs: list[Segment],
) -> tuple[dict[str, list[tuple[SegmentLine, float | None]]], list[FiredTrigger]]:
    """Each segment scored with its own effective scheme; with its share's weight."""
    fired: list[FiredTrigger] = []
    per_agent: dict[str, list[tuple[SegmentLine, float | None]]] = {a: [] for a in agents}
    partial = getattr(source, "metrics_for", None)
    for scenario, s0, s1 in segs:
        if len(segs) == 1:
            res = whole
        elif partial is not None:
            res = partial(s0, s1, segment_keys(scheme))
        else:
            res = source.metrics(s0, s1)
        name = scenario or BASE
        scores, segment_fired = score_segment(res, scheme.with_scenario(scenario), agents,
                                              manual, name)
        fired += segment_fired
        days = (s1 - s0).days + 1
        for a in agents:
            total, lines = scores[a]
            weight = (number(res.agents.get(a, {}).get("received"))
                      if scheme.scenario_combine == "received" else float(days))
            per_agent[a].append((SegmentLine(name, s0, s1, days, 0.0, total, lines), weight))
    if scheme.scenario_combine == "received":
        for a in agents:  # an agent who received nobody is weighted by days
            if not any(w for _, w in per_agent[a]):
                per_agent[a] = [(s, float(s.days)) for s, _ in per_agent[a]]
    return per_agent, fired


def segment_keys(scheme: Scheme) -> frozenset[str]:
    """What scoring a segment reads: items, their counts, triggers, the share by received."""
    keys = {"received"} | {t.metric for t in scheme.triggers}
    for item in scheme.all_items():
        keys.add(item.key)
        if item.count_of:
            keys.add(item.count_of)
    return frozenset(keys)


def pay_keys(scheme: Scheme) -> frozenset[str]:
    """The metrics the pay rules compete on or count, and what those are counted over."""
    keys: set[str] = set()
    for rule in scheme.pay.rules:
        for key in (rule.metric, rule.count):
            if key in BY_KEY:
                keys.add(key)
                count = BY_KEY[key].count_metric
                if count:
                    keys.add(count)
    return frozenset(keys)


def agent_scores(
    scheme: Scheme,
    whole: MetricsResult,
    agents: list[str],
    combined: dict[str, Scored],
    per_agent: dict[str, list[tuple[SegmentLine, float | None]]],
    segs: list[Segment],
    warnings: list[str],
) -> list[AgentScore]:
    """Totals, grades, ranks (population, role, team) and training plans; best first."""
    totals = {a: combined[a][0] for a in agents}
    warnings += [f"{a}: no item is available, no total" for a in agents if totals[a] is None]
    info = whole.agent_info
    rank = competition_rank(totals)
    rank_role = ranks_within(totals, {a: info.get(a, {}).get("role", "") for a in agents})
    rank_team = ranks_within(totals, {a: info.get(a, {}).get("team", "") for a in agents})
    results: list[AgentScore] = []
    for a in agents:
        i = info.get(a, {})
        total, items = combined[a]
        score = AgentScore(
            agent_id=a, name=i.get("name", a), team=i.get("team", ""),
            shop_id=i.get("shop_id", ""), role=i.get("role", ""), total=total,
            grade=grade_of(scheme, total), rank=rank[a], rank_in_role=rank_role[a],
            rank_in_team=rank_team[a], items=items,
            segments=[s for s, _ in per_agent[a]] if len(segs) > 1 else [],
            metrics=dict(whole.agents[a]),
        )
        score.training = plan_for(score.items, scheme.training.max_items)
        results.append(score)
    # best first; agents without a total last
    results.sort(key=lambda r: (r.rank is None, r.rank or 0, r.agent_id))
    return results


def previous_results(
    source: Source,
    scheme: Scheme,
    start: dt.date,
    end: dt.date,
    history: History | None,
    depth: int,
) -> list[dict[str, Any] | None]:
    """Earlier periods, newest first: stored results (what was published), else computed.

    As many as the longest streak rule needs, at least one (环比 and follow-up).
    """
    needed = max([r.periods for r in scheme.pay.rules if r.kind == "streak"] + [2]) - 1
    out: list[dict[str, Any] | None] = []
    p0, p1 = start, end
    for _ in range(needed):
        p0, p1 = previous_period(p0, p1)
        if history and (p0, p1) in history:
            out.append(history[(p0, p1)])
        elif source.has_data(p0, p1):
            out.append(evaluate(source, scheme, p0, p1, None, None, depth + 1).to_json_dict())
        else:
            out.append(None)
    return out


def add_follow_up(
    scheme: Scheme, results: list[AgentScore], previous: dict[str, Any] | None
) -> None:
    """Last period's total and whether last period's training items improved."""
    if previous is None:
        return
    before = {a["agent_id"]: a for a in previous["agents"]}
    for score in results:
        earlier = before.get(score.agent_id)
        if earlier is not None:
            score.prev_total = earlier.get("total")
            score.follow_up = follow_up(earlier, score, scheme)


def team_summary(results: list[AgentScore], prev: dict[str, Any] | None) -> dict[str, Any]:
    """Per team: agents, mean total now and in the previous period (环比), grade counts."""
    prev_by_team: dict[str, list[float]] = {}
    for a in (prev or {}).get("agents", []):
        if a.get("total") is not None:
            prev_by_team.setdefault(a.get("team", ""), []).append(a["total"])
    out: dict[str, Any] = {}
    for team in sorted({r.team for r in results}):
        members = [r for r in results if r.team == team]
        tot = [r.total for r in members if r.total is not None]
        mean = sum(tot) / len(tot) if tot else None
        ptot = prev_by_team.get(team)
        pmean = sum(ptot) / len(ptot) if ptot else None
        grades: dict[str, int] = {}
        for r in members:
            if r.grade:
                grades[r.grade] = grades.get(r.grade, 0) + 1
        out[team] = {
            "agents": len(members),
            "mean_total": mean,
            "prev_mean_total": pmean,
            "change": None if mean is None or pmean is None else mean - pmean,
            "grades": grades,
            "pay_total": round(sum(r.pay.total for r in members if r.pay), 2),
        }
    return out
