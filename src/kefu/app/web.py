"""Rendering pages: one Jinja environment with the wording and number filters."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from kefu.app import dashboards, i18n, permissions, services
from kefu.app.deps import Signed, get_lang

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
TEMPLATES.env.filters.update(
    money=i18n.money, pct=i18n.pct, score=i18n.score
)


def _local(when: dt.datetime | None, tz: str) -> str:
    """A stored instant in the shop's time zone (SQLite returns naive UTC)."""
    if when is None:
        return ""
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M")


TEMPLATES.env.globals.update(Action=permissions.Action, metric_keys=services.metric_keys())


def render(
    request: Request, name: str, context: dict[str, Any], signed: Signed | None = None,
    status_code: int = 200, csrf: str | None = None,
) -> HTMLResponse:
    """The page; ``csrf`` stands in for the session's CSRF token (page_cache.CSRF_MARK
    when the bytes are kept for later requests of other sessions)."""
    lang = get_lang(request)
    ctx = {
        "lang": lang,
        "t": lambda key, **kw: i18n.t(key, lang).format(**kw) if kw else i18n.t(key, lang),
        "label": lambda key: services.metric_label(key, lang),
        "mv": lambda value, key: i18n.metric_value(value, services.metric_unit(key), lang),
        "rows_html": lambda table: dashboards.table_rows(table, lang),
        "user": signed.user if signed else None,
        "local": lambda when: _local(when, request.app.state.settings.tz),
        "csrf": csrf if csrf is not None else (signed.session.csrf_token if signed else ""),
        "may": (lambda action: permissions.may(signed.user, action)) if signed else (
            lambda action: False),
        **context,
    }
    return TEMPLATES.TemplateResponse(request, name, ctx, status_code=status_code)
