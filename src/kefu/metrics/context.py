"""What every metric family receives: the facts, the period, the parameters, the tables."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import ibis.expr.types as ir

from kefu.metrics.facts import Facts, Period
from kefu.metrics.params import MetricParams

# Components are additive per-agent counts and sums (team and shop values are
# their sums); every metric is derived from them, so pooled rates are pooled
# numerator over pooled denominator by construction.
Components = dict[str, Any]

LEVELS = ("agent_no", "team", "shop")


@dataclass
class Context:
    facts: Facts
    period: Period
    params: MetricParams
    agents: ir.Table
    """agent_no, team, shop, role: the population and its roll-up keys."""
    orders: ir.Table | None
    ratings: ir.Table | None
    cases: ir.Table | None
    sessions: ir.Table | None
    extra: dict[str, Any] = field(default_factory=dict)

    def with_levels(self, table: ir.Table) -> ir.Table:
        """Attach team and shop (of the agent, from agents) to a fact table keyed by agent_no."""
        levels = self.agents.select("agent_no", "team", "shop")
        return table.join(levels, "agent_no")


def ratio(numerator: float | int | None, denominator: float | int | None) -> float | None:
    """numerator / denominator, null (never 0) when the denominator is empty."""
    if numerator is None or not denominator:
        return None
    return float(numerator) / float(denominator)
