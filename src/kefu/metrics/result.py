"""The result of one metrics run: values per agent, team and shop."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from kefu.metrics.params import MetricParams

Value = float | int | None
Values = dict[str, Value]


@dataclass
class MetricsResult:
    start: dt.date
    end: dt.date
    params: MetricParams
    agents: dict[str, Values]
    """agent_id -> metric key -> value (null where the denominator is empty)."""
    teams: dict[str, Values]
    shops: dict[str, Values]
    agent_info: dict[str, dict[str, str]] = field(default_factory=dict)
    """agent_id -> name, team, shop_id, role (from the agents table)."""
    keys: tuple[str, ...] = ()
    """metric keys present in this result, in registry order."""
    manifest: dict[str, Any] | None = None
    """what the result was computed from (kefu.analysis.manifest), when known."""
    provenance: dict[str, str] = field(default_factory=dict)
    """metric key -> "reported" for values a platform reported (not computed; no drill-down)."""

    def to_json_dict(self) -> dict[str, Any]:
        """The JSON object of cli.md: start, end, agents, teams, shops."""
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "agents": self.agents,
            "teams": self.teams,
            "shops": self.shops,
            **({"manifest": self.manifest} if self.manifest is not None else {}),
            **({"provenance": self.provenance} if self.provenance else {}),
        }
