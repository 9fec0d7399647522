"""Attendance (考勤) from the online sessions, and late starts against a shift table.

- a *present day* is a business day on which the agent starts an online or
  busy session (a login); its *first login* is the earliest such start;
- ``first_login_h``: the mean wall-clock hour of the first logins (8.5 = 08:30),
  counted from the business day's midnight (after a 03:00 cut, 02:00 is 26);
- ``late_starts``: present days with a shift (the optional ``shifts`` table:
  a dated row, else the row of that weekday; the earliest start when several)
  whose first login is after the shift's start + ``late_grace_min``;
- ``away_hours``: the union of ``away`` intervals inside the period, like
  online_hours for online/busy.
"""

from __future__ import annotations

import datetime as dt

import ibis
import ibis.expr.types as ir
import numpy as np
import pyarrow as pa

from kefu.config import clock_minutes
from kefu.metrics.context import Components, Context
from kefu.metrics.facts import US_PER_DAY, US_PER_S
from kefu.metrics.result import Values
from kefu.metrics.service import US_PER_HOUR, online_intervals, online_time

US_PER_MIN = 60 * US_PER_S
EPOCH = dt.date(1970, 1, 1)


def prepare_shifts(shifts: pa.Table, agent_codes: pa.ChunkedArray) -> pa.Table:
    """agent_no, day (day number or null), weekday (1-7 or null), start_us (after midnight).

    A bad day or time is an error naming the row (line = row + 2, as in the file).
    """
    days: list[int | None] = []
    starts: list[int] = []
    weekdays = [int(w) if w and w.strip().isdigit() else None
                for w in shifts.column("weekday").to_pylist()]
    for i, (day, start) in enumerate(zip(shifts.column("day").to_pylist(),
                                         shifts.column("start").to_pylist(), strict=True)):
        where = f"shifts line {i + 2}"
        try:
            days.append((dt.date.fromisoformat(day) - EPOCH).days if day else None)
        except ValueError:
            raise ValueError(f"{where}, column day: {day!r} is not a date YYYY-MM-DD") from None
        weekday = weekdays[i]
        if not day and not (weekday and 1 <= weekday <= 7):
            raise ValueError(f"{where}: give a day, or a weekday 1 (Monday) … 7 (Sunday)")
        try:
            starts.append(clock_minutes(start) * US_PER_MIN)
        except ValueError as exc:
            raise ValueError(f"{where}, column start: {exc}") from None
    return pa.table({
        "agent_no": agent_codes,
        "day": pa.array(days, pa.int32()),
        "weekday": pa.array([None if d else w for d, w in zip(days, weekdays, strict=True)],
                            pa.int32()),
        "start_us": pa.array(np.asarray(starts, dtype=np.int64)),
    })


def present_days(ctx: Context) -> ir.Table:
    """One row per (agent, business day of the period) with a login: first_login, late."""
    s = ctx.sessions
    assert s is not None
    s = s.filter(s.status.isin(["online", "busy"]) & ctx.period.covers(s.started_day))
    days = s.group_by(["agent_no", s.started_day.name("day")]).aggregate(
        first_login_us=s.started_us.min(), first_lus=s.started_lus.min()
    )
    # wall-clock time of day of the first login (local times are shifted by the day cut)
    days = days.mutate(
        login_tod_us=days.first_lus - days.day.cast("int64") * US_PER_DAY
        + ctx.params.day_cutoff_us
    )
    shifts: ir.Table | None = ctx.extra.get("shifts")
    if shifts is None:
        return days.drop("first_lus")
    return _with_shifts(days, shifts, ctx).drop("first_lus")


def _with_shifts(days: ir.Table, shifts: ir.Table, ctx: Context) -> ir.Table:
    dated = shifts.filter(shifts.day.notnull())
    dated = dated.group_by(["agent_no", "day"]).aggregate(dated_us=dated.start_us.min())
    weekly = shifts.filter(shifts.day.isnull())
    weekly = weekly.group_by(["agent_no", "weekday"]).aggregate(weekly_us=weekly.start_us.min())
    # ISO weekday of a day number: 1970-01-01 was a Thursday (4)
    days = days.mutate(weekday=((days.day + 3) % 7 + 1).cast("int32"))
    days = days.left_join(dated, ["agent_no", "day"]).select(days, "dated_us")
    days = days.left_join(weekly, ["agent_no", "weekday"]).select(days, "weekly_us")
    start = ibis.coalesce(days.dated_us, days.weekly_us)
    grace_us = int(round(ctx.params.late_grace_min * US_PER_MIN))
    return days.mutate(
        shift_start_h=start.cast("float64") / US_PER_HOUR,
        late=start.notnull() & (days.login_tod_us > start + grace_us),
    ).drop("dated_us", "weekly_us", "weekday")


def away_intervals(ctx: Context) -> ir.Table:
    return online_intervals(ctx, ("away",))


def components(ctx: Context) -> list[ir.Table]:
    if ctx.sessions is None:
        return []
    days = present_days(ctx)
    counts = {"days_present": days.count(), "login_tod_us_sum": days.login_tod_us.sum()}
    if "late" in days.columns:
        counts["late_starts"] = days.late.sum().cast("int64")
    return [
        days.group_by("agent_no").aggregate(**counts),
        online_time(ctx, ("away",)).rename(away_us="online_us"),
    ]


def derive(c: Components, ctx: Context) -> Values:
    if ctx.sessions is None:
        return {"days_present": None, "first_login_h": None, "late_starts": None,
                "away_hours": None}
    present = c.get("days_present", 0)
    login_sum = c.get("login_tod_us_sum")
    return {
        "days_present": present,
        "first_login_h": None if not present or login_sum is None
        else login_sum / present / US_PER_HOUR,
        "late_starts": c.get("late_starts", 0) if "shifts" in ctx.extra else None,
        "away_hours": c.get("away_us", 0) / US_PER_HOUR,
    }
