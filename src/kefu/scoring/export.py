"""Evaluation output: JSON, and a formatted XLSX for managers (Chinese labels)."""

from __future__ import annotations

import io
import json
import re
from typing import Any

from kefu.metrics.export import manifest_sheet
from kefu.metrics.registry import BY_KEY
from kefu.scoring.evaluate import Evaluation

_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


def to_json(ev: Evaluation) -> str:
    return json.dumps(ev.to_json_dict(), ensure_ascii=False, indent=2) + "\n"


def render(ev: Evaluation, fmt: str) -> str | bytes:
    """json (text), xlsx (bytes) or table (text for a terminal)."""
    if fmt == "json":
        return to_json(ev)
    if fmt == "xlsx":
        return to_xlsx(ev)
    if fmt == "table":
        return to_table(ev)
    raise ValueError(f"unknown format {fmt!r} (json, xlsx or table)")


def to_table(ev: Evaluation) -> str:
    """Total, grade, rank, pay and the weakest items of every agent, for people."""
    from rich.console import Console
    from rich.table import Table

    data = ev.to_json_dict()
    table = Table(title=f"{data['scheme']['name']}  {data['start']} .. {data['end']}")
    for head, justify in (("客服 agent", "left"), ("组 team", "left"), ("总分", "right"),
                          ("等级", "center"), ("排名", "right"), ("薪酬 pay", "right"),
                          ("最需提升 weakest items", "left")):
        table.add_column(head, justify=justify)  # type: ignore[arg-type]
    unranked = len(data["agents"]) + 1  # agents without a total come last
    for agent in sorted(data["agents"], key=lambda a: a["rank"] or unranked):
        weakest = "、".join(item["label"] for item in agent.get("training", [])[:2])
        pay = agent.get("pay") or {}
        table.add_row(
            agent["agent_id"], agent["team"],
            "–" if agent["total_display"] is None else f"{agent['total_display']:.1f}",
            agent["grade"] or "–", "–" if agent["rank"] is None else str(agent["rank"]),
            f"{pay.get('total', 0):,.0f}", weakest,
        )
    console = Console(record=True, width=120, file=io.StringIO())
    console.print(table)
    for t in data.get("triggers", []):
        console.print(
            f"触发 {t['name']}: {t['scope_id']} {t['metric']} {t['value']:.4g} {t['op']} "
            f"{t['threshold']:g} → {t['moved']:g} weight {t['move_from']} → {t['move_to']}"
            f" ({t['segment']})",
            highlight=False,
        )
    return console.export_text()


def _sheet_name(name: str, used: set[str]) -> str:
    base = _BAD_SHEET_CHARS.sub("_", name or "未分组")[:28] or "未分组"
    out, n = base, 2
    while out in used:
        out, n = f"{base}~{n}", n + 1
    used.add(out)
    return out


def _r(x: float | None, nd: int = 4) -> float | None:
    return None if x is None else round(x, nd)


def to_xlsx(ev: Evaluation) -> bytes:
    """Summary, one sheet per team, a breakdown sheet (value → points → weight →
    contribution), triggers, training plans and the manifest; frozen, bold headers."""
    from openpyxl import Workbook

    data = ev.to_json_dict()
    wb = Workbook()
    used = {"总览"}
    sheet = wb.active
    assert sheet is not None
    sheet.title = "总览"
    _table(sheet, ["项目", "内容"], _summary_rows(data), [18, 90])
    for team in sorted({a["team"] for a in data["agents"]}):
        rows = [_team_row(a) for a in data["agents"] if a["team"] == team]
        _table(wb.create_sheet(_sheet_name(team, used)), TEAM_HEADER, rows,
               [6, 8, 8, 22, 12, 10, 8, 6, 10, 10, 8, 10, 8, 10, 10, 8])
    _table(wb.create_sheet(_sheet_name("得分明细", used)), BREAKDOWN_HEADER,
           [row for a in data["agents"] for row in _breakdown_rows(a)],
           [22, 12, 12, 10, 12, 16, 22, 10, 10, 10, 8, 8, 8, 8, 8, 22])
    _table(wb.create_sheet(_sheet_name("触发规则", used)), TRIGGER_HEADER,
           [_trigger_row(t) for t in data["triggers"]],
           [16, 10, 8, 14, 14, 18, 20, 20, 10, 10])
    _table(wb.create_sheet(_sheet_name("培训计划", used)),
           ["客服ID", "姓名", "班组", "类型", "指标", "得分", "失分", "课题/对比", "结果"],
           [row for a in data["agents"] for row in _plan_rows(a)],
           [22, 12, 12, 12, 16, 8, 8, 50, 10])
    if ev.manifest is not None:
        manifest_sheet(wb, ev.manifest)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


