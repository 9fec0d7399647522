"""The admin's pages: users, their roles and links to agent accounts, teams and shops."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from kefu.app import audit, directory, permissions
from kefu.app.deps import CheckedDep, DbDep, SignedDep
from kefu.app.models import LinkKind, User
from kefu.app.permissions import Action
from kefu.app.web import render

router = APIRouter()


@router.get("/admin/users")
def users_page(request: Request, db: DbDep, signed: SignedDep, error: str = "") -> Response:
    permissions.require(signed.user, Action.manage_users)
    return render(request, "users.html", {
        "users": list(db.scalars(select(User).order_by(User.username))),
        "agents": directory.agents(db), "teams": directory.teams(db),
        "shops": directory.shops(db), "error": error}, signed)


@router.post("/admin/users/{user_id}/links")
def change_link(request: Request, db: DbDep, signed: CheckedDep, user_id: int,
                kind: Annotated[LinkKind, Form()], value: Annotated[str, Form()],
                remove: Annotated[bool, Form()] = False) -> Response:
    permissions.require(signed.user, Action.manage_users)
    user = db.get(User, user_id)
    if user is None:
        raise permissions.NotFound()
    try:
        if remove:
            directory.unlink(user, kind, value)
        else:
            directory.link(db, user, kind, value)
    except directory.UserError as exc:
        return render(request, "users.html", {
            "users": list(db.scalars(select(User).order_by(User.username))),
            "agents": directory.agents(db), "teams": directory.teams(db),
            "shops": directory.shops(db), "error": str(exc)}, signed, status_code=400)
    audit.record(db, signed.user, "user.unlink" if remove else "user.link", "user", user.id,
                 {"kind": kind.value, "value": value})
    db.commit()
    return RedirectResponse("/admin/users", status_code=303)
