"""The home page of each role and the audit log."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from kefu.app import audit, permissions
from kefu.app.deps import DbDep, SignedDep
from kefu.app.models import LinkKind, Role
from kefu.app.permissions import Action
from kefu.app.web import render

router = APIRouter()


@router.get("/")
def home(request: Request, db: DbDep, signed: SignedDep) -> Response:
    user = signed.user
    runs = permissions.visible_runs(db, user)
    roles = [r for r in Role if user.has(r)]
    return render(request, "home.html", {
        "runs": runs, "roles": roles,
        "mine": {run.id: permissions.own_rows(user, run) for run in runs},
        "agents": sorted(user.linked(LinkKind.agent)),
        "teams": sorted(user.linked(LinkKind.team)),
        "shops": sorted(user.linked(LinkKind.shop)),
    }, signed)


@router.get("/audit")
def audit_log(request: Request, db: DbDep, signed: SignedDep, action: str = "",
              username: str = "", object_type: str = "") -> Response:
    permissions.require(signed.user, Action.read_audit)
    rows = audit.entries(db, action=action, username=username, object_type=object_type)
    return render(request, "audit.html", {
        "entries": rows, "f_action": action, "f_username": username,
        "f_object_type": object_type}, signed)
