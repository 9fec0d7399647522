"""What each role's dashboard shows, as tables and charts built from stored numbers.

Every function here takes rows already cut by permissions.py (run_view, trend_view,
get_agent_for_user, get_team_for_user) and never looks at anything else, so a page,
its chart data and its XLSX export show the same numbers to the same people. A chart
carries its own table (``Chart.table``): the table beside a chart is its data.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from markupsafe import Markup, escape

from kefu.app import i18n, services


@dataclass
class Column:
    key: str
    label: str
    kind: str = "text"
    """text | int | score | pct | money | metric:<key> (formatted in the metric's unit)"""


@dataclass
class Table:
    key: str
    title: str
    columns: list[Column]
    rows: list[dict[str, Any]]
    links: list[dict[str, str]] = field(default_factory=list)
    """per row: column key → the page behind that cell (drill-down)"""

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "title": self.title,
                "columns": [{"key": c.key, "label": c.label} for c in self.columns],
                "rows": self.rows}


@dataclass
class Chart:
    key: str
    title: str
    kind: str  # line | bar | pie
    categories: list[str]
    series: list[dict[str, Any]]  # {"name", "data": [number | None]}
    unit: str = ""

    @property
    def table(self) -> Table:
        columns = [Column("category", "")] + [
            Column(f"s{i}", s["name"], "number") for i, s in enumerate(self.series)]
        rows = [{"category": c, **{f"s{i}": s["data"][j] for i, s in enumerate(self.series)}}
                for j, c in enumerate(self.categories)]
        return Table(self.key, self.title, columns, rows)

    def trimmed(self) -> Chart:
        """Without the leading categories where no series has a value (before the data)."""
        first = next((j for j in range(len(self.categories))
                      if any(s["data"][j] is not None for s in self.series)),
                     len(self.categories))
        series = [{**s, "data": s["data"][first:]} for s in self.series]
        return Chart(self.key, self.title, self.kind, self.categories[first:], series, self.unit)

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "title": self.title, "kind": self.kind, "unit": self.unit,
                "categories": self.categories, "series": self.series}


def cell(col: Column, row: dict[str, Any], lang: str) -> str:
    """A table cell's text, in the column's kind (formatted here rather than in a Jinja
    macro: a dashboard has thousands of cells and a macro call costs ten times more)."""
    v = row.get(col.key)
    kind = col.kind
    if v is None or v == "":
        return "–" if kind != "text" else ""
    if kind == "value":
        return i18n.metric_value(v, services.metric_unit(row.get("metric") or ""), lang)
    if kind == "change":
        sign = "+" if v > 0 else ("−" if v < 0 else "")
        return sign + i18n.metric_value(abs(v), services.metric_unit(row.get("metric") or ""),
                                        lang)
    if kind == "score":
        return i18n.score(v)
    if kind == "score2":
        return f"{v:.2f}"
    if kind == "pct":
        return i18n.pct(v)
    if kind == "money":
        return i18n.money(v)
    if kind == "number" and not isinstance(v, str):
        return f"{v:.2f}" if isinstance(v, float) and v != int(v) else str(int(v))
    return str(v)


def table_rows(table: Table, lang: str) -> Markup:
    """A table's <tr> rows as HTML, every value escaped (built here rather than in Jinja:
    a dashboard has thousands of cells, and Jinja's per-cell calls were most of a
    page's time)."""
    opens = ['<td class="num">' if c.kind != "text" else "<td>" for c in table.columns]
    out = []
    for i, row in enumerate(table.rows):
        links = table.links[i] if table.links else {}
        out.append("<tr>")
        for col, td in zip(table.columns, opens, strict=True):
            text = str(escape(cell(col, row, lang)))
            href = links.get(col.key)
            if href:
                text = f'<a href="{escape(href)}">{text}</a>'
            out.append(f"{td}{text}</td>")
        out.append("</tr>\n")
    return Markup("".join(out))  # noqa: S704 - every value above is escaped


def _t(key: str, lang: str) -> str:
    return i18n.t(key, lang)


def agent_link(run_id: int, agent_id: str) -> str:
    return f"/runs/{run_id}/agents/{quote(agent_id, safe='')}"


def period_label(period: dict[str, str]) -> str:
    start, end = period["start"], period["end"]
    return start[:7] if start.endswith("-01") and end[:7] == start[:7] else start


def shown_periods(trend: dict[str, Any]) -> list[dict[str, str]]:
    """The periods a trend chart shows: the stored ones but the first (kept for 同比)."""
    return list(trend.get("periods") or [])[-services.TREND_PERIODS:]


