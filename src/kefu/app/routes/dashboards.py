"""Dashboards of every role, their chart data and XLSX exports, drill-down, report cards.

Each page is built once by a *board* function (tables + charts from rows already cut
by permissions.py); the page, its chart-data endpoint and its XLSX export all call
that same function, so they show the same numbers under the same permissions.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.orm import Session

from kefu.app import dashboards as dash
from kefu.app import page_cache, permissions, services, stored_runs
from kefu.app.deps import Signed, get_lang, in_one_thread, wants_fragment
from kefu.app.models import Run, User
from kefu.app.permissions import Action, NotFound
from kefu.app.web import render

router = APIRouter()
EVIDENCE_SHOWN = 500
"""Evidence rows shown on the page; the XLSX export holds all of them."""


@dataclass
class Board:
    template: str
    tables: dict[str, dash.Table] = field(default_factory=dict)
    charts: dict[str, dash.Chart] = field(default_factory=dict)
    context: dict[str, Any] = field(default_factory=dict)
    exports: dict[str, Callable[[], dash.Table]] = field(default_factory=dict)
    """Tables the page shows only part of (the QA hits): the XLSX holds all their rows."""


Builder = Callable[[Request, User, Run, str, dict[str, str]], Board]
Check = Callable[[User, Run, dict[str, str]], object]
"""A page's permission lookup: raises NotFound when the user may not open it."""
QA_PAGE_SIZE = 100
"""Hits per page of the QA inspector's list (the XLSX holds all of them)."""


def _agent_board(request: Request, user: User, run: Run, lang: str,
                 q: dict[str, str]) -> Board:
    row = permissions.get_agent_for_user(user, run, q.get("agent", ""))
    view = permissions.run_view(user, run)
    trend = permissions.trend_view(user, run)
    team = view.teams.get(row.get("team") or "", {})
    return Board("agent.html", dash.agent_tables(row, run.id, lang),
                 {"agent_trend": dash.agent_trend(trend, row, lang)},
                 {"row": row, "ranked_of": view.ranked_of, "team_info": team,
                  "own": row["agent_id"] in view.own_ids})


def _director_board(request: Request, user: User, run: Run, lang: str,
                    q: dict[str, str]) -> Board:
    permissions.require(user, Action.director_board)
    view = permissions.run_view(user, run)
    trend = permissions.trend_view(user, run)
    # the stored result cut to what the user may see (triggers of other shops are not)
    result = {**(stored_runs.of(run).result or {}),
              "triggers": permissions.triggers_view(user, run)}
    shop_kpis, alerts = dash.kpi_table(result, trend, "shop", lang)
    team_kpis, _ = dash.kpi_table(result, trend, "team", lang)
    keys = dash.kpi_keys(result)
    kpi = q.get("kpi") if q.get("kpi") in keys else (keys[0] if keys else "")
    totals, grades = dash.distribution(view.rows, lang)
    split = dash.pay_split(view.rows)
    charts = {"totals": totals, "grades": grades, "pay_split": dash.pay_chart(split, lang)}
    if kpi:
        charts["kpi_trend"] = dash.kpi_trend(trend, kpi, lang)
    tables = {"shop_kpis": shop_kpis, "team_kpis": team_kpis,
              "ranking": dash.ranking(view.rows, run.id, lang, view.show_pay),
              "triggers": dash.triggers(result, lang), "segments": dash.segments(result, lang)}
    return Board("director.html", tables, charts,
                 {"alerts": alerts, "kpi": kpi, "kpis": keys, "split": split, "view": view})


def _team_board(request: Request, user: User, run: Run, lang: str,
                q: dict[str, str]) -> Board:
    team = q.get("team", "")
    rows = permissions.get_team_for_user(user, run, team)
    trend = permissions.trend_view(user, run)
    shop = str(rows[0].get("shop_id") or "")
    result = stored_runs.of(run).result or {}
    tables = {"members": dash.members(rows, run.id, lang),
              "team_training": dash.team_training(rows, lang),
              "team_vs_shop": dash.team_vs_shop(result, trend, team, shop, lang)}
    return Board("team.html", tables, {"members": dash.members_chart(rows, lang)},
                 {"team": team, "shop": shop})


def _page_number(value: str | None, pages: int) -> int:
    """The page asked for, within 1..pages (a wrong or missing number is the first)."""
    try:
        number = int(value or 1)
    except ValueError:
        number = 1
    return min(max(number, 1), pages)


