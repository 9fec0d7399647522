"""Periods of an evaluation: the previous period (环比) and scenario segments."""

from __future__ import annotations

import datetime as dt

from dateutil.relativedelta import relativedelta

from kefu.scoring.scheme import Scheme

Segment = tuple[str | None, dt.date, dt.date]
"""(scenario or None, first day, last day)"""


def previous_period(start: dt.date, end: dt.date) -> tuple[dt.date, dt.date]:
    """The previous period of equal length; whole calendar months step back by months."""
    after = end + dt.timedelta(days=1)
    if start.day == 1 and after.day == 1:
        months = relativedelta(after, start).years * 12 + relativedelta(after, start).months
        return start - relativedelta(months=months), start - dt.timedelta(days=1)
    length = end - start + dt.timedelta(days=1)
    return start - length, start - dt.timedelta(days=1)


def segments_of(scheme: Scheme, start: dt.date, end: dt.date) -> list[Segment]:
    """Maximal runs of days with the same scenario (None = no scenario)."""
    out: list[Segment] = []
    day = start
    while day <= end:
        scenario = scheme.scenario_on(day)
        if out and out[-1][0] == scenario and out[-1][2] == day - dt.timedelta(days=1):
            out[-1] = (scenario, out[-1][1], day)
        else:
            out.append((scenario, day, day))
        day += dt.timedelta(days=1)
    return out
