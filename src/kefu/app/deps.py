"""Request dependencies: the database session, the signed-in user, the language, CSRF."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session, joinedload

from kefu.app import security
from kefu.app.i18n import LANG_COOKIE, LANGS
from kefu.app.models import User, WebSession
from kefu.app.settings import Settings

T = TypeVar("T")


class LoginRequired(Exception):
    """No live session: pages redirect to the sign-in page, the API answers 401."""


class CsrfFailed(Exception):
    """A form or htmx request without the session's CSRF token (answers 403)."""


def get_db(request: Request) -> Iterator[Session]:
    with request.app.state.db() as db:
        yield db


DbDep = Annotated[Session, Depends(get_db)]


async def get_settings(request: Request) -> Settings:  # async: no thread for a lookup
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


def get_lang(request: Request) -> str:
    lang = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE) or "zh"
    return lang if lang in LANGS else "zh"


LangDep = Annotated[str, Depends(get_lang)]


def wants_fragment(request: Request) -> bool:
    """htmx asks for a part of a page (not when it restores a whole page from history)."""
    return (request.headers.get("HX-Request") == "true"
            and request.headers.get("HX-History-Restore-Request") != "true")


@dataclass
class Signed:
    user: User
    session: WebSession


def get_signed(request: Request, db: DbDep, settings: SettingsDep) -> Signed:
    row = security.find_session(db, request.cookies.get(security.SESSION_COOKIE),
                                settings.secret)
    # roles and links in the same query (a page checks them on every request)
    user = db.get(User, row.user_id, options=[joinedload(User.roles), joinedload(
        User.links)]) if row is not None else None
    if row is None or user is None or not user.active:
        db.commit()  # an expired session was ended
        raise LoginRequired()
    return Signed(user, row)


SignedDep = Annotated[Signed, Depends(get_signed)]


def get_user(signed: SignedDep) -> User:
    return signed.user


UserDep = Annotated[User, Depends(get_user)]


async def csrf_checked(request: Request, signed: SignedDep) -> Signed:
    """For every state-changing request: the session's token, from the form or htmx header."""
    given = request.headers.get(security.CSRF_HEADER)
    if given is None:
        form = await request.form()
        value = form.get(security.CSRF_FIELD)
        given = value if isinstance(value, str) else None
    if not security.csrf_matches(signed.session.csrf_token, given):
        raise CsrfFailed()
    return signed


CheckedDep = Annotated[Signed, Depends(csrf_checked)]


async def in_one_thread(request: Request, page: Callable[..., T], *args: Any) -> T:
    """``page(request, db, signed, *args)`` with its whole blocking part (database
    session, the signed-in user, the page) in one worker thread. The same as DbDep +
    SignedDep + a sync handler, but those hop between the event loop and worker threads
    four times a request; under many clients the hops, not the page, were most of a kept
    page's cost."""
    def work() -> T:
        with request.app.state.db() as db:
            return page(request, db, get_signed(request, db, request.app.state.settings),
                        *args)

    return await run_in_threadpool(work)
