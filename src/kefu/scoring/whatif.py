"""What-if: two schemes on the same period — who moves, whose grade changes, what it costs."""

from __future__ import annotations

import datetime as dt
from typing import Any

from kefu.scoring.evaluate import Evaluation, evaluate
from kefu.scoring.scheme import Scheme
from kefu.scoring.sources import Manual, Source


def compare(a: Evaluation, b: Evaluation) -> dict[str, Any]:
    """Per agent (union of both populations) and in total: B − A."""
    ea = {x.agent_id: x for x in a.agents}
    eb = {x.agent_id: x for x in b.agents}
    rows: list[dict[str, Any]] = []
    for agent in sorted(set(ea) | set(eb)):
        x, y = ea.get(agent), eb.get(agent)
        either = x or y
        assert either is not None
        pay_a = x.pay.total if x and x.pay else None
        pay_b = y.pay.total if y and y.pay else None
        rank_a, rank_b = (x.rank if x else None), (y.rank if y else None)
        rows.append(
            {
                "agent_id": agent,
                "name": either.name,
                "team": either.team,
                "in": "both" if x and y else ("a" if x else "b"),
                "total_a": x.total if x else None,
                "total_b": y.total if y else None,
                "grade_a": x.grade if x else None,
                "grade_b": y.grade if y else None,
                "rank_a": rank_a,
                "rank_b": rank_b,
                # positive = moved up under B
                "rank_change": None if rank_a is None or rank_b is None else rank_a - rank_b,
                "pay_a": pay_a,
                "pay_b": pay_b,
                "pay_change": None if pay_a is None or pay_b is None else round(pay_b - pay_a, 2),
            }
        )
    pay_a = round(sum(r["pay_a"] or 0 for r in rows), 2)
    pay_b = round(sum(r["pay_b"] or 0 for r in rows), 2)
    return {
        "start": a.start.isoformat(),
        "end": a.end.isoformat(),
        "scheme_a": {k: a.scheme[k] for k in ("name", "version", "sha256")},
        "scheme_b": {k: b.scheme[k] for k in ("name", "version", "sha256")},
        "summary": {
            "agents": len(rows),
            "rank_changes": sum(1 for r in rows if r["rank_change"]),
            "grade_changes": sum(
                1 for r in rows if r["in"] == "both" and r["grade_a"] != r["grade_b"]
            ),
            "pay_total_a": pay_a,
            "pay_total_b": pay_b,
            "pay_difference": round(pay_b - pay_a, 2),
        },
        "agents": rows,
        "warnings": sorted(set(a.warnings) | set(b.warnings)),
    }


def whatif(
    source: Source,
    scheme_a: Scheme,
    scheme_b: Scheme,
    start: dt.date,
    end: dt.date,
    manual: Manual | None = None,
    history: dict[tuple[dt.date, dt.date], dict[str, Any]] | None = None,
    source_b: Source | None = None,
) -> dict[str, Any]:
    """Evaluate both schemes on the same metrics (computed once) and compare.

    ``source_b``: B's metrics when B sets other metric options (its ``params:``)."""
    ev_a = evaluate(source, scheme_a, start, end, _only(manual, scheme_a), history)
    ev_b = evaluate(source_b or source, scheme_b, start, end, _only(manual, scheme_b), history)
    return compare(ev_a, ev_b)


def _only(manual: Manual | None, scheme: Scheme) -> Manual:
    """The manual scores of the items this scheme has (one file may serve both schemes)."""
    keys = {i.key for i in scheme.all_items()}
    return {a: {k: v for k, v in m.items() if k in keys} for a, m in (manual or {}).items()}
