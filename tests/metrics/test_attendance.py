"""Attendance from sessions: present days, first login, late starts (shifts), away time."""

from __future__ import annotations

from typing import Any

import pytest

from kefu.metrics.evidence import evidence
from tests.metrics.conftest import dataset, msg, run

A, B = "s1:amy", "s1:bob"


def session(agent: str, start: str, end: str, status: str = "online") -> dict[str, Any]:
    return {"agent_id": agent, "started_at": start, "ended_at": end, "status": status}


SESSIONS = [
    session(A, "2024-06-03 09:00:00", "2024-06-03 12:00:00"),  # Monday: on time
    session(A, "2024-06-03 13:00:00", "2024-06-03 18:00:00", "busy"),
    session(A, "2024-06-03 12:00:00", "2024-06-03 12:30:00", "away"),
    session(A, "2024-06-04 09:00:01", "2024-06-04 18:00:00"),  # Tuesday: 1 s late
    session(A, "2024-06-05 08:30:00", "2024-06-05 10:00:00", "away"),  # away only: absent
    session(A, "2024-06-05 10:30:00", "2024-06-05 18:00:00"),  # dated shift 10:00: late
    session(B, "2024-06-03 22:00:00", "2024-06-04 02:00:00"),  # one login, Monday night
]
SHIFTS = [
    {"agent_id": A, "weekday": 1, "start": "09:00", "end": "18:00"},
    {"agent_id": A, "weekday": 2, "start": "09:00", "end": "18:00"},
    {"agent_id": A, "weekday": 3, "start": "09:00", "end": "18:00"},
    {"agent_id": A, "day": "2024-06-05", "start": "10:00", "end": "19:00"},  # overrides
]


def _shop(shifts: bool = True) -> Any:
    tables: dict[str, Any] = {"sessions": SESSIONS}
    if shifts:
        tables["shifts"] = SHIFTS
    return dataset([msg(A, "u1", "buyer", "2024-06-03 10:00:00")], **tables)


def test_days_present_first_login_late_starts_and_away() -> None:
    result = run(_shop(), "2024-06-03", "2024-06-05")
    amy, bob = result.agents[A], result.agents[B]
    assert amy["days_present"] == 3
    assert amy["first_login_h"] == pytest.approx((9 + 9 + 1 / 3600 + 10.5) / 3)
    assert amy["late_starts"] == 2  # 06-04 by one second, 06-05 against the dated 10:00
    assert amy["away_hours"] == pytest.approx(0.5 + 1.5)
    assert bob["days_present"] == 1 and bob["late_starts"] == 0  # no shift: never late
    assert result.teams["presale-1"]["days_present"] == 4
    # pooled over the team's days
    assert result.teams["presale-1"]["first_login_h"] == pytest.approx(
        (9 + 9 + 1 / 3600 + 10.5 + 22) / 4)


def test_grace_minutes_and_no_shift_table() -> None:
    assert run(_shop(), "2024-06-03", "2024-06-05", late_grace_min=1).agents[A][
        "late_starts"] == 1
    plain = run(_shop(shifts=False), "2024-06-03", "2024-06-05").agents[A]
    assert plain["late_starts"] is None and plain["days_present"] == 3
    no_sessions = run(dataset([msg(A, "u1", "buyer", "2024-06-03 10:00:00")]), "2024-06-03")
    assert no_sessions.agents[A]["days_present"] is None


def test_day_cut_moves_a_night_login() -> None:
    # with a 03:00 cut a login at 02:00 on 06-04 belongs to 06-03, at "26:00"
    ds = dataset([msg(A, "u1", "buyer", "2024-06-03 10:00:00")],
                 sessions=[session(B, "2024-06-04 02:00:00", "2024-06-04 04:00:00")])
    assert run(ds, "2024-06-03", day_cutoff="03:00").agents[B]["days_present"] == 1
    assert run(ds, "2024-06-03", day_cutoff="03:00").agents[B]["first_login_h"] == 26
    assert run(ds, "2024-06-03").agents[B]["days_present"] == 0


def test_attendance_evidence_and_bad_shift_rows() -> None:
    import datetime as dt

    rows = evidence(_shop(), dt.date(2024, 6, 3), dt.date(2024, 6, 5), "late_starts", A)
    assert rows.column("late").to_pylist() == [False, True, True]
    assert rows.column("shift_start_h").to_pylist() == [9, 9, 10]
    bad = dataset([msg(A, "u1", "buyer", "2024-06-03 10:00:00")], sessions=SESSIONS,
                  shifts=[{"agent_id": A, "weekday": 1, "start": "9点"}])
    with pytest.raises(ValueError, match="shifts line 2, column start"):
        run(bad, "2024-06-03")


def test_a_shift_start_with_zero_seconds_reads_as_its_minute() -> None:
    """Spreadsheets and Parquet writers write 09:00 as 09:00:00; 09:00:30 is refused."""
    import datetime as dt

    with_seconds = dataset([msg(A, "u1", "buyer", "2024-06-03 10:00:00")], sessions=SESSIONS,
                           shifts=[{"agent_id": A, "weekday": 1, "start": "09:00:00"}])
    rows = evidence(with_seconds, dt.date(2024, 6, 3), dt.date(2024, 6, 3), "late_starts", A)
    assert rows.column("shift_start_h").to_pylist() == [9]
    odd = dataset([msg(A, "u1", "buyer", "2024-06-03 10:00:00")], sessions=SESSIONS,
                  shifts=[{"agent_id": A, "weekday": 1, "start": "09:00:30"}])
    with pytest.raises(ValueError, match="is not a time HH:MM"):
        run(odd, "2024-06-03")
