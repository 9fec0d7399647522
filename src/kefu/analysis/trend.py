"""Trends (趋势): one metric over the last N months or weeks, with 环比 and 同比.

Every period is answered by the same analysis session (facts built once), so a
trend point is exactly what ``kefu metrics`` says for that period.

- periods are whole calendar months, or ISO weeks (Monday to Sunday); the last
  is the one containing ``end``;
- 环比 (``mom``): the relative change against the period just before,
  (value − previous) / |previous|;
- 同比 (``yoy``): the relative change against the same period a year before
  (the same month; for weeks, 52 weeks = 364 days earlier, the same weekday);
- a change is null when either value is null or the earlier one is 0.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, Literal

from kefu.metrics.registry import get

if TYPE_CHECKING:
    from kefu.analysis.session import Analysis

By = Literal["month", "week"]


def month_start(day: dt.date, back: int = 0) -> dt.date:
    """The first day of the month ``back`` months before the month of ``day``."""
    index = day.year * 12 + day.month - 1 - back
    return dt.date(index // 12, index % 12 + 1, 1)


def period_of(day: dt.date, by: By, back: int = 0) -> tuple[dt.date, dt.date]:
    """The month or ISO week ``back`` periods before the one containing ``day``."""
    if by == "month":
        first = month_start(day, back)
        return first, month_start(day, back - 1) - dt.timedelta(days=1)
    monday = day - dt.timedelta(days=day.weekday()) - dt.timedelta(weeks=back)
    return monday, monday + dt.timedelta(days=6)


def year_before(period: tuple[dt.date, dt.date], by: By) -> tuple[dt.date, dt.date]:
    if by == "month":
        return period_of(period[0], "month", 12)
    return period_of(period[0], "week", 52)


def change(value: Any, earlier: Any) -> float | None:
    if value is None or earlier is None or earlier == 0:
        return None
    return (float(value) - float(earlier)) / abs(float(earlier))


def trend(
    analysis: Analysis, metric: str, end: dt.date, periods: int = 12, by: str = "month",
    level: str = "agent",
) -> dict[str, Any]:
    """The metric per entity of ``level`` for each period, with 环比 and 同比."""
    get(metric)  # KeyError naming an unknown metric
    if periods < 1:
        raise ValueError(f"--periods must be at least 1, not {periods}")
    if by not in ("month", "week"):
        raise ValueError(f"--by must be month or week, not {by!r}")
    if level not in ("agent", "team", "shop"):
        raise ValueError(f"--level must be agent, team or shop, not {level!r}")
    unit: By = "month" if by == "month" else "week"
    spans = [period_of(end, unit, back) for back in range(periods - 1, -1, -1)]

    def values(span: tuple[dt.date, dt.date]) -> dict[str, Any]:
        result = analysis.metrics(*span)
        table = {"agent": result.agents, "team": result.teams, "shop": result.shops}[level]
        return {entity: row.get(metric) for entity, row in table.items()}

    rows: list[dict[str, Any]] = []
    for span in spans:
        now = values(span)
        before = values(period_of(span[0], unit, 1))
        last_year = values(year_before(span, unit))
        for entity, value in now.items():
            rows.append({
                level: entity, "period_start": span[0].isoformat(),
                "period_end": span[1].isoformat(), metric: value,
                "previous": before.get(entity), "mom": change(value, before.get(entity)),
                "year_before": last_year.get(entity),
                "yoy": change(value, last_year.get(entity)),
            })
    rows.sort(key=lambda r: (r[level], r["period_start"]))
    return {
        "metric": metric, "by": by, "level": level,
        "periods": [{"start": s.isoformat(), "end": e.isoformat()} for s, e in spans],
        "rows": rows,
        "manifest": analysis.manifest(spans[0][0], spans[-1][1]).to_json_dict(),
    }
