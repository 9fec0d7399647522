"""Evaluation runs: start a draft, follow its progress, publish, new versions, read."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from kefu.app import permissions, runs
from kefu.app.deps import CheckedDep, DbDep, Signed, SignedDep
from kefu.app.models import Run, RunStatus, Scheme, SchemeVersion
from kefu.app.permissions import Action
from kefu.app.web import render

router = APIRouter()


def _schemes(db: DbDep) -> list[Scheme]:
    return list(db.scalars(select(Scheme).order_by(Scheme.id)))


@router.get("/runs/new")
def new_run_page(request: Request, db: DbDep, signed: SignedDep) -> Response:
    permissions.require(signed.user, Action.draft)
    return render(request, "run_new.html", {"schemes": _schemes(db)}, signed)


@router.post("/runs")
def create_run(
    request: Request, db: DbDep, signed: CheckedDep,
    scheme_version_id: Annotated[int, Form()],
    start: Annotated[dt.date, Form()],
    end: Annotated[dt.date, Form()],
) -> Response:
    permissions.require(signed.user, Action.draft)
    version = db.get(SchemeVersion, scheme_version_id)
    if version is None:
        raise permissions.NotFound()
    try:
        run = runs.create_draft(db, signed.user, version, start, end)
    except runs.RunStateError as exc:
        return render(request, "run_new.html", {"schemes": _schemes(db), "error": str(exc)},
                      signed, status_code=400)
    db.commit()
    request.app.state.runner.submit(run.id)
    return RedirectResponse(f"/runs/{run.id}", status_code=303)


def _versions(db: DbDep, run: Run) -> list[Run]:
    return list(db.scalars(select(Run).where(Run.series == run.series).order_by(Run.version)))


def _run_page(request: Request, db: DbDep, signed: Signed, run: Run, error: str = "",
              status_code: int = 200) -> Response:
    versions = [v for v in _versions(db, run) if permissions.may_see_run(signed.user, v)]
    return render(request, "run.html", {
        "run": run, "view": permissions.run_view(signed.user, run), "versions": versions,
        "schemes": _schemes(db), "error": error,
        "led_teams": permissions.led_teams(signed.user, run) if run.result else []},
        signed, status_code=status_code)


@router.get("/runs/{run_id}")
def run_page(request: Request, db: DbDep, signed: SignedDep, run_id: int) -> Response:
    return _run_page(request, db, signed, permissions.get_run_for_user(db, signed.user, run_id))


@router.get("/runs/{run_id}/status")
def run_status(request: Request, db: DbDep, signed: SignedDep, run_id: int) -> Response:
    """The progress partial htmx polls while a run is computing."""
    run = permissions.get_run_for_user(db, signed.user, run_id)
    response = render(request, "_run_status.html", {"run": run}, signed)
    if run.status != RunStatus.computing and request.headers.get("HX-Request"):
        response.headers["HX-Refresh"] = "true"  # done: show the table
    return response


@router.get("/runs/{run_id}/table")
def run_table(request: Request, db: DbDep, signed: SignedDep, run_id: int) -> Response:
    run = permissions.get_run_for_user(db, signed.user, run_id)
    return render(request, "_run_table.html", {
        "run": run, "view": permissions.run_view(signed.user, run)}, signed)


@router.get("/runs/{run_id}/export.csv")
def run_export(db: DbDep, signed: SignedDep, run_id: int) -> Response:
    run = permissions.get_run_for_user(db, signed.user, run_id)
    view = permissions.run_view(signed.user, run)
    out = io.StringIO()
    writer = csv.writer(out)
    header = ["agent_id", "name", "team", "shop_id", "total", "grade", "rank"]
    writer.writerow(header + (["pay"] if view.show_pay else []))
    for row in view.rows:
        line = [row.get(k) for k in header]
        if view.show_pay:
            line.append(row["pay"]["total"] if row.get("pay") else "")
        writer.writerow(line)
    return Response("\ufeff" + out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="run-{run.id}.csv"'})


@router.post("/runs/{run_id}/publish")
def publish_run(request: Request, db: DbDep, signed: CheckedDep, run_id: int,
                reason: Annotated[str, Form()] = "") -> Response:
    run = permissions.get_run_for_action(db, signed.user, run_id, Action.publish)
    try:
        runs.publish(db, signed.user, run, reason)
    except runs.RunStateError as exc:
        db.rollback()
        return _run_page(request, db, signed, run, str(exc), 409)
    db.commit()
    return RedirectResponse(f"/runs/{run.id}", status_code=303)


@router.post("/runs/{run_id}/recompute")
def recompute_run(request: Request, db: DbDep, signed: CheckedDep, run_id: int) -> Response:
    run = permissions.get_run_for_action(db, signed.user, run_id, Action.draft)
    try:
        runs.recompute(db, signed.user, run)
    except runs.RunStateError as exc:
        db.rollback()
        return _run_page(request, db, signed, run, str(exc), 409)
    db.commit()
    request.app.state.runner.submit(run.id)
    return RedirectResponse(f"/runs/{run.id}", status_code=303)


@router.post("/runs/{run_id}/versions")
def new_run_version(
    request: Request, db: DbDep, signed: CheckedDep, run_id: int,
    reason: Annotated[str, Form()] = "",
    scheme_version_id: Annotated[int | None, Form()] = None,
) -> Response:
    run = permissions.get_run_for_action(db, signed.user, run_id, Action.draft)
    version = db.get(SchemeVersion, scheme_version_id) if scheme_version_id else None
    try:
        new = runs.new_version(db, signed.user, run, reason, version)
    except runs.RunStateError as exc:
        db.rollback()
        return _run_page(request, db, signed, run, str(exc), 409)
    db.commit()
    request.app.state.runner.submit(new.id)
    return RedirectResponse(f"/runs/{new.id}", status_code=303)
