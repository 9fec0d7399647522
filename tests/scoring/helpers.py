"""Hand-made MetricsResult objects for scoring tests (no dataset, no engine)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from kefu.metrics.params import MetricParams
from kefu.metrics.result import MetricsResult, Values
from kefu.scoring.scheme import Scheme, parse_scheme

D = dt.date


def result(
    start: dt.date,
    end: dt.date,
    agents: dict[str, Values],
    info: dict[str, dict[str, str]] | None = None,
    teams: dict[str, Values] | None = None,
    shops: dict[str, Values] | None = None,
) -> MetricsResult:
    """Agents default to team T1, shop S1, role presale."""
    base = {"team": "T1", "shop_id": "S1", "role": "presale"}
    full = {a: {**base, "name": a, **(info or {}).get(a, {})} for a in agents}
    return MetricsResult(
        start=start,
        end=end,
        params=MetricParams.model_validate({}),
        agents=agents,
        teams=teams or {},
        shops=shops or {},
        agent_info=full,
    )


def scheme(data: dict[str, Any]) -> Scheme:
    return parse_scheme({"name": "test", **data})