def _qa_board(request: Request, user: User, run: Run, lang: str,
              q: dict[str, str]) -> Board:
    permissions.require(user, Action.qa_board)
    seen = permissions.seen_agent_ids(user, run)
    names = {r["agent_id"]: r.get("name") or r["agent_id"]
             for r in permissions.run_view(user, run).rows}
    stored = stored_runs.of(run).qa_hits
    if stored is not None:  # computed with the run
        hits = services.hits_of(stored, seen)
    else:  # a run stored before its hits were
        settings = request.app.state.settings
        hits = services.qa_hits(settings.workspace, settings.tz, run.start, run.end, seen)
    chart = dash.hits_chart(hits, names, lang)
    if q.get("check"):
        hits = [h for h in hits if h["check"] == q["check"]]
    if q.get("agent"):
        hits = [h for h in hits if h["agent_id"] == q["agent"]]
    pages = max(1, -(-len(hits) // QA_PAGE_SIZE))
    number = _page_number(q.get("page"), pages)
    first = (number - 1) * QA_PAGE_SIZE
    shown = dash.hits_table(hits[first:first + QA_PAGE_SIZE], names, run.id, lang)
    filters = {k: q[k] for k in ("check", "agent") if q.get(k)}
    return Board("qa.html", {"hits": shown}, {"hits": chart}, {
        "names": names, "checks": services.HIT_CHECKS, "f_check": q.get("check", ""),
        "f_agent": q.get("agent", ""), "filters": filters, "total": len(hits),
        "page_no": number, "pages": pages, "first": first + 1,
        "last": first + len(shown.rows)},
        {"hits": lambda: dash.hits_table(hits, names, run.id, lang)})


BOARDS: dict[str, tuple[Check, Builder]] = {
    "agent": (lambda user, run, q: permissions.get_agent_for_user(user, run, q.get("agent", "")),
              _agent_board),
    "director": (lambda user, run, q: permissions.require(user, Action.director_board),
                 _director_board),
    "team": (lambda user, run, q: permissions.get_team_for_user(user, run, q.get("team", "")),
             _team_board),
    "qa": (lambda user, run, q: permissions.require(user, Action.qa_board), _qa_board),
}


def _allowed(db: Session, signed: Signed, run_id: int, page: str, q: dict[str, str]) -> Run:
    """The run of a dashboard the user may open: every permission check of the page runs
    here, before a kept response may be served (NotFound otherwise)."""
    found = BOARDS.get(page)
    if found is None:
        raise NotFound()
    run = permissions.get_run_for_user(db, signed.user, run_id)
    if run.result is None:
        raise NotFound()
    found[0](signed.user, run, q)
    return run


def _build(request: Request, signed: Signed, run: Run, page: str,
           q: dict[str, str]) -> Board:
    return BOARDS[page][1](request, signed.user, run, get_lang(request), q)


def _generation(request: Request, run: Run, page: str) -> tuple[Any, ...] | None:
    """The workspace generation when the page reads the workspace's facts: the QA page
    of a run stored without its hits (drill-down pages pass theirs themselves)."""
    if page == "qa" and stored_runs.of(run).qa_hits is None:
        return services.workspace_generation(request.app.state.settings.workspace)
    return None


def _dashboard(request: Request, db: Session, signed: Signed, run_id: int, page: str,
               q: dict[str, str]) -> Response:
    from urllib.parse import urlencode

    run = _allowed(db, signed, run_id, page, q)

    def show(csrf: str) -> Response:
        board = _build(request, signed, run, page, q)
        if page == "qa" and wants_fragment(request):  # htmx: the next or previous hits
            return render(request, "_qa_hits.html", {"run": run, "tables": board.tables,
                                                     **board.context}, signed, csrf=csrf)
        query = urlencode({k: v for k, v in q.items() if k != "page"})
        return render(request, board.template, {
            "run": run, "tables": board.tables, "charts": board.charts, "page": page,
            "query": query, **board.context}, signed, csrf=csrf)

    return page_cache.serve(request, signed, run, show, _generation(request, run, page))


def _agent_page(request: Request, db: Session, signed: Signed, run_id: int,
                agent_id: str) -> Response:
    return _dashboard(request, db, signed, run_id, "agent", {"agent": agent_id})


def _director_page(request: Request, db: Session, signed: Signed, run_id: int,
                   kpi: str = "") -> Response:
    return _dashboard(request, db, signed, run_id, "director", {"kpi": kpi} if kpi else {})


def _team_page(request: Request, db: Session, signed: Signed, run_id: int, team: str) -> Response:
    return _dashboard(request, db, signed, run_id, "team", {"team": team})


def _qa_page(request: Request, db: Session, signed: Signed, run_id: int, check: str = "",
             agent: str = "", page: str = "") -> Response:
    """Automatic-check hits, QA_PAGE_SIZE a page; htmx swaps in the next or previous."""
    q = {k: v for k, v in (("check", check), ("agent", agent), ("page", page)) if v}
    return _dashboard(request, db, signed, run_id, "qa", q)


def _chart_data(request: Request, db: Session, signed: Signed, run_id: int, page: str,
                chart: str) -> Response:
    """A chart's data (ECharts reads it; the same numbers as the table beside it)."""
    q = dict(request.query_params)
    run = _allowed(db, signed, run_id, page, q)

    def data(csrf: str) -> Response:
        found = _build(request, signed, run, page, q).charts.get(chart)
        if found is None:
            raise NotFound()
        return JSONResponse(found.to_json())

    return page_cache.serve(request, signed, run, data, _generation(request, run, page))


def _export_table(request: Request, db: Session, signed: Signed, run_id: int, page: str,
                  table: str) -> Response:
    """Any table a dashboard shows (a chart's too), same columns, same cut."""
    q = dict(request.query_params)
    run = _allowed(db, signed, run_id, page, q)

    def workbook(csrf: str) -> Response:
        board = _build(request, signed, run, page, q)
        if table in board.exports:
            found: dash.Table | None = board.exports[table]()
        else:
            found = board.tables.get(table) or (
                board.charts[table].table if table in board.charts else None)
        if found is None:
            raise NotFound()
        return _xlsx(found, f"run-{run.id}-{page}-{table}.xlsx")

    return page_cache.serve(request, signed, run, workbook, _generation(request, run, page))


def _xlsx(table: dash.Table, filename: str) -> Response:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = table.key[:31]
    sheet.append([c.label for c in table.columns])
    for row in table.rows:
        sheet.append([_cell(row.get(c.key)) for c in table.columns])
    out = io.BytesIO()
    book.save(out)
    return Response(out.getvalue(), media_type=(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _cell(value: Any) -> Any:
    if value is None or isinstance(value, (int, float, str)):
        return value
    return str(value)


# ---------------------------------------------------------------------------- drill-down


def _drill_down(request: Request, db: Session, signed: Signed, run_id: int,
                agent_id: str) -> tuple[Run, dict[str, Any]]:
    """The run and agent row of a drill-down page the user may open (NotFound otherwise)."""
    run = permissions.get_run_for_user(db, signed.user, run_id)
    return run, permissions.get_agent_for_user(signed.user, run, agent_id)


def _evidence(request: Request, run: Run, agent_id: str, metric: str,
              limit: int | None) -> tuple[dash.Table, int]:
    settings = request.app.state.settings
    try:
        rows = services.evidence(settings.workspace, settings.tz, metric, run.start, run.end,
                                 agent_id, limit)
    except ValueError:
        raise NotFound() from None
    return dash.evidence_table(rows, run.id, agent_id, metric, get_lang(request)), rows.total


def _facts(request: Request) -> tuple[Any, ...]:
    return services.workspace_generation(request.app.state.settings.workspace)


def _evidence_export(request: Request, db: Session, signed: Signed, run_id: int, agent_id: str,
                     metric: str) -> Response:
    run, _ = _drill_down(request, db, signed, run_id, agent_id)
    if metric not in services.metric_keys():
        raise NotFound()

    def workbook(csrf: str) -> Response:
        table, _ = _evidence(request, run, agent_id, metric, None)
        return _xlsx(table, f"run-{run.id}-evidence-{metric}.xlsx")

    return page_cache.serve(request, signed, run, workbook, _facts(request))


def _evidence_page(request: Request, db: Session, signed: Signed, run_id: int, agent_id: str,
                   metric: str) -> Response:
    run, row = _drill_down(request, db, signed, run_id, agent_id)
    if metric not in services.metric_keys():
        raise NotFound()

    def show(csrf: str) -> Response:
        table, total = _evidence(request, run, agent_id, metric, EVIDENCE_SHOWN)
        value = (row.get("metrics") or {}).get(metric)
        return render(request, "evidence.html", {
            "run": run, "row": row, "evidence": table, "total": total, "metric": metric,
            "value": value}, signed, csrf=csrf)

    return page_cache.serve(request, signed, run, show, _facts(request))


def _chat_page(request: Request, db: Session, signed: Signed, run_id: int, agent_id: str,
               buyer_id: str, conv: int | None = None) -> Response:
    """A buyer's conversations with the agent: every message, response times, check spans."""
    run, row = _drill_down(request, db, signed, run_id, agent_id)

    def show(csrf: str) -> Response:
        settings = request.app.state.settings
        found = services.conversations(settings.workspace, settings.tz, agent_id, buyer_id,
                                       run.start, run.end, conv)
        if not found:
            raise NotFound()
        return render(request, "chat.html", {"run": run, "row": row, "buyer_id": buyer_id,
                                             "conversations": found}, signed, csrf=csrf)

    return page_cache.serve(request, signed, run, show, _facts(request))


# ---------------------------------------------------------------------------- report card


def _card(request: Request, signed: Signed, run: Run, agent_id: str, csrf: str,
          pdf: bool = False) -> Response:
    board = _build(request, signed, run, "agent", {"agent": agent_id})
    return render(request, "card.html", {"run": run, "tables": board.tables, "pdf": pdf,
                                         **board.context}, signed, csrf=csrf)


def _card_page(request: Request, db: Session, signed: Signed, run_id: int,
               agent_id: str) -> Response:
    """The printable monthly report card (绩效考核表)."""
    run = _allowed(db, signed, run_id, "agent", {"agent": agent_id})
    return page_cache.serve(request, signed, run,
                            lambda csrf: _card(request, signed, run, agent_id, csrf))


def _card_pdf(request: Request, db: Session, signed: Signed, run_id: int,
              agent_id: str) -> Response:
    """The report card as PDF (WeasyPrint; the Chinese font is embedded)."""
    run = _allowed(db, signed, run_id, "agent", {"agent": agent_id})

    def printed(csrf: str) -> Response:
        from weasyprint import CSS, HTML

        from kefu.app.main import STATIC

        html = bytes(_card(request, signed, run, agent_id, csrf, pdf=True).body).decode()
        # no base URL and no links: WeasyPrint fetches nothing; the stylesheet is read here
        pdf = HTML(string=html).write_pdf(stylesheets=[CSS(filename=str(STATIC / "card.css"))])
        return Response(pdf, media_type="application/pdf", headers={
            "Content-Disposition": f'attachment; filename="card-{run_id}.pdf"'})

    return page_cache.serve(request, signed, run, printed)


# ---------------------------------------------------------------------------- routes
# Each route runs its page in one worker thread (deps.in_one_thread).


@router.get("/runs/{run_id}/agents/{agent_id}")
async def agent_page(request: Request, run_id: int, agent_id: str) -> Response:
    return await in_one_thread(request, _agent_page, run_id, agent_id)


@router.get("/runs/{run_id}/director")
async def director_page(request: Request, run_id: int, kpi: str = "") -> Response:
    return await in_one_thread(request, _director_page, run_id, kpi)


@router.get("/runs/{run_id}/teams/{team}")
async def team_page(request: Request, run_id: int, team: str) -> Response:
    return await in_one_thread(request, _team_page, run_id, team)


@router.get("/runs/{run_id}/qa")
async def qa_page(request: Request, run_id: int, check: str = "", agent: str = "",
                  page: str = "") -> Response:
    return await in_one_thread(request, _qa_page, run_id, check, agent, page)


@router.get("/runs/{run_id}/charts/{page}/{chart}.json")
async def chart_data(request: Request, run_id: int, page: str, chart: str) -> Response:
    return await in_one_thread(request, _chart_data, run_id, page, chart)


@router.get("/runs/{run_id}/export/{page}/{table}.xlsx")
async def export_table(request: Request, run_id: int, page: str, table: str) -> Response:
    return await in_one_thread(request, _export_table, run_id, page, table)


@router.get("/runs/{run_id}/agents/{agent_id}/evidence/{metric}.xlsx")
async def evidence_export(request: Request, run_id: int, agent_id: str, metric: str) -> Response:
    return await in_one_thread(request, _evidence_export, run_id, agent_id, metric)


@router.get("/runs/{run_id}/agents/{agent_id}/evidence/{metric}")
async def evidence_page(request: Request, run_id: int, agent_id: str, metric: str) -> Response:
    return await in_one_thread(request, _evidence_page, run_id, agent_id, metric)


@router.get("/runs/{run_id}/agents/{agent_id}/chats/{buyer_id}")
async def chat_page(request: Request, run_id: int, agent_id: str, buyer_id: str,
                    conv: int | None = None) -> Response:
    return await in_one_thread(request, _chat_page, run_id, agent_id, buyer_id, conv)


@router.get("/runs/{run_id}/agents/{agent_id}/card")
async def card_page(request: Request, run_id: int, agent_id: str) -> Response:
    return await in_one_thread(request, _card_page, run_id, agent_id)


@router.get("/runs/{run_id}/agents/{agent_id}/card.pdf")
async def card_pdf(request: Request, run_id: int, agent_id: str) -> Response:
    return await in_one_thread(request, _card_pdf, run_id, agent_id)
