"""The life cycle of an evaluation run (考核批次).

draft (computed in the background, recomputable) → published (locked) → a new version
with a reason (the old one is superseded when the new one is published; it stays
readable). Every state change goes to the audit log.
"""

from __future__ import annotations

import datetime as dt
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from kefu.app import audit, services
from kefu.app.models import Run, RunStatus, SchemeVersion, User, now


class RunStateError(ValueError):
    """The run is not in a state that allows this (e.g. publishing a failed run)."""


class Runner:
    """Computes runs one at a time in a background thread (one writer, pages stay live)."""

    def __init__(self, factory: sessionmaker[Session], workspace: Path, tz: str) -> None:
        self.factory, self.workspace, self.tz = factory, workspace, tz
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kefu-run")
        self._futures: list[Future[None]] = []
        self._lock = threading.Lock()

    def submit(self, run_id: int) -> None:
        with self._lock:
            self._futures.append(self._pool.submit(self._compute, run_id))

    def resume(self) -> int:
        """Compute again the runs a stopped server left computing; returns how many."""
        with self.factory() as db:
            ids = list(db.scalars(select(Run.id).where(Run.status == RunStatus.computing)))
        for run_id in ids:
            self.submit(run_id)
        return len(ids)

    def wait(self) -> None:
        """Block until every submitted run is computed (tests, shutdown)."""
        with self._lock:
            futures, self._futures = self._futures, []
        for f in futures:
            f.result()

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True)

    def _set(self, run_id: int, **values: object) -> None:
        with self.factory() as db, db.begin():
            run = db.get(Run, run_id)
            if run is not None:
                for k, v in values.items():
                    setattr(run, k, v)

    def _compute(self, run_id: int) -> None:
        with self.factory() as db:
            run = db.get(Run, run_id)
            if run is None:
                return
            yaml_text, start, end = run.scheme_version.yaml_text, run.start, run.end
        try:
            computed = services.evaluate(
                self.workspace, yaml_text, start, end, self.tz,
                lambda pct, msg: self._set(run_id, progress=pct, message=msg),
            )
        except Exception as exc:  # shown on the run page; the run can be recomputed
            self._set(run_id, status=RunStatus.failed, progress=100, message=str(exc))
            with self.factory() as db, db.begin():
                audit.record(db, "system", "run.failed", "run", run_id, {"error": str(exc)})
            return
        self._set(run_id, status=RunStatus.draft, progress=100, message="",
                  result=computed.result, manifest=computed.manifest, trend=computed.trend,
                  qa_hits=computed.qa_hits)
        with self.factory() as db, db.begin():
            audit.record(db, "system", "run.computed", "run", run_id,
                         {"agents": len(computed.result.get("agents", []))})


def create_draft(db: Session, user: User, version: SchemeVersion, start: dt.date,
                 end: dt.date) -> Run:
    if end < start:
        raise RunStateError("end is before start")
    series = (db.scalar(select(func.max(Run.series))) or 0) + 1
    run = Run(series=series, version=1, start=start, end=end, scheme_version_id=version.id,
              created_by=user.username)
    db.add(run)
    db.flush()
    audit.record(db, user, "run.draft", "run", run.id, {
        "start": start.isoformat(), "end": end.isoformat(),
        "scheme": version.scheme.name, "scheme_version": version.version})
    return run


def recompute(db: Session, user: User, run: Run) -> Run:
    if run.status not in (RunStatus.draft, RunStatus.failed):
        raise RunStateError("only a draft can be recomputed; a published run gets a new version")
    run.status, run.progress, run.message, run.result = RunStatus.computing, 0, "", None
    run.trend, run.qa_hits = None, None
    audit.record(db, user, "run.recompute", "run", run.id)
    return run


def publish(db: Session, user: User, run: Run, reason: str = "") -> Run:
    if run.status != RunStatus.draft:
        raise RunStateError("only a computed draft can be published")
    earlier = db.scalars(select(Run).where(Run.series == run.series, Run.id != run.id,
                                           Run.status == RunStatus.published)).all()
    for old in earlier:
        old.status = RunStatus.superseded
        audit.record(db, user, "run.supersede", "run", old.id,
                     {"by_run": run.id, "by_version": run.version}, reason)
    run.status, run.published_by, run.published_at = RunStatus.published, user.username, now()
    audit.record(db, user, "run.publish", "run", run.id,
                 {"version": run.version, "series": run.series}, reason)
    return run


def new_version(db: Session, user: User, run: Run, reason: str,
                version: SchemeVersion | None = None) -> Run:
    """A new draft version of a published run (re-import, corrected scheme …)."""
    if run.status != RunStatus.published:
        raise RunStateError("only a published run gets a new version")
    if not reason.strip():
        raise RunStateError("a new version of a published run needs a reason")
    latest = db.scalar(select(func.max(Run.version)).where(Run.series == run.series)) or 0
    scheme_version = version or run.scheme_version
    new = Run(series=run.series, version=latest + 1, start=run.start, end=run.end,
              scheme_version_id=scheme_version.id, created_by=user.username, reason=reason)
    db.add(new)
    db.flush()
    audit.record(db, user, "run.new_version", "run", new.id,
                 {"of_run": run.id, "version": new.version,
                  "scheme_version": scheme_version.version}, reason)
    return new
