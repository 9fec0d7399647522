"""Reported metrics as a scoring Source: schemes score a platform's KPI report exactly like
computed metrics; every such value is marked ``reported`` (MetricsResult.provenance).

Rows of several days combine per the rule stored with each value (docs/data.md):
``sum`` adds; ``mean`` is weighted by the agent's reported weight key of the same
row (e.g. conversion_rate by inquiries, so the result equals Σconverted/Σinquiries),
unweighted when that key is not reported. A row must lie inside the period asked
for: a monthly row cannot be cut into days.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from kefu.ingest.reports import Reported, load_reported
from kefu.metrics.params import MetricParams
from kefu.metrics.registry import METRICS
from kefu.metrics.result import MetricsResult, Values
from kefu.scoring.sources import Counts

REPORTED = "reported"


class ReportSource:
    """Metrics from reported values (a KPI report), for any period its rows fit in."""

    def __init__(self, values: list[Reported], tz: str = "Asia/Shanghai",
                 agent_info: dict[str, dict[str, str]] | None = None) -> None:
        if not values:
            raise ValueError("no reported values")
        self.values = values
        self.tz = tz
        self.info = agent_info or {}

    def rows_in(self, start: dt.date, end: dt.date) -> list[Reported]:
        inside = [v for v in self.values if start <= v.start and v.end <= end]
        cut = next((v for v in self.values if v.start <= end and v.end >= start
                    and not (start <= v.start and v.end <= end)), None)
        if cut is not None:
            raise ValueError(f"the report's rows for {cut.start}..{cut.end} cannot be cut into "
                             f"{start}..{end}; ask for a period made of whole report periods")
        return inside

    def has_data(self, start: dt.date, end: dt.date) -> bool:
        return any(start <= v.start and v.end <= end for v in self.values)

    def counts(self, start: dt.date, end: dt.date) -> Counts:
        return {}

    def metrics(self, start: dt.date, end: dt.date) -> MetricsResult:
        rows = self.rows_in(start, end)
        if not rows:
            first = min(v.start for v in self.values)
            last = max(v.end for v in self.values)
            raise ValueError(f"the report has no rows for {start}..{end} (it covers "
                             f"{first}..{last})")
        info: dict[str, dict[str, str]] = {}
        for v in rows:
            info[v.agent_id] = {"name": v.name or v.agent_id, "team": v.team,
                                "shop_id": v.shop_id, "role": v.role,
                                **self.info.get(v.agent_id, {})}
        agents = {a: combine(r for r in rows if r.agent_id == a) for a in info}
        teams = {t: combine(r for r in rows if info[r.agent_id]["team"] == t)
                 for t in {i["team"] for i in info.values()}}
        shops = {s: combine(r for r in rows if info[r.agent_id]["shop_id"] == s)
                 for s in {i["shop_id"] for i in info.values()}}
        present = {v.key for v in rows}
        keys = tuple(m.key for m in METRICS if m.key in present)
        return MetricsResult(start, end, MetricParams.model_validate({"tz": self.tz}), agents,
                             teams, shops, agent_info=info, keys=keys,
                             provenance=dict.fromkeys(keys, REPORTED))


def combine(rows: Iterable[Reported]) -> Values:
    """Values of several (agent, period) rows → one value per key, by each row's rule."""
    by_unit: dict[tuple[str, dt.date, dt.date], dict[str, float]] = defaultdict(dict)
    rules: dict[str, tuple[str, str]] = {}
    for r in rows:
        by_unit[(r.agent_id, r.start, r.end)][r.key] = r.value
        rules[r.key] = (r.aggregate, r.weight)
    out: Values = {}
    for key, (rule, weight) in rules.items():
        units = [u for u in by_unit.values() if key in u]
        if rule == "sum":
            out[key] = sum(u[key] for u in units)
            continue
        weights = [u.get(weight) if weight else None for u in units]
        if len(units) > 1 and all(w is not None for w in weights):
            total = sum(w for w in weights if w is not None)
            out[key] = (sum(u[key] * (w or 0) for u, w in zip(units, weights, strict=True))
                        / total) if total else None
        else:
            out[key] = sum(u[key] for u in units) / len(units)
    return out


def with_reported(computed: MetricsResult, reported: MetricsResult) -> MetricsResult:
    """Computed metrics, plus the reported keys kefu could not compute (null for every agent).

    A key is either computed or reported, never mixed across agents.
    """
    fill = [k for k in reported.keys
            if all(v.get(k) is None for v in computed.agents.values())]
    if not fill:
        return computed
    for scope, other in ((computed.agents, reported.agents), (computed.teams, reported.teams),
                         (computed.shops, reported.shops)):
        for name, values in other.items():
            target = scope.setdefault(name, {})
            target.update({k: values.get(k) for k in fill})
    for agent, info in reported.agent_info.items():
        computed.agent_info.setdefault(agent, info)
    computed.keys = tuple(m.key for m in METRICS if m.key in {*computed.keys, *fill})
    computed.provenance = {**computed.provenance, **dict.fromkeys(fill, REPORTED)}
    return computed


class FilledSource:
    """A dataset's computed metrics, with a KPI report filling the keys it cannot compute."""

    def __init__(self, computed: Any, reported: ReportSource) -> None:
        self.computed = computed
        self.reported = reported

    def metrics(self, start: dt.date, end: dt.date) -> MetricsResult:
        result: MetricsResult = self.computed.metrics(start, end)
        if self.reported.has_data(start, end):
            result = with_reported(result, self.reported.metrics(start, end))
        return result

    def counts(self, start: dt.date, end: dt.date) -> Counts:
        counts: Counts = self.computed.counts(start, end)
        return counts

    def has_data(self, start: dt.date, end: dt.date) -> bool:
        return bool(self.computed.has_data(start, end) or self.reported.has_data(start, end))


def folder_source(data: Path, tz: str) -> ReportSource | None:
    """A ReportSource when ``data`` holds reported values and no chat messages (KPI report
    alone); None otherwise (the caller then computes, see ``FilledSource``)."""
    values = load_reported(data)
    if not values:
        return None
    return ReportSource(values, tz, agents_info(data))


def agents_info(data: Path) -> dict[str, dict[str, str]]:
    """name, team, role, shop of agents imported into the workspace (they win over the report)."""
    import pyarrow.parquet as pq

    info: dict[str, dict[str, str]] = {}
    for f in sorted((data / "agents").glob("*.parquet")):
        for r in pq.read_table(f).to_pylist():
            info[r["agent_id"]] = {k: r[k] or "" for k in ("name", "team", "role", "shop_id")
                                   if k in r and r[k] is not None}
    return info


def has_messages(data: Path) -> bool:
    return any((data / "messages").glob("*")) or any(data.glob("messages*"))