def _series_values(series: list[Any] | None, pick: str, metric: str | None = None,
                   ) -> list[Any]:
    out: list[Any] = []
    for point in (series or [])[-services.TREND_PERIODS:]:
        if point is None:
            out.append(None)
        elif metric is not None:
            out.append((point.get("metrics") or {}).get(metric))
        else:
            out.append(point.get(pick))
    return out


def changes(series: list[Any] | None, metric: str) -> tuple[Any, Any]:
    """(环比, 同比) of the last period: its value minus the previous period's, and minus
    the value a year before (the stored first period when periods are months)."""
    values = [None if p is None else (p.get("metrics") or {}).get(metric)
              for p in (series or [])]
    if not values or values[-1] is None:
        return None, None
    prev = values[-2] if len(values) >= 2 else None
    year = values[0] if len(values) == services.TREND_PERIODS + 1 else None
    return (None if prev is None else values[-1] - prev,
            None if year is None else values[-1] - year)


# ---------------------------------------------------------------------------- scheme


def scheme_items(run_result: dict[str, Any]) -> list[dict[str, Any]]:
    """The scheme's scored items (key, floor, target), in the scheme's order."""
    content = ((run_result.get("scheme") or {}).get("content")) or {}
    return [item for group in content.get("groups") or [] for item in group.get("items") or []]


def kpi_keys(run_result: dict[str, Any]) -> list[str]:
    """The KPIs a director reads: the scheme's items, then the metrics its triggers watch."""
    keys = [i["key"] for i in scheme_items(run_result)]
    content = ((run_result.get("scheme") or {}).get("content")) or {}
    for trigger in content.get("triggers") or []:
        if trigger.get("metric") and trigger["metric"] not in keys:
            keys.append(trigger["metric"])
    return keys


def _beyond_floor(key: str, value: Any, item: dict[str, Any] | None) -> bool:
    """A KPI in alarm: worse than the floor of its scheme item (it scores no points)."""
    if value is None or not item or item.get("floor") is None or item.get("target") is None:
        return False
    floor, target = float(item["floor"]), float(item["target"])
    return value < floor if target >= floor else value > floor


# ---------------------------------------------------------------------------- agent


def breakdown(row: dict[str, Any], run_id: int, lang: str) -> Table:
    """value → points → weight → contribution, each value opening its evidence rows."""
    base = agent_link(run_id, row["agent_id"])
    columns = [Column("item", _t("item", lang)), Column("value", _t("value", lang), "value"),
               Column("points", _t("points", lang), "score"),
               Column("eff_weight", _t("weight", lang), "pct"),
               Column("contribution", _t("contribution", lang), "score2"),
               Column("note", _t("note", lang))]
    rows, links = [], []
    for item in row.get("items") or []:
        value = item["value"] if item.get("value") is not None else item.get("value_raw")
        rows.append({"item": services.metric_label(item["key"], lang), "metric": item["key"],
                     "value": value, "points": item.get("points"),
                     "eff_weight": item.get("eff_weight"),
                     "contribution": item.get("contribution"), "note": item.get("note") or ""})
        links.append({"value": f"{base}/evidence/{item['key']}",
                      "item": f"{base}/evidence/{item['key']}"})
    return Table("breakdown", _t("breakdown", lang), columns, rows, links)


def training(row: dict[str, Any], lang: str) -> Table:
    columns = [Column("item", _t("item", lang)), Column("points", _t("points", lang), "score"),
               Column("loss", _t("loss", lang), "score2"), Column("topics", _t("topics", lang))]
    rows = [{"item": services.metric_label(t["key"], lang), "points": t.get("points"),
             "loss": t.get("loss"), "topics": "、".join(t.get("topics") or [])}
            for t in row.get("training") or []]
    return Table("training", _t("training", lang), columns, rows)


def follow_up(row: dict[str, Any], lang: str) -> Table:
    columns = [Column("item", _t("item", lang)),
               Column("prev_points", _t("prev_points", lang), "score"),
               Column("points", _t("points", lang), "score"),
               Column("improved", _t("improved", lang))]
    rows = [{"item": services.metric_label(f["key"], lang), "prev_points": f.get("prev_points"),
             "points": f.get("points"),
             "improved": _t("yes", lang) if f.get("improved") else _t("no", lang)}
            for f in row.get("follow_up") or []]
    return Table("follow_up", _t("follow_up", lang), columns, rows)


