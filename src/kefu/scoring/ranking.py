"""Ranks and grades: competition ranking by exact total, grades by the scheme's floors."""

from __future__ import annotations

import pandas as pd

from kefu.scoring.scheme import Scheme

TIE_DIGITS = 9  # totals equal to 1e-9 tie: float noise never splits a tie


def competition_rank(totals: dict[str, float | None]) -> dict[str, int | None]:
    """1, 2, 2, 4 … (pandas' "min" ranking); agents without a total get no rank."""
    known = pd.Series({a: t for a, t in totals.items() if t is not None}, dtype="float64")
    ranks = known.round(TIE_DIGITS).rank(method="min", ascending=False)
    return {a: (int(ranks[a]) if a in ranks.index else None) for a in totals}


def ranks_within(
    totals: dict[str, float | None], group_of: dict[str, str]
) -> dict[str, int | None]:
    """Competition ranks inside each group (role, team) of agents."""
    out: dict[str, int | None] = {}
    for group in set(group_of.values()):
        out.update(competition_rank({a: t for a, t in totals.items() if group_of[a] == group}))
    return out


def grade_of(scheme: Scheme, total: float | None) -> str | None:
    """The first grade whose floor the exact total reaches (display rounding never counts)."""
    if total is None:
        return None
    for grade in scheme.grades:
        if total >= grade.min:
            return grade.grade
    return scheme.grades[-1].grade
