"""What-if: two schemes on the same period — who moves, whose grade changes, what it costs."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

from kefu.scoring.evaluate import Evaluation, evaluate
from kefu.scoring.results import AgentScore
from kefu.scoring.scheme import Scheme
from kefu.scoring.sources import Manual, Source


@dataclass(frozen=True)
class AgentChange:
    """One agent under scheme A and scheme B (None where the agent is not in that run)."""

    agent_id: str
    name: str
    team: str
    present: str
    """"both", "a" or "b": the populations the agent is in (JSON key ``in``)."""
    total_a: float | None
    total_b: float | None
    grade_a: str | None
    grade_b: str | None
    rank_a: int | None
    rank_b: int | None
    rank_change: int | None
    """positive = moved up under B"""
    pay_a: float | None
    pay_b: float | None
    pay_change: float | None


@dataclass(frozen=True)
class ChangeSummary:
    agents: int
    rank_changes: int
    grade_changes: int
    pay_total_a: float
    pay_total_b: float
    pay_difference: float


@dataclass
class Comparison:
    """What-if: both schemes on one period, B − A per agent and in total."""

    start: dt.date
    end: dt.date
    scheme_a: dict[str, Any]
    scheme_b: dict[str, Any]
    summary: ChangeSummary
    agents: list[AgentChange]
    warnings: list[str]
    manifest: dict[str, Any] | None = None

    def to_json_dict(self) -> dict[str, Any]:
        """The JSON of ``kefu whatif`` (shared/spec/cli.md)."""
        agents = []
        for change in self.agents:
            row = asdict(change)
            present = row.pop("present")
            agents.append({"agent_id": row.pop("agent_id"), "name": row.pop("name"),
                           "team": row.pop("team"), "in": present, **row})
        data: dict[str, Any] = {
            "start": self.start.isoformat(), "end": self.end.isoformat(),
            "scheme_a": self.scheme_a, "scheme_b": self.scheme_b,
            "summary": asdict(self.summary), "agents": agents, "warnings": self.warnings,
        }
        if self.manifest is not None:
            data["manifest"] = self.manifest
        return data


def compare(a: Evaluation, b: Evaluation) -> Comparison:
    """Per agent (union of both populations) and in total: B − A."""
    ea = {x.agent_id: x for x in a.agents}
    eb = {x.agent_id: x for x in b.agents}
    rows = [_change(agent, ea.get(agent), eb.get(agent)) for agent in sorted(set(ea) | set(eb))]
    pay_a = round(sum(r.pay_a or 0 for r in rows), 2)
    pay_b = round(sum(r.pay_b or 0 for r in rows), 2)
    summary = ChangeSummary(
        agents=len(rows),
        rank_changes=sum(1 for r in rows if r.rank_change),
        grade_changes=sum(1 for r in rows if r.present == "both" and r.grade_a != r.grade_b),
        pay_total_a=pay_a, pay_total_b=pay_b, pay_difference=round(pay_b - pay_a, 2),
    )
    return Comparison(
        start=a.start, end=a.end,
        scheme_a={k: a.scheme[k] for k in ("name", "version", "sha256")},
        scheme_b={k: b.scheme[k] for k in ("name", "version", "sha256")},
        summary=summary, agents=rows,
        warnings=sorted(set(a.warnings) | set(b.warnings)),
    )


def _change(agent: str, x: AgentScore | None, y: AgentScore | None) -> AgentChange:
    either = x or y
    assert either is not None
    pay_a = x.pay.total if x and x.pay else None
    pay_b = y.pay.total if y and y.pay else None
    rank_a, rank_b = (x.rank if x else None), (y.rank if y else None)
    return AgentChange(
        agent_id=agent, name=either.name, team=either.team,
        present="both" if x and y else ("a" if x else "b"),
        total_a=x.total if x else None, total_b=y.total if y else None,
        grade_a=x.grade if x else None, grade_b=y.grade if y else None,
        rank_a=rank_a, rank_b=rank_b,
        rank_change=None if rank_a is None or rank_b is None else rank_a - rank_b,
        pay_a=pay_a, pay_b=pay_b,
        pay_change=None if pay_a is None or pay_b is None else round(pay_b - pay_a, 2),
    )


def whatif(
    source: Source,
    scheme_a: Scheme,
    scheme_b: Scheme,
    start: dt.date,
    end: dt.date,
    manual: Manual | None = None,
    history: dict[tuple[dt.date, dt.date], dict[str, Any]] | None = None,
    source_b: Source | None = None,
) -> Comparison:
    """Evaluate both schemes on the same metrics (computed once) and compare.

    ``source_b``: B's metrics when B sets other metric options (its ``params:``)."""
    ev_a = evaluate(source, scheme_a, start, end, _only(manual, scheme_a), history)
    ev_b = evaluate(source_b or source, scheme_b, start, end, _only(manual, scheme_b), history)
    return compare(ev_a, ev_b)


def _only(manual: Manual | None, scheme: Scheme) -> Manual:
    """The manual scores of the items this scheme has (one file may serve both schemes)."""
    keys = {i.key for i in scheme.all_items()}
    return {a: {k: v for k, v in m.items() if k in keys} for a, m in (manual or {}).items()}
