"""The FastAPI application: settings → database → routes, static files, error pages."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from kefu.app import db as appdb
from kefu.app import security
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

    app = FastAPI(title="kefu", lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url=None)
    app.state.settings, app.state.engine, app.state.db, app.state.runner = (
        settings, engine, factory, runner)
    app.middleware("http")(security.security_headers)
    app.middleware("http")(_remember_lang)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    _add_error_pages(app)

    from kefu.app.routes import admin, api, auth, dashboards, pages, runs, schemes, uploads

    for module in (auth, pages, runs, dashboards, uploads, schemes, admin, api):
        app.include_router(module.router)
    return app


def worker_app() -> FastAPI:
    """The app of one of `kefu serve --workers N`'s processes (uvicorn's factory).

    Settings come from the environment the parent set (KEFU_WORKSPACE, KEFU_DEMO, …);
    the parent already migrated the database and resumed interrupted runs, so a worker
    does neither. Each worker opens its own drill-down session at start."""
    from kefu.app import services

    app = create_app(Settings(), migrate=False)
    services.open_facts(app.state.settings.workspace, app.state.settings.tz)
    return app


async def _remember_lang(request: Request, call_next: object) -> Response:
    response: Response = await call_next(request)  # type: ignore[operator]
    lang = request.query_params.get("lang")
    if lang in LANGS:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax")
    return response


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
