"""Sign-in and sign-out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from kefu.app import audit, security
from kefu.app.deps import CheckedDep, DbDep, SettingsDep
from kefu.app.models import User
from kefu.app.web import render

router = APIRouter()


def _safe_next(target: str) -> str:
    # only paths of this site: never an open redirect
    return target if target.startswith("/") and not target.startswith("//") else "/"


@router.get("/login")
def login_page(request: Request, settings: SettingsDep, next: str = "/") -> Response:
    token = security.new_csrf_token()
    response = render(request, "login.html", {"login_csrf": token, "next": _safe_next(next)})
    response.set_cookie(security.LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict",
                        secure=settings.secure_cookies)
    return response


@router.post("/login")
def login(
    request: Request,
    db: DbDep,
    settings: SettingsDep,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    # sign-in has no session yet: double-submit token (cookie = form field)
    if not security.csrf_matches(request.cookies.get(security.LOGIN_CSRF_COOKIE), csrf_token):
        return Response("CSRF token missing or wrong", status_code=403)
    ip = request.client.host if request.client else ""
    username = username.strip()

    def again(key: str, status: int) -> Response:
        return render(request, "login.html", {"error": key, "login_csrf": csrf_token,
                                              "next": _safe_next(next)}, status_code=status)

    if security.login_throttled(db, username, ip, settings.login_max_failures,
                                settings.login_window_min):
        return again("throttled", 429)
    user = db.scalar(select(User).where(User.username == username))
    ok = user is not None and user.active and security.verify_password(
        password, user.password_hash)
    security.record_login(db, username, ip, ok)
    if not ok or user is None:
        db.commit()
        return again("bad_login", 400)
    token, _ = security.open_session(db, user, settings.session_hours, settings.secret)
    audit.record(db, user, "user.sign_in", "user", user.id, {"ip": ip})
    db.commit()
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(security.SESSION_COOKIE, token, httponly=True, samesite="lax",
                        secure=settings.secure_cookies,
                        max_age=int(settings.session_hours * 3600))
    response.delete_cookie(security.LOGIN_CSRF_COOKIE)
    return response


@router.post("/logout")
def logout(request: Request, db: DbDep, settings: SettingsDep, signed: CheckedDep) -> Response:
    security.close_session(db, request.cookies.get(security.SESSION_COOKIE), settings.secret)
    db.commit()
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(security.SESSION_COOKIE)
    return response