TEAM_HEADER = ["排名", "角色内排名", "班组内排名", "客服ID", "姓名", "角色", "总分", "等级",
               "目标月薪", "基本工资", "绩效系数", "绩效工资", "奖惩", "应发合计", "上期总分",
               "环比"]
BREAKDOWN_HEADER = ["客服ID", "姓名", "班组", "分段", "分组", "指标", "指标键", "原始值", "收缩值",
                    "计分值", "样本数", "得分", "权重", "生效权重", "贡献", "备注"]
TRIGGER_HEADER = ["规则", "分段", "范围", "店铺/班组", "指标", "条件", "权重移出", "权重移入",
                  "移动权重", "影响人数"]


def _table(ws: Any, header: list[str], rows: list[list[Any]], widths: list[int]) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    ws.append(header)
    for cell in ws[1]:
        cell.font, cell.fill = Font(bold=True), PatternFill("solid", fgColor="DDEBF7")
        cell.alignment = Alignment(vertical="center", wrap_text=True)
    for row in rows:
        ws.append(row)
    ws.freeze_panes = "A2"
    for i, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width


def _summary_rows(data: dict[str, Any]) -> list[list[Any]]:
    previous = f"{data['prev_start']} ~ {data['prev_end']}" if data["prev_start"] else "无数据"
    segments = "；".join(f"{s['name']} {s['start']}~{s['end']}（{s['days']}天）"
                        for s in data["segments"])
    rows: list[list[Any]] = [
        ["考核方案", data["scheme"]["name"]],
        ["方案版本", data["scheme"]["version"]],
        ["方案指纹 sha256", data["scheme"]["sha256"]],
        ["考核期", f"{data['start']} ~ {data['end']}"],
        ["上期（环比）", previous],
        ["分段", segments],
        ["考核人数", len(data["agents"])],
        ["应发合计（元）", data["pay_total"]],
    ]
    return rows + [["提示", w] for w in data["warnings"]]


def _team_row(a: dict[str, Any]) -> list[Any]:
    pay = a["pay"] or {}
    bonus = sum(b["amount"] for b in pay.get("bonuses", []))
    delta = (None if a["total"] is None or a["prev_total"] is None
             else round(a["total"] - a["prev_total"], 1))
    return [a["rank"], a["rank_in_role"], a["rank_in_team"], a["agent_id"], a["name"], a["role"],
            a["total_display"], a["grade"], pay.get("target_salary"), pay.get("base"),
            _r(pay.get("coefficient")), pay.get("performance"), bonus, pay.get("total"),
            _r(a["prev_total"], 1), delta]


def _breakdown_rows(a: dict[str, Any]) -> list[list[Any]]:
    lines = [(s["name"], li) for s in a["segments"] for li in s["items"]] or [
        ("", li) for li in a["items"]]
    if a["segments"]:
        lines += [("合计", li) for li in a["items"]]
    return [[a["agent_id"], a["name"], a["team"], seg, li["group"], li["label"], li["key"],
             _r(li["value_raw"]), _r(li["value_shrunk"]), _r(li["value"]), li["count"],
             _r(li["points"], 2), _r(li["weight"]), _r(li["eff_weight"]),
             _r(li["contribution"], 2), li["note"]] for seg, li in lines]


def _trigger_row(t: dict[str, Any]) -> list[Any]:
    return [t["name"], t["segment"], t["scope"], t["scope_id"], BY_KEY[t["metric"]].label_zh,
            f"{t['value']:.4g} {t['op']} {t['threshold']:g}", t["move_from"], t["move_to"],
            _r(t["moved"]), len(t["agents"])]


def _plan_rows(a: dict[str, Any]) -> list[list[Any]]:
    rows: list[list[Any]] = [
        [a["agent_id"], a["name"], a["team"], "本期计划", p["label"], _r(p["points"], 1),
         _r(p["loss"], 2), "、".join(p["topics"]), None] for p in a["training"]]
    for f in a["follow_up"]:
        mark = {True: "改善", False: "未改善", None: "无法比较"}[f["improved"]]
        rows.append([a["agent_id"], a["name"], a["team"], "上期计划跟进", f["label"],
                     _r(f["points"], 1), None,
                     f"上期 {_r(f['prev_points'], 1)} 分 → 本期 {_r(f['points'], 1)} 分", mark])
    return rows