def agent_trend(trend: dict[str, Any], row: dict[str, Any], lang: str) -> Chart:
    """The agent's total over the periods, beside their team's average."""
    cats = [period_label(p) for p in shown_periods(trend)]
    series = [{"name": row.get("name") or row["agent_id"],
               "data": _series_values(trend["agents"].get(row["agent_id"]), "total")}]
    team = trend["teams"].get(row.get("team"))
    if team is not None:
        series.append({"name": f"{_t('team_avg', lang)} ({row.get('team')})",
                       "data": _series_values(team, "mean_total")})
    return Chart("agent_trend", _t("trend", lang), "line", cats, series).trimmed()


def agent_tables(row: dict[str, Any], run_id: int, lang: str) -> dict[str, Table]:
    tables = {"breakdown": breakdown(row, run_id, lang), "training": training(row, lang),
              "follow_up": follow_up(row, lang)}
    if row.get("pay"):
        tables["pay"] = pay_lines(row["pay"], lang)
    return tables


def pay_lines(pay: dict[str, Any], lang: str) -> Table:
    columns = [Column("part", _t("item", lang)), Column("amount", _t("amount", lang), "money")]
    rows = [{"part": _t("base", lang), "amount": pay.get("base")},
            {"part": f"{_t('performance', lang)} × {pay.get('coefficient')}",
             "amount": (pay.get("performance") or 0) * (pay.get("coefficient") or 0)}]
    rows += [{"part": b.get("name"), "amount": b.get("amount")} for b in pay.get("bonuses") or []]
    rows.append({"part": _t("pay", lang), "amount": pay.get("total")})
    return Table("pay", _t("pay", lang), columns, rows)


# ---------------------------------------------------------------------------- director


def pay_split(rows: list[dict[str, Any]]) -> dict[str, float]:
    """The pay of the given rows in base, performance (× coefficient), bonuses, deductions."""
    split = {"base": 0.0, "performance": 0.0, "bonuses": 0.0, "deductions": 0.0, "total": 0.0}
    for row in rows:
        pay = row.get("pay")
        if not pay:
            continue
        split["base"] += pay.get("base") or 0
        split["performance"] += (pay.get("performance") or 0) * (pay.get("coefficient") or 0)
        for bonus in pay.get("bonuses") or []:
            amount = bonus.get("amount") or 0
            split["bonuses" if amount >= 0 else "deductions"] += amount
        split["total"] += pay.get("total") or 0
    return {k: round(v, 2) for k, v in split.items()}


def ranking(rows: list[dict[str, Any]], run_id: int, lang: str, show_pay: bool) -> Table:
    columns = [Column("rank", _t("rank", lang), "int"), Column("name", _t("agent", lang)),
               Column("team", _t("team", lang)), Column("shop_id", _t("shop", lang)),
               Column("total", _t("total", lang), "score"), Column("grade", _t("grade", lang))]
    if show_pay:
        columns.append(Column("pay", _t("pay", lang), "money"))
    ordered = sorted(rows, key=lambda r: (r.get("rank") is None, r.get("rank") or 0,
                                          r["agent_id"]))
    out = [{"rank": r.get("rank"), "name": r.get("name"), "agent_id": r["agent_id"],
            "team": r.get("team"), "shop_id": r.get("shop_id"), "total": r.get("total"),
            "grade": r.get("grade"),
            **({"pay": (r.get("pay") or {}).get("total")} if show_pay else {})}
           for r in ordered]
    links = [{"name": agent_link(run_id, r["agent_id"])} for r in ordered]
    return Table("ranking", _t("ranking", lang), columns, out, links)


