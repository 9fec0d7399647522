"""Scoring one segment: each item's value (raw, shrunk, sample size), points, weights.

Inside a segment: total = Σ w′ᵢ × pointsᵢ, w′ᵢ = wᵢ / Σ (weights of available items);
an unavailable item scored as `missing: zero` counts as available with 0 points.
Segments combine as Σ share × segment total (combine_segments).
"""

from __future__ import annotations

import math
from typing import Any

from kefu.metrics.result import MetricsResult
from kefu.scoring.results import BASE, FiredTrigger, ItemLine, SegmentLine
from kefu.scoring.rules import beta_prior, points, shrink_rate
from kefu.scoring.scheme import Item, Missing, Rule, Scheme, Shrink
from kefu.scoring.sources import Manual

EPS = 1e-9
ScoredValue = tuple[float | None, float | None, float | None, float | None, str]
"""(raw, shrunk, scored value, count, note)"""


def number(v: Any) -> float | None:
    """A metric value as float; null and NaN are None."""
    if v is None:
        return None
    f = float(v)
    return None if math.isnan(f) else f


def scored_values(
    result: MetricsResult, scheme: Scheme, item: Item, agents: list[str]
) -> dict[str, ScoredValue]:
    """agent → (raw, shrunk, scored value, count, note) for one metric item.

    Shrinkage pools the agents of the same team within the population (the team mean is
    the pooled team rate); min_count turns a value on too few events into unavailable.
    """
    count_key = item.count_of
    # an agent missing from a segment's result (no rows at all) reads as all-null
    vals = {a: result.agents.get(a, {}) for a in agents}
    raw = {a: number(vals[a].get(item.key)) for a in agents}
    cnt = {a: (number(vals[a].get(count_key)) if count_key else None) for a in agents}
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
    out: dict[str, ScoredValue] = {}
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


def apply_triggers(
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
            value = number(table.get(sid, {}).get(t.metric))
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
    weights, fired = apply_triggers(scheme, result, agents, segment)
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


def combine_segments(
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
