"""The FastAPI application: settings → database → routes, static files, error pages."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import MutableHeaders, QueryParams
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kefu.app import db as appdb
from kefu.app import page_cache, security
from kefu.app.deps import CsrfFailed, LoginRequired
from kefu.app.i18n import LANG_COOKIE, LANGS
from kefu.app.runs import Runner
from kefu.app.settings import Settings
from kefu.app.web import render

STATIC = Path(__file__).parent / "static"


def create_app(settings: Settings | None = None, migrate: bool = True) -> FastAPI:
    settings = settings or Settings()
    engine = appdb.make_engine(settings.db_url)
    if migrate:
        appdb.upgrade(engine)
    factory = appdb.session_factory(engine)
    runner = Runner(factory, settings.workspace, settings.tz)
    if migrate:
        runner.resume()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        runner.shutdown()

    page_cache.share_in(pages_folder(settings))
    app = FastAPI(title="kefu", lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url=None)
    app.state.settings, app.state.engine, app.state.db, app.state.runner = (
        settings, engine, factory, runner)
    app.add_middleware(RememberLang)
    app.add_middleware(security.SecurityHeaders)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    _add_error_pages(app)

    from kefu.app.routes import admin, api, auth, dashboards, pages, runs, schemes, uploads

    for module in (auth, pages, runs, dashboards, uploads, schemes, admin, api):
        app.include_router(module.router)
    return app


def pages_folder(settings: Settings) -> Path:
    """Where the processes of one server share their kept pages: beside the app database
    of the workspace (``DEMO-app-pages/``), whichever database the app uses."""
    workspace = settings.workspace.resolve()
    return workspace.parent / f"{workspace.name}-app-pages"


def worker_app() -> FastAPI:
    """The app of one of `kefu serve --workers N`'s processes (uvicorn's factory).

    Settings come from the environment the parent set (KEFU_WORKSPACE, KEFU_DEMO, …);
    the parent already migrated the database and resumed interrupted runs, so a worker
    does neither. Each worker opens its own drill-down session at start (``warm``)."""
    app = create_app(Settings(), migrate=False)
    warm(app)
    return app


WARM_PERIODS = 3
"""Periods of the newest published runs whose chat rows are read at start."""


def warm(app: FastAPI) -> None:
    """What the first views would otherwise pay for, done before serving: the
    drill-down session, the templates compiled, the newest published runs' stored
    numbers parsed, the rows every chat page reads (conversations and turns of all
    agents) for their periods, and the QA checks' lexicons and model loaded."""
    from sqlalchemy import select

    from kefu.app import services, stored_runs
    from kefu.app.models import Run
    from kefu.app.web import TEMPLATES

    settings = app.state.settings
    services.open_facts(settings.workspace, settings.tz)
    for name in TEMPLATES.env.list_templates():
        TEMPLATES.env.get_template(name)
    periods: list[tuple[Any, Any]] = []
    with app.state.db() as db:
        newest = select(Run.id).where(Run.status.in_(stored_runs.IMMUTABLE)).order_by(
            Run.id.desc()).limit(stored_runs.CACHED_RUNS)
        for run_id in db.scalars(newest).all():
            run = stored_runs.load(db, run_id)
            if run is not None:
                stored_runs.of(run)
                if (run.start, run.end) not in periods and len(periods) < WARM_PERIODS:
                    periods.append((run.start, run.end))
    services.warm_drill_down(settings.workspace, settings.tz, periods)
    # what start-up made lives as long as the process: the collector stops walking it
    # (a full collection over it took ~115 ms, a stall of every request in the process)
    gc.collect()
    gc.freeze()


class RememberLang:
    """``?lang=en`` (or zh) on any page is remembered in a cookie for the next pages."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        lang = None
        if scope["type"] == "http" and scope.get("query_string"):
            lang = QueryParams(scope["query_string"]).get("lang")
        if lang not in LANGS:
            await self.app(scope, receive, send)
            return
        cookie = Response()
        cookie.set_cookie(LANG_COOKIE, str(lang), max_age=365 * 86400, samesite="lax")

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).append("set-cookie",
                                                     cookie.headers["set-cookie"])
            await send(message)

        await self.app(scope, receive, send_with_cookie)


def _add_error_pages(app: FastAPI) -> None:
    @app.exception_handler(LoginRequired)
    async def _login(request: Request, _: LoginRequired) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": "sign in first"}, status_code=401)
        if request.headers.get("HX-Request"):
            return Response(status_code=401, headers={"HX-Redirect": "/login"})
        return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)

    @app.exception_handler(CsrfFailed)
    async def _csrf(request: Request, _: CsrfFailed) -> Response:
        return JSONResponse({"detail": "CSRF token missing or wrong"}, status_code=403)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if request.url.path.startswith("/api/") or exc.status_code != 404:
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)
        return render(request, "not_found.html", {}, status_code=404)