def distribution(rows: list[dict[str, Any]], lang: str) -> tuple[Chart, Chart]:
    """Totals in bands of ten points, and how many agents got each grade."""
    bands = [f"{lo}–{lo + 10}" for lo in range(0, 100, 10)]
    counts = [0] * 10
    for r in rows:
        if r.get("total") is not None:
            counts[min(int(r["total"] // 10), 9)] += 1
    grades = Counter(str(r["grade"]) for r in rows if r.get("grade"))
    names = sorted(grades)
    return (Chart("totals", _t("totals_distribution", lang), "bar", bands,
                  [{"name": _t("agents", lang), "data": counts}]),
            Chart("grades", _t("grades_distribution", lang), "pie", names,
                  [{"name": _t("agents", lang), "data": [grades[g] for g in names]}]))


def kpi_table(result: dict[str, Any], trend: dict[str, Any], scope: str,
              lang: str) -> tuple[Table, list[dict[str, Any]]]:
    """Each shop's (or team's) KPIs against the scheme's targets, with 环比 and 同比,
    and the alerts: triggers that fired, KPIs worse than their item's floor."""
    items = {i["key"]: i for i in scheme_items(result)}
    fired = {(t.get("scope_id"), t.get("metric")) for t in result.get("triggers") or []}
    columns = [Column("scope", _t(scope, lang)), Column("kpi", _t("kpi", lang)),
               Column("value", _t("value", lang), "value"),
               Column("target", _t("target", lang), "value"),
               Column("mom", _t("mom", lang), "change"), Column("yoy", _t("yoy", lang), "change"),
               Column("alarm", _t("alarm", lang))]
    rows, alerts = [], []
    for name, series in sorted((trend.get(scope + "s") or {}).items()):
        last = (series or [None])[-1] or {}
        for key in kpi_keys(result):
            value = (last.get("metrics") or {}).get(key)
            mom, yoy = changes(series, key)
            alarm = (name, key) in fired or _beyond_floor(key, value, items.get(key))
            rows.append({"scope": name, "kpi": services.metric_label(key, lang), "metric": key,
                         "value": value, "target": (items.get(key) or {}).get("target"),
                         "mom": mom, "yoy": yoy, "alarm": "⚠" if alarm else ""})
            if alarm:
                alerts.append(rows[-1])
    return Table(f"{scope}_kpis", _t(f"{scope}_kpis", lang), columns, rows), alerts


def kpi_trend(trend: dict[str, Any], key: str, lang: str) -> Chart:
    """One KPI of every shop and team over the periods."""
    cats = [period_label(p) for p in shown_periods(trend)]
    series = [{"name": name, "data": _series_values(s, "", key)}
              for kind in ("shops", "teams") for name, s in sorted(trend[kind].items())]
    return Chart("kpi_trend", f"{_t('trend', lang)}: {services.metric_label(key, lang)}",
                 "line", cats, series, services.metric_unit(key)).trimmed()


def pay_chart(split: dict[str, float], lang: str) -> Chart:
    parts = ["base", "performance", "bonuses", "deductions"]
    return Chart("pay_split", _t("pay_split", lang), "bar", [_t(p, lang) for p in parts],
                 [{"name": _t("pay", lang), "data": [split[p] for p in parts]}], "cny")


def triggers(result: dict[str, Any], lang: str) -> Table:
    columns = [Column("name", _t("name", lang)), Column("segment", _t("segment", lang)),
               Column("scope_id", _t("scope", lang)), Column("kpi", _t("kpi", lang)),
               Column("value", _t("value", lang), "value"),
               Column("rule", _t("rule", lang)), Column("moved", _t("moved", lang))]
    rows = [{"name": t.get("name"), "segment": t.get("segment"), "scope_id": t.get("scope_id"),
             "kpi": services.metric_label(t.get("metric") or "", lang), "metric": t.get("metric"),
             "value": t.get("value"), "rule": f"{t.get('op')} {t.get('threshold')}",
             "moved": f"{t.get('move_from')} → {t.get('move_to')} ({t.get('moved')})"}
            for t in result.get("triggers") or []]
    return Table("triggers", _t("triggers", lang), columns, rows)


def segments(result: dict[str, Any], lang: str) -> Table:
    columns = [Column("name", _t("scenario", lang)), Column("start", _t("start", lang)),
               Column("end", _t("end", lang)), Column("days", _t("days", lang), "int")]
    return Table("segments", _t("scenarios", lang), columns,
                 [dict(s) for s in result.get("segments") or []])


# ---------------------------------------------------------------------------- lead


def members(rows: list[dict[str, Any]], run_id: int, lang: str) -> Table:
    """Members side by side: score, grade, each item's points, the weakest items."""
    keys = [i["key"] for i in (rows[0].get("items") or [])] if rows else []
    columns = [Column("name", _t("agent", lang)), Column("total", _t("total", lang), "score"),
               Column("grade", _t("grade", lang)), Column("rank", _t("rank", lang), "int")]
    columns += [Column(k, services.metric_label(k, lang), "score") for k in keys]
    columns.append(Column("weakest", _t("weakest", lang)))
    out, links = [], []
    for r in sorted(rows, key=lambda r: (r.get("rank") is None, r.get("rank") or 0)):
        points = {i["key"]: i.get("points") for i in r.get("items") or []}
        weakest = sorted((i for i in r.get("items") or [] if i.get("points") is not None),
                         key=lambda i: i["points"])[:2]
        out.append({"name": r.get("name"), "agent_id": r["agent_id"], "total": r.get("total"),
                    "grade": r.get("grade"), "rank": r.get("rank"), **points,
                    "weakest": "、".join(services.metric_label(i["key"], lang) for i in weakest)})
        base = agent_link(run_id, r["agent_id"])
        links.append({"name": base, **{k: f"{base}/evidence/{k}" for k in keys}})
    return Table("members", _t("members", lang), columns, out, links)


def team_training(rows: list[dict[str, Any]], lang: str) -> Table:
    """Each member's plan and whether last period's trained items improved."""
    columns = [Column("name", _t("agent", lang)), Column("plan", _t("training", lang)),
               Column("improved", _t("improved", lang)),
               Column("not_improved", _t("not_improved", lang))]
    out = []
    for r in rows:
        ups = [f for f in r.get("follow_up") or [] if f.get("improved")]
        downs = [f for f in r.get("follow_up") or [] if not f.get("improved")]
        out.append({"name": r.get("name"),
                    "plan": "、".join(services.metric_label(t["key"], lang)
                                     for t in r.get("training") or []),
                    "improved": "、".join(services.metric_label(f["key"], lang) for f in ups),
                    "not_improved": "、".join(services.metric_label(f["key"], lang)
                                             for f in downs)})
    return Table("team_training", _t("training", lang), columns, out)


def team_vs_shop(result: dict[str, Any], trend: dict[str, Any], team: str, shop: str,
                 lang: str) -> Table:
    columns = [Column("kpi", _t("kpi", lang)), Column("team", team, "value"),
               Column("shop", shop, "value"), Column("target", _t("target", lang), "value")]
    items = {i["key"]: i for i in scheme_items(result)}
    team_now = ((trend["teams"].get(team) or [None])[-1] or {}).get("metrics") or {}
    shop_now = ((trend["shops"].get(shop) or [None])[-1] or {}).get("metrics") or {}
    rows = [{"kpi": services.metric_label(k, lang), "metric": k, "team": team_now.get(k),
             "shop": shop_now.get(k), "target": (items.get(k) or {}).get("target")}
            for k in kpi_keys(result)]
    return Table("team_vs_shop", _t("team_vs_shop", lang), columns, rows)


def members_chart(rows: list[dict[str, Any]], lang: str) -> Chart:
    ordered = sorted(rows, key=lambda r: r.get("total") or 0, reverse=True)
    return Chart("members", _t("members", lang), "bar",
                 [r.get("name") or r["agent_id"] for r in ordered],
                 [{"name": _t("total", lang), "data": [r.get("total") for r in ordered]}])


# ---------------------------------------------------------------------------- QA


def hits_table(hits: list[dict[str, Any]], names: dict[str, str], run_id: int,
               lang: str) -> Table:
    columns = [Column("at", _t("when", lang)), Column("check", _t("check_rule", lang)),
               Column("agent", _t("agent", lang)), Column("buyer_id", _t("buyer", lang)),
               Column("content", _t("content", lang))]
    rows = [{"at": h["at"], "check": _t(f"check.{h['check']}", lang),
             "agent": names.get(h["agent_id"], h["agent_id"]), "agent_id": h["agent_id"],
             "buyer_id": h["buyer_id"], "content": h["content"]} for h in hits]
    links = [{"at": chat_link(run_id, h["agent_id"], h["buyer_id"], h["conv_no"])}
             for h in hits]
    return Table("hits", _t("qa_hits", lang), columns, rows, links)


def hits_chart(hits: list[dict[str, Any]], names: dict[str, str], lang: str) -> Chart:
    counts = Counter((h["agent_id"], h["check"]) for h in hits)
    agents = sorted({a for a, _ in counts})
    series = [{"name": _t(f"check.{c}", lang), "data": [counts[(a, c)] for a in agents]}
              for c in services.HIT_CHECKS]
    return Chart("hits", _t("qa_hits", lang), "bar", [names.get(a, a) for a in agents], series)


def chat_link(run_id: int, agent_id: str, buyer_id: str, conv_no: Any = None) -> str:
    link = f"{agent_link(run_id, agent_id)}/chats/{quote(buyer_id, safe='')}"
    return f"{link}?conv={conv_no}" if conv_no is not None else link


def evidence_table(rows: services.Rows, run_id: int, agent_id: str, metric: str,
                   lang: str) -> Table:
    """The rows behind a number; a row of a buyer opens the chats with that buyer."""
    table = Table("evidence", services.metric_label(metric, lang),
                  [Column(c, c) for c in rows.columns], rows.rows)
    if "buyer_id" in rows.columns:
        table.links = [{"buyer_id": chat_link(run_id, agent_id, str(r["buyer_id"]),
                                              r.get("conv_no"))} for r in rows.rows]
    return table
