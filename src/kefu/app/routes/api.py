"""The JSON API: the same lookups and cuts as the pages."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from kefu.app import permissions
from kefu.app.deps import DbDep, SignedDep
from kefu.app.models import Run

router = APIRouter(prefix="/api")


def _summary(run: Run) -> dict[str, Any]:
    return {"id": run.id, "series": run.series, "version": run.version,
            "start": run.start.isoformat(), "end": run.end.isoformat(),
            "status": run.status, "progress": run.progress,
            "scheme": run.scheme_version.scheme.name,
            "scheme_version": run.scheme_version.version}


@router.get("/runs")
def runs(db: DbDep, signed: SignedDep) -> list[dict[str, Any]]:
    return [_summary(r) for r in permissions.visible_runs(db, signed.user)]


@router.get("/runs/{run_id}")
def run(db: DbDep, signed: SignedDep, run_id: int) -> dict[str, Any]:
    found = permissions.get_run_for_user(db, signed.user, run_id)
    view = permissions.run_view(signed.user, found)
    return {**_summary(found), "agents": view.rows, "teams": view.teams,
            "ranked_of": view.ranked_of, "pay_total": view.pay_total}


@router.get("/runs/{run_id}/agents/{agent_id}")
def agent(db: DbDep, signed: SignedDep, run_id: int, agent_id: str) -> dict[str, Any]:
    found = permissions.get_run_for_user(db, signed.user, run_id)
    return permissions.get_agent_for_user(signed.user, found, agent_id)
