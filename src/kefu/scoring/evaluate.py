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
import math
from dataclasses import asdict, dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from kefu.metrics.registry import BY_KEY, Direction
from kefu.metrics.result import MetricsResult
from kefu.scoring.rules import beta_prior, points, shrink_rate
from kefu.scoring.scheme import Item, Missing, PayRule, Rule, Scheme, Shrink, scheme_fingerprint
from kefu.scoring.sources import Counts, Manual, Source
from kefu.scoring.training import FollowUp, PlanItem, follow_up, plan_for

BASE = "常规"  # the name shown for days outside every scenario
EPS = 1e-9


@dataclass
class ItemLine:
    key: str
    label: str
    group: str | None
    rule: str
    value_raw: float | None
    value_shrunk: float | None
    value: float | None
    """The value that was scored (raw, shrunk, or None when below min_count)."""
    count: float | None
    points: float | None
    weight: float
    """Nominal weight in the scheme (after scenario and triggers)."""
    eff_weight: float
    """Weight actually applied: rescaled over available items; 0 when left out."""
    contribution: float
    note: str = ""


@dataclass
class SegmentLine:
    name: str
    start: dt.date
    end: dt.date
    days: int
    share: float
    total: float | None
    items: list[ItemLine]


@dataclass
class FiredTrigger:
    name: str
    segment: str
    scope: str
    scope_id: str
    metric: str
    value: float
    op: str
    threshold: float
    move_from: str
    move_to: str
    moved: float
    agents: list[str]


@dataclass
class Bonus:
    name: str
    amount: float
    detail: str


@dataclass
class PayLine:
    target_salary: float
    base: float
    performance: float
    coefficient: float
    bonuses: list[Bonus]
    total: float


@dataclass
class AgentScore:
    agent_id: str
    name: str
    team: str
    shop_id: str
    role: str
    total: float | None
    grade: str | None
    rank: int | None
    rank_in_role: int | None
    rank_in_team: int | None
    items: list[ItemLine]
    segments: list[SegmentLine]
    pay: PayLine | None = None
    training: list[PlanItem] = field(default_factory=list)
    follow_up: list[FollowUp] = field(default_factory=list)
    prev_total: float | None = None
    metrics: dict[str, float | int | None] = field(default_factory=dict)


@dataclass
class Evaluation:
    scheme: dict[str, Any]
    start: dt.date
    end: dt.date
    segments: list[dict[str, Any]]
    triggers: list[FiredTrigger]
    agents: list[AgentScore]
    teams: dict[str, dict[str, Any]]
    warnings: list[str]
    prev_start: dt.date | None = None
    prev_end: dt.date | None = None
    manifest: dict[str, Any] | None = None
    """what the result was computed from (kefu.analysis.manifest), when known."""

    def agent(self, agent_id: str) -> AgentScore:
        return next(a for a in self.agents if a.agent_id == agent_id)

    def to_json_dict(self) -> dict[str, Any]:
        def conv(o: Any) -> Any:
            if isinstance(o, dt.date):
                return o.isoformat()
            if isinstance(o, float) and not math.isfinite(o):
                return None
            if isinstance(o, dict):
                return {k: conv(v) for k, v in o.items()}
            if isinstance(o, list | tuple):
                return [conv(v) for v in o]
            return o

        data = asdict(self)
        for a in data["agents"]:
            a["total_display"] = display(a["total"])
        data["pay_total"] = round(sum(a.pay.total for a in self.agents if a.pay), 2)
        result: dict[str, Any] = conv(data)
        return result


