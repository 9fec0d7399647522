"""Passwords (argon2 via pwdlib), server-side sessions, CSRF tokens, the sign-in throttle
and the security headers. Nothing here knows about pages or permissions.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets

from pwdlib import PasswordHash
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kefu.app.models import LoginAttempt, User, WebSession, now

SESSION_COOKIE = "kefu_session"
LOGIN_CSRF_COOKIE = "kefu_login_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
MAX_FAILURES_PER_IP = 50  # per throttle window, whatever the user names

_hasher = PasswordHash.recommended()  # argon2id

CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self'",  # no inline scripts anywhere: settings live in data-/meta attributes
    "style-src 'self'",
    "img-src 'self' data:",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str) -> bool:
    try:
        return _hasher.verify(password, password_hash)
    except Exception:  # a malformed stored hash never signs anyone in
        return False


def _token_hash(token: str, secret: str) -> str:
    # only a keyed hash is stored: a leaked database holds no usable session, and a new
    # secret ends every session
    return hmac.new(secret.encode(), token.encode(), hashlib.sha256).hexdigest()


def open_session(db: Session, user: User, hours: float, secret: str
                 ) -> tuple[str, WebSession]:
    token = secrets.token_urlsafe(32)
    row = WebSession(
        token_hash=_token_hash(token, secret),
        user_id=user.id,
        csrf_token=secrets.token_urlsafe(32),
        expires_at=now() + dt.timedelta(hours=hours),
    )
    db.add(row)
    db.execute(delete(WebSession).where(WebSession.expires_at < now()))
    return token, row


def find_session(db: Session, token: str | None, secret: str) -> WebSession | None:
    """The live session of a cookie value, or None (expired sessions are ended)."""
    if not token:
        return None
    row = db.get(WebSession, _token_hash(token, secret))
    if row is None:
        return None
    expires = row.expires_at
    if expires.tzinfo is None:  # SQLite gives naive UTC back
        expires = expires.replace(tzinfo=dt.UTC)
    if expires < now():
        db.delete(row)
        return None
    return row


def close_session(db: Session, token: str | None, secret: str) -> None:
    if token:
        db.execute(delete(WebSession).where(WebSession.token_hash == _token_hash(token, secret)))


def end_user_sessions(db: Session, user_id: int) -> None:
    db.execute(delete(WebSession).where(WebSession.user_id == user_id))


def csrf_matches(expected: str | None, given: str | None) -> bool:
    return bool(expected and given and hmac.compare_digest(expected, given))


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def login_throttled(db: Session, username: str, ip: str, max_failures: int,
                    window_min: int) -> bool:
    """Too many failed sign-ins for this user name (or from this address) lately."""
    since = now() - dt.timedelta(minutes=window_min)
    failed = select(func.count()).select_from(LoginAttempt).where(
        LoginAttempt.ok.is_(False), LoginAttempt.at >= since
    )
    by_user = db.scalar(failed.where(LoginAttempt.username == username)) or 0
    by_ip = db.scalar(failed.where(LoginAttempt.ip == ip)) or 0
    return by_user >= max_failures or by_ip >= MAX_FAILURES_PER_IP


def record_login(db: Session, username: str, ip: str, ok: bool) -> None:
    db.add(LoginAttempt(username=username, ip=ip, ok=ok))
    if ok:  # a good sign-in clears the user's failures
        db.execute(delete(LoginAttempt).where(
            LoginAttempt.username == username, LoginAttempt.ok.is_(False)))


class SecurityHeaders:
    """Adds SECURITY_HEADERS (and no-store to pages and the API) to every response.

    A plain ASGI middleware: it only touches the response's start message, so it costs
    next to nothing per request (a ``@app.middleware("http")`` wraps every response in
    streams and tasks, which was a measurable part of a kept page's time)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        pages = str(scope.get("path", "")).startswith(("/api/", "/runs/"))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
                if pages or "text/html" in headers.get("content-type", ""):
                    headers.setdefault("Cache-Control", "no-store")
            await send(message)

        await self.app(scope, receive, send_with_headers)
