"""What an evaluation returns: typed results, per item, segment, agent and period."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import asdict, dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from kefu.scoring.training import FollowUp, PlanItem

BASE = "常规"  # the name shown for days outside every scenario


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
    provenance: dict[str, str] = field(default_factory=dict)
    """metric key -> "reported": scored from a platform's report, not computed by kefu."""

    def agent(self, agent_id: str) -> AgentScore:
        return next(a for a in self.agents if a.agent_id == agent_id)

    def to_json_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for a in data["agents"]:
            a["total_display"] = display(a["total"])
        data["pay_total"] = round(sum(a.pay.total for a in self.agents if a.pay), 2)
        result: dict[str, Any] = json_safe(data)
        return result


@dataclass
class TrainingLine:
    """One agent's training plan and the follow-up of the previous period's plan."""

    agent_id: str
    name: str
    team: str
    total: float | None
    prev_total: float | None
    training: list[PlanItem]
    follow_up: list[FollowUp]


@dataclass
class TrainingReport:
    """``kefu training``: the plans of an evaluation, without its scoring detail."""

    start: dt.date
    end: dt.date
    prev_start: dt.date | None
    prev_end: dt.date | None
    agents: list[TrainingLine]
    teams: dict[str, dict[str, Any]]
    warnings: list[str]
    manifest: dict[str, Any] | None = None

    def to_json_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = json_safe(asdict(self))
        return result


def training_report(evaluation: Evaluation) -> TrainingReport:
    return TrainingReport(
        start=evaluation.start, end=evaluation.end,
        prev_start=evaluation.prev_start, prev_end=evaluation.prev_end,
        agents=[TrainingLine(a.agent_id, a.name, a.team, a.total, a.prev_total, a.training,
                             a.follow_up) for a in evaluation.agents],
        teams=evaluation.teams, warnings=evaluation.warnings, manifest=evaluation.manifest,
    )


def json_safe(o: Any) -> Any:
    """Dates as ISO text, non-finite floats as null, containers converted throughout."""
    if isinstance(o, dt.date):
        return o.isoformat()
    if isinstance(o, float) and not math.isfinite(o):
        return None
    if isinstance(o, dict):
        return {k: json_safe(v) for k, v in o.items()}
    if isinstance(o, list | tuple):
        return [json_safe(v) for v in o]
    return o


def display(x: float | None) -> float | None:
    """One decimal, half up (61.25 → 61.3, as a manager rounds); for display only."""
    if x is None:
        return None
    return float(Decimal(repr(x)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))