def display(x: float | None) -> float | None:
    """One decimal, half up (61.25 → 61.3, as a manager rounds); for display only."""
    if x is None:
        return None
    return float(Decimal(repr(x)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


# ---------------------------------------------------------------------------- periods


def previous_period(start: dt.date, end: dt.date) -> tuple[dt.date, dt.date]:
    """The previous period of equal length; a whole calendar month steps back one month."""
    nxt = end + dt.timedelta(days=1)
    if start.day == 1 and nxt.day == 1:
        months = (nxt.year - start.year) * 12 + nxt.month - start.month
        y, m = start.year, start.month - months
        while m < 1:
            y, m = y - 1, m + 12
        return dt.date(y, m, 1), start - dt.timedelta(days=1)
    length = (end - start).days + 1
    return start - dt.timedelta(days=length), start - dt.timedelta(days=1)


def segments_of(
    scheme: Scheme, start: dt.date, end: dt.date
) -> list[tuple[str | None, dt.date, dt.date]]:
    """Maximal runs of days with the same scenario (None = no scenario)."""
    out: list[tuple[str | None, dt.date, dt.date]] = []
    day = start
    while day <= end:
        sc = scheme.scenario_on(day)
        if out and out[-1][0] == sc and out[-1][2] == day - dt.timedelta(days=1):
            out[-1] = (sc, out[-1][1], day)
        else:
            out.append((sc, day, day))
        day += dt.timedelta(days=1)
    return out


# ---------------------------------------------------------------------------- population


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


def _num(v: Any) -> float | None:
    if v is None:
        return None
    f = float(v)
    return None if math.isnan(f) else f


def scored_values(
    result: MetricsResult, scheme: Scheme, item: Item, agents: list[str]
) -> dict[str, tuple[float | None, float | None, float | None, float | None, str]]:
    """agent → (raw, shrunk, scored value, count, note) for one metric item.

    Shrinkage pools the agents of the same team within the population (the team mean is
    the pooled team rate); min_count turns a value on too few events into unavailable.
    """
    count_key = item.count_of
    # an agent missing from a segment's result (no rows at all) reads as all-null
    vals = {a: result.agents.get(a, {}) for a in agents}
    raw = {a: _num(vals[a].get(item.key)) for a in agents}
    cnt = {a: (_num(vals[a].get(count_key)) if count_key else None) for a in agents}
    shrunk: dict[str, float | None] = {a: None for a in agents}
    if item.shrink is not Shrink.none:
        by_team: dict[str, list[str]] = {}
        for a in agents:
            by_team.setdefault(result.agent_info.get(a, {}).get("team", ""), []).append(a)
        for members in by_team.values():
            pairs = [(raw[a], cnt[a]) for a in members if raw[a] is not None and cnt[a]]
            prior = beta_prior([(r, n) for r, n in pairs if r is not None and n is not None])
            for a in members:
                r, n = raw[a], cnt[a]
                if r is not None:
                    shrunk[a] = shrink_rate(r, n or 0.0, prior)
    out: dict[str, tuple[float | None, float | None, float | None, float | None, str]] = {}
    for a in agents:
        value = shrunk[a] if item.shrink is Shrink.score else raw[a]
        note = ""
        if value is None:
            note = "不可用"
        elif item.min_count and (cnt[a] or 0) < item.min_count:
            note = f"样本不足({count_key}={cnt[a] or 0:g}<{item.min_count})"
            value = None
        out[a] = (raw[a], shrunk[a], value, cnt[a], note)
    return out


# ---------------------------------------------------------------------------- one segment


def _apply_triggers(
    scheme: Scheme, result: MetricsResult, agents: list[str], segment: str
) -> tuple[dict[str, dict[str, float]], list[FiredTrigger]]:
    """Per-agent weights after the triggers that fire on the agent's shop or team."""
    base = scheme.flat_weights()
    weights = {a: dict(base) for a in agents}
    fired: list[FiredTrigger] = []
    for t in scheme.triggers:
        groups: dict[str, list[str]] = {}
        for a in agents:
            info = result.agent_info.get(a, {})
            sid = info.get("shop_id" if t.scope == "shop" else "team", "")
            groups.setdefault(sid, []).append(a)
        table = result.shops if t.scope == "shop" else result.teams
        for sid, members in sorted(groups.items()):
            value = _num(table.get(sid, {}).get(t.metric))
            if not t.fires(value):
                continue
            moved = 0.0
            for a in members:
                w = weights[a]
                amount = min(t.move.weight, w[t.move.from_])  # never below zero
                w[t.move.from_] -= amount
                w[t.move.to] += amount
                moved = amount
            assert value is not None
            fired.append(
                FiredTrigger(
                    t.name,
                    segment,
                    t.scope,
                    sid,
                    t.metric,
                    value,
                    t.op,
                    t.value,
                    t.move.from_,
                    t.move.to,
                    moved,
                    members,
                )
            )
    return weights, fired


def score_segment(
    result: MetricsResult,
    scheme: Scheme,
    agents: list[str],
    manual: Manual,
    segment: str = BASE,
) -> tuple[dict[str, tuple[float | None, list[ItemLine]]], list[FiredTrigger]]:
    """Score every agent on one segment's metrics with an (already scenario-applied) scheme."""
    weights, fired = _apply_triggers(scheme, result, agents, segment)
    values = {
        i.key: scored_values(result, scheme, i, agents)
        for i in scheme.all_items()
        if i.rule is not Rule.manual
    }
    out: dict[str, tuple[float | None, list[ItemLine]]] = {}
    for a in agents:
        lines: list[ItemLine] = []
        for item in scheme.all_items():
            if item.rule is Rule.manual:
                pts = manual.get(a, {}).get(item.key)
                raw = shr = val = cnt = None
                val = pts
                note = "" if pts is not None else "未录入"
            else:
                raw, shr, val, cnt, note = values[item.key][a]
                pts = points(item, val)
            missing = item.missing or scheme.missing
            if pts is None and missing is Missing.zero:
                pts, note = 0.0, (note + " 按0分").strip()
            lines.append(
                ItemLine(
                    item.key,
                    item.display_label,
                    scheme.group_of(item.key),
                    item.rule.value,
                    raw,
                    shr,
                    val,
                    cnt,
                    pts,
                    weights[a][item.key],
                    0.0,
                    0.0,
                    note,
                )
            )
        avail = sum(li.weight for li in lines if li.points is not None)
        total: float | None = None
        if avail > EPS:
            total = 0.0
            for li in lines:
                if li.points is not None:
                    li.eff_weight = li.weight / avail
                    li.contribution = li.eff_weight * li.points
                    total += li.contribution
        out[a] = (total, lines)
    return out, fired


# ---------------------------------------------------------------------------- ranks, grades


def competition_rank(totals: dict[str, float | None]) -> dict[str, int | None]:
    """1, 2, 2, 4 …; agents without a total get no rank."""
    ranked = sorted((t, a) for a, t in totals.items() if t is not None)
    out: dict[str, int | None] = {a: None for a in totals}
    ordered = sorted(((t, a) for t, a in ranked), key=lambda p: -p[0])
    for t, a in ordered:
        out[a] = 1 + sum(1 for t2, _ in ordered if t2 > t + EPS)
    return out


def grade_of(scheme: Scheme, total: float | None) -> str | None:
    if total is None:
        return None
    for g in scheme.grades:
        if total >= g.min:
            return g.grade
    return scheme.grades[-1].grade


# ---------------------------------------------------------------------------- pay


def _records_from_result(result: MetricsResult, agents: list[str]) -> dict[str, dict[str, Any]]:
    return {
        a: {"team": result.agent_info.get(a, {}).get("team", ""), "metrics": result.agents[a]}
        for a in agents
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
            n = counts.get(key) if key in counts else _num(metrics.get(key))
            times = max(0.0, (n or 0.0) - r.beyond)
            if times > 0:
                detail = f"{key}={n:g}" + (f", 超出{r.beyond:g}" if r.beyond else "")
                bonuses.append(Bonus(r.name, round(r.amount * times, 2), detail))
    pay_total = base + perf + sum(b.amount for b in bonuses)
    return PayLine(
        round(target, 2), round(base, 2), round(perf, 2), coef, bonuses, round(pay_total, 2)
    )


# ---------------------------------------------------------------------------- evaluate


def _combine(
    segs: list[tuple[SegmentLine, float | None]],
) -> tuple[float | None, list[ItemLine]]:
    """Σ share × segment (shares renormalised over segments that have a total)."""
    if len(segs) == 1:
        seg = segs[0][0]
        seg.share = 1.0
        return seg.total, seg.items
    usable = [(s, w) for s, w in segs if s.total is not None and w and w > 0]
    if not usable:
        return None, [] if not segs else segs[0][0].items
    norm = sum(w for _, w in usable if w is not None)
    total = 0.0
    merged: dict[str, ItemLine] = {}
    for s, w in usable:
        share = (w or 0.0) / norm
        s.share = share
        total += share * (s.total or 0.0)
        for li in s.items:
            m = merged.get(li.key)
            if m is None:
                m = merged[li.key] = ItemLine(
                    li.key,
                    li.label,
                    li.group,
                    li.rule,
                    None,
                    None,
                    None,
                    None,
                    None,
                    0.0,
                    0.0,
                    0.0,
                    "",
                )
            m.weight += share * li.weight
            m.eff_weight += share * li.eff_weight
            m.contribution += share * li.contribution
    for m in merged.values():
        m.points = m.contribution / m.eff_weight if m.eff_weight > EPS else None
    return total, list(merged.values())


def evaluate(
    source: Source,
    scheme: Scheme,
    start: dt.date,
    end: dt.date,
    manual: Manual | None = None,
    history: dict[tuple[dt.date, dt.date], dict[str, Any]] | None = None,
    _depth: int = 0,
) -> Evaluation:
    """Score every agent of the scheme's population on start..end (see module doc)."""
    if end < start:
        raise ValueError(f"end {end} is before start {start}")
    manual = manual or {}
    warnings: list[str] = []
    whole = source.metrics(start, end)
    agents = population(whole, scheme)
    if not agents:
        warnings.append("the scheme's population (roles/teams) has no agent in the data")
    absent = [
        i.key
        for i in scheme.all_items()
        if i.rule is not Rule.manual and not any(i.key in v for v in whole.agents.values())
    ]
    if absent and _depth == 0:
        warnings.append(f"metrics not in the data's results (QA skipped?): {absent}")
    manual_items = {i.key for i in scheme.all_items() if i.rule is Rule.manual}
    for a, entered in manual.items():
        unknown = sorted(set(entered) - manual_items)
        if unknown:
            raise ValueError(f"manual scores: {unknown} are not manual items of the scheme")
        if a not in whole.agents:
            raise ValueError(f"manual scores: agent {a!r} is not in the data")
    missing_manual = sorted({k for k in manual_items for a in agents if k not in manual.get(a, {})})
    if missing_manual and _depth == 0:
        warnings.append(f"manual items without scores for some agents: {missing_manual}")

    segs = segments_of(scheme, start, end)
    fired: list[FiredTrigger] = []
    per_agent: dict[str, list[tuple[SegmentLine, float | None]]] = {a: [] for a in agents}
    for sc, s0, s1 in segs:
        res = whole if len(segs) == 1 else source.metrics(s0, s1)
        eff = scheme.with_scenario(sc)
        name = sc or BASE
        scores, f = score_segment(res, eff, agents, manual, name)
        fired += f
        days = (s1 - s0).days + 1
        for a in agents:
            total, lines = scores[a]
            if scheme.scenario_combine == "received":
                w = _num(res.agents.get(a, {}).get("received"))
            else:
                w = float(days)
            per_agent[a].append((SegmentLine(name, s0, s1, days, 0.0, total, lines), w))
    if scheme.scenario_combine == "received":
        for a in agents:  # an agent who received nobody is weighted by days
            if not any(w for _, w in per_agent[a]):
                per_agent[a] = [(s, float(s.days)) for s, _ in per_agent[a]]

    combined: dict[str, tuple[float | None, list[ItemLine]]] = {
        a: _combine(per_agent[a]) for a in agents
    }
    if len(segs) > 1:
        # segments were scored separately; show the whole period's raw value for reading
        for a in agents:
            for li in combined[a][1]:
                li.value_raw = _num(whole.agents[a].get(li.key)) if li.key in BY_KEY else None
                li.note = "分段计分"
    totals = {a: combined[a][0] for a in agents}
    for a in agents:
        if totals[a] is None:
            warnings.append(f"{a}: no item is available, no total")
    rank = competition_rank(totals)
    info = whole.agent_info

    def ranks_by(field_name: str) -> dict[str, int | None]:
        out: dict[str, int | None] = {}
        keys = {info.get(a, {}).get(field_name, "") for a in agents}
        for k in keys:
            out.update(
                competition_rank(
                    {a: totals[a] for a in agents if info.get(a, {}).get(field_name, "") == k}
                )
            )
        return out

    rank_role, rank_team = ranks_by("role"), ranks_by("team")

    results: list[AgentScore] = []
    for a in agents:
        i = info.get(a, {})
        total, items = combined[a]
        results.append(
            AgentScore(
                agent_id=a,
                name=i.get("name", a),
                team=i.get("team", ""),
                shop_id=i.get("shop_id", ""),
                role=i.get("role", ""),
                total=total,
                grade=grade_of(scheme, total),
                rank=rank[a],
                rank_in_role=rank_role[a],
                rank_in_team=rank_team[a],
                items=items,
                segments=[s for s, _ in per_agent[a]] if len(segs) > 1 else [],
                metrics=dict(whole.agents[a]),
            )
        )
        results[-1].training = plan_for(results[-1].items, scheme.training.max_items)

    # best first; agents without a total last
    results.sort(key=lambda r: (r.rank is None, r.rank or 0, r.agent_id))
    prev_start, prev_end = previous_period(start, end)
    ev = Evaluation(
        scheme={**scheme.describe(), "sha256": scheme_fingerprint(scheme)},
        start=start,
        end=end,
        segments=[
            {"name": sc or BASE, "start": s0, "end": s1, "days": (s1 - s0).days + 1}
            for sc, s0, s1 in segs
        ],
        triggers=fired,
        agents=results,
        teams={},
        warnings=warnings,
        prev_start=prev_start,
        prev_end=prev_end,
    )
    if _depth > 0:
        return ev  # a previous period only needs scores and plans

    # Previous periods: stored results first (what was published), else computed.
    def period_json(p0: dt.date, p1: dt.date) -> dict[str, Any] | None:
        if history and (p0, p1) in history:
            return history[(p0, p1)]
        if not source.has_data(p0, p1):
            return None
        return evaluate(source, scheme, p0, p1, None, None, _depth + 1).to_json_dict()

    needed = max([r.periods for r in scheme.pay.rules if r.kind == "streak"] + [2]) - 1
    prevs: list[dict[str, Any] | None] = []
    p0, p1 = start, end
    for _ in range(needed):
        p0, p1 = previous_period(p0, p1)
        prevs.append(period_json(p0, p1))
    prev = prevs[0] if prevs else None
    if prev is None:
        ev.prev_start = ev.prev_end = None
        warnings.append(
            f"no data for the previous period {prev_start}..{prev_end}: "
            "no 环比 and no training follow-up"
        )

    # Pay
    counts: Counts = source.counts(start, end)
    records = _records_from_result(whole, agents)
    tops: dict[str, list[str]] = {}
    streaks: dict[str, list[str]] = {}
    for r in scheme.pay.rules:
        if r.kind == "top":
            tops[r.name] = top_agents(records, scheme, r)
        elif r.kind == "streak":
            winners = set(top_agents(records, scheme, r))
            for k, pj in enumerate(prevs[: r.periods - 1]):
                if pj is None:
                    warnings.append(
                        f"pay rule {r.name}: no data {k + 1} period(s) back, streak not awarded"
                    )
                    winners = set()
                    break
                winners &= set(top_agents(_records_from_json(pj), scheme, r))
            streaks[r.name] = sorted(winners)
    for s in results:
        s.pay = pay_for(
            scheme,
            s.agent_id,
            s.total,
            s.grade,
            s.metrics,
            counts.get(s.agent_id, {}),
            tops,
            streaks,
        )
        if prev is not None:
            pa = next((x for x in prev["agents"] if x["agent_id"] == s.agent_id), None)
            if pa is not None:
                s.prev_total = pa.get("total")
                s.follow_up = follow_up(pa, s, scheme)
    ev.teams = team_summary(results, prev)
    return ev


def _records_from_json(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        a["agent_id"]: {"team": a.get("team", ""), "metrics": a.get("metrics", {})}
        for a in data["agents"]
    }


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
