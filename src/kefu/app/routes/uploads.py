"""Uploading export files: the same validation as `kefu import`; all or nothing."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path, PurePath

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from kefu.app import audit, directory, permissions, services
from kefu.app.deps import CheckedDep, DbDep, SettingsDep, SignedDep
from kefu.app.permissions import Action
from kefu.app.web import render

router = APIRouter()


@router.get("/uploads")
def upload_page(request: Request, signed: SignedDep) -> Response:
    permissions.require(signed.user, Action.upload)
    return render(request, "upload.html", {}, signed)


@router.post("/uploads")
async def upload(request: Request, db: DbDep, settings: SettingsDep,
                 signed: CheckedDep) -> Response:
    permissions.require(signed.user, Action.upload)
    form = await request.form()
    files = [f for f in form.getlist("files") if isinstance(f, UploadFile) and f.filename]
    partial = bool(request.headers.get("HX-Request"))
    template = "_upload_result.html" if partial else "upload.html"
    if not files:
        return render(request, template, {"error": "no files"}, signed, status_code=400)
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for f in files:
            # the file's own name (its table is told by the name); never a client path
            path = Path(tmp) / PurePath(f.filename or "upload").name
            with path.open("wb") as out:
                shutil.copyfileobj(f.file, out)
            paths.append(path)
        try:
            imported = services.import_uploads(settings.workspace, paths, settings.tz)
        except services.UploadRejected as exc:
            audit.record(db, signed.user, "data.upload_rejected", "upload", "",
                         {"files": [p.name for p in paths], "bad_rows": len(exc.rows)})
            db.commit()
            return render(request, template, {
                "error": exc.message, "bad_rows": exc.rows,
                "bad_lines": len({(r.file, r.line) for r in exc.rows})},
                          signed, status_code=422)
    agents = directory.sync_agents(db, settings.workspace)
    audit.record(db, signed.user, "data.upload", "upload", "", {
        "files": [{"file": i.file, "table": i.table, "rows": i.rows} for i in imported],
        "agents": agents})
    db.commit()
    return render(request, template, {"imported": imported}, signed)
