"""Every "who may see or do what" rule of shared/spec/app.md, in one place.

Handlers never check roles themselves: they call a lookup here that returns the object
cut to what the user may see, or raises ``NotFound`` (a forbidden object answers 404,
so its existence is not revealed).

Scopes: an agent sees their linked agent accounts; a lead the teams they lead; a QA
inspector and a director the shops they are linked to. Pay: a user sees the pay of
their own agent accounts, and a director the pay of their shops' agents; nobody else's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from fastapi import HTTPException
from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.app import stored_runs
from kefu.app.models import LinkKind, Role, Run, RunStatus, User


class NotFound(HTTPException):
    def __init__(self) -> None:
        super().__init__(status_code=404, detail="not found")


class Action(StrEnum):
    upload = "upload"
    draft = "draft"  # start or recompute an evaluation run
    publish = "publish"
    edit_schemes = "edit_schemes"
    read_audit = "read_audit"
    manage_users = "manage_users"
    director_board = "director_board"  # shop KPIs, distribution, ranking with pay
    qa_board = "qa_board"  # automatic-check hits across the agents one sees


ALLOWED: dict[Action, frozenset[Role]] = {
    Action.upload: frozenset({Role.director, Role.admin}),
    Action.draft: frozenset({Role.director, Role.admin}),
    Action.publish: frozenset({Role.director}),
    Action.edit_schemes: frozenset({Role.director, Role.admin}),
    Action.read_audit: frozenset({Role.director, Role.admin}),
    Action.manage_users: frozenset({Role.admin}),
    Action.director_board: frozenset({Role.director}),
    Action.qa_board: frozenset({Role.qa, Role.director}),
}
READABLE_STATES = {RunStatus.published, RunStatus.superseded}


def may(user: User, action: Action) -> bool:
    return any(user.has(role) for role in ALLOWED[action])


def require(user: User, action: Action) -> None:
    if not may(user, action):
        raise NotFound()


# ---------------------------------------------------------------------------- rows


def is_own(user: User, row: dict[str, Any]) -> bool:
    return row.get("agent_id") in user.linked(LinkKind.agent)


def sees_scores(user: User, row: dict[str, Any]) -> bool:
    """Metrics, score, grade and breakdown of one agent's row."""
    if is_own(user, row):
        return True
    if user.has(Role.lead) and row.get("team") in user.linked(LinkKind.team):
        return True
    return (user.has(Role.qa) or user.has(Role.director)) and row.get(
        "shop_id"
    ) in user.linked(LinkKind.shop)


def sees_pay(user: User, row: dict[str, Any]) -> bool:
    if is_own(user, row):
        return True
    return user.has(Role.director) and row.get("shop_id") in user.linked(LinkKind.shop)


def _cut(user: User, row: dict[str, Any]) -> dict[str, Any]:
    """A copy of the row without its pay unless the user sees it (the stored row is
    shared by every request: it is never changed, only copied)."""
    pay = sees_pay(user, row)
    return {k: v for k, v in row.items() if pay or k != "pay"}


# ---------------------------------------------------------------------------- runs


def _run_rows(run: Run) -> list[dict[str, Any]]:
    """The run's agent rows, parsed once per run version (read-only: copy to change)."""
    return stored_runs.of(run).rows


def may_see_run(user: User, run: Run) -> bool:
    if user.has(Role.admin):
        return True  # the run's state and settings; never its scores (see run_view)
    if user.has(Role.director) and (
        run.result is None
        or any(r.get("shop_id") in user.linked(LinkKind.shop) for r in _run_rows(run))
    ):
        return True
    if run.status not in READABLE_STATES:
        return False
    return any(sees_scores(user, r) for r in _run_rows(run))


def visible_runs(db: Session, user: User) -> list[Run]:
    runs = db.scalars(select(Run).order_by(Run.start.desc(), Run.series.desc(),
                                           Run.version.desc())).all()
    return [r for r in runs if may_see_run(user, r)]


def get_run_for_user(db: Session, user: User, run_id: int) -> Run:
    run = stored_runs.load(db, run_id)
    if run is None or not may_see_run(user, run):
        raise NotFound()
    return run


def get_run_for_action(db: Session, user: User, run_id: int, action: Action) -> Run:
    """A run the user may change by ``action`` (publish, recompute, new version)."""
    require(user, action)
    return get_run_for_user(db, user, run_id)


@dataclass
class RunView:
    """A run's result cut to one user: rows they may see, pay only where allowed."""

    rows: list[dict[str, Any]]
    own_ids: set[str]
    ranked_of: int
    """How many agents were ranked (an agent sees their position among them)."""
    teams: dict[str, dict[str, Any]] = field(default_factory=dict)
    show_pay: bool = False
    pay_total: float | None = None


def run_view(user: User, run: Run) -> RunView:
    rows = [r for r in _run_rows(run) if sees_scores(user, r)]
    cut = [_cut(user, r) for r in rows]
    teams_seen = {r.get("team") for r in rows}
    teams = {}
    stored = stored_runs.of(run)
    for name, info in ((stored.result or {}).get("teams") or {}).items():
        if name in teams_seen:
            members = stored.by_team.get(name, [])
            team = dict(info)
            if not all(sees_scores(user, r) for r in members):
                team.pop("grades", None)  # a grade count reveals others' grades
            if not all(sees_pay(user, r) for r in members):
                team.pop("pay_total", None)  # a sum of pay reveals others' pay
            teams[name] = team
    paid = [r["pay"]["total"] for r in cut if r.get("pay")]
    show_pay = any("pay" in r and r["pay"] for r in cut)
    pay_total = round(sum(paid), 2) if user.has(Role.director) and paid else None
    return RunView(cut, user.linked(LinkKind.agent), stored.ranked, teams, show_pay, pay_total)


def own_rows(user: User, run: Run) -> list[dict[str, Any]]:
    """The user's own agent rows in a run they may see (their score, grade, pay)."""
    if not may_see_run(user, run):
        return []
    return [_cut(user, r) for r in _run_rows(run) if is_own(user, r)]


def get_agent_for_user(user: User, run: Run, agent_id: str) -> dict[str, Any]:
    """One agent's full row (breakdown, metrics; pay only where allowed) or NotFound."""
    for row in _run_rows(run):
        if row.get("agent_id") == agent_id and sees_scores(user, row):
            return _cut(user, row)
    raise NotFound()


# ---------------------------------------------------------------------------- dashboards


def get_team_for_user(user: User, run: Run, team: str) -> list[dict[str, Any]]:
    """The members of a team the user sees every member of (their lead, a director or
    QA inspector of its shop), cut to what the user may see; NotFound otherwise."""
    members = stored_runs.of(run).by_team.get(team, [])
    if not members or not all(sees_scores(user, r) for r in members):
        raise NotFound()
    if not (user.has(Role.lead) or user.has(Role.director) or user.has(Role.qa)):
        raise NotFound()  # an agent sees their team's average, never its members
    return [_cut(user, r) for r in members]


def led_teams(user: User, run: Run) -> list[str]:
    """Teams of the run whose dashboard the user may open."""
    teams = sorted({str(r.get("team")) for r in _run_rows(run) if r.get("team")})
    out = []
    for team in teams:
        try:
            get_team_for_user(user, run, team)
        except NotFound:
            continue
        out.append(team)
    return out


def seen_agent_ids(user: User, run: Run) -> set[str]:
    """Agents whose numbers and chats the user may see (drill-down, QA hits)."""
    return {str(r["agent_id"]) for r in _run_rows(run) if sees_scores(user, r)}


def _seen_shops(user: User, run: Run) -> set[str]:
    """Shops whose aggregate KPIs the user sees: a director's or QA inspector's shops,
    and the shop of each team a lead leads (the team against the shop)."""
    shops = set(user.linked(LinkKind.shop)) if (
        user.has(Role.director) or user.has(Role.qa)) else set()
    if user.has(Role.lead):
        led = user.linked(LinkKind.team)
        shops |= {str(r.get("shop_id")) for r in _run_rows(run) if r.get("team") in led}
    return shops


def triggers_view(user: User, run: Run) -> list[dict[str, Any]]:
    """The run's fired triggers whose scope the user sees: a shop's when the user sees
    that shop's KPIs (_seen_shops), a team's when the user sees every member; the
    agents each trigger moved are cut to those the user sees."""
    stored = stored_runs.of(run)
    shops = _seen_shops(user, run)
    seen = seen_agent_ids(user, run)
    out = []
    for trigger in (stored.result or {}).get("triggers") or []:
        scope_id = str(trigger.get("scope_id"))
        if trigger.get("scope") == "team":
            members = stored.by_team.get(scope_id, [])
            visible = bool(members) and all(sees_scores(user, r) for r in members)
        else:
            visible = scope_id in shops
        if visible:
            out.append({**trigger, "agents": [a for a in trigger.get("agents") or []
                                              if a in seen]})
    return out


def trend_view(user: User, run: Run) -> dict[str, Any]:
    """The run's stored trend cut like its rows: the agents one sees; full series of the
    teams one sees every member of; only the average score (mean_total) of an agent's
    own team; shops as _seen_shops says. The trend holds no pay."""
    stored = stored_runs.of(run)
    trend = stored.trend or {}
    seen = seen_agent_ids(user, run)
    teams: dict[str, Any] = {}
    for team, series in (trend.get("teams") or {}).items():
        members = stored.by_team.get(team, [])
        if members and all(sees_scores(user, r) for r in members):
            teams[team] = series
        elif any(is_own(user, r) for r in members):
            teams[team] = [None if p is None else {"mean_total": p.get("mean_total")}
                           for p in series]
    shops = _seen_shops(user, run)
    return {
        "periods": trend.get("periods") or [],
        "agents": {a: v for a, v in (trend.get("agents") or {}).items() if a in seen},
        "teams": teams,
        "shops": {s: v for s, v in (trend.get("shops") or {}).items() if s in shops},
    }
