"""Rendering a MetricsResult as JSON, CSV, XLSX or a terminal table.

Labels, units and the column order come from the registry.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from kefu.metrics.registry import BY_KEY, METRICS
from kefu.metrics.result import MetricsResult, Value

LEVEL_NAMES = (("agent", "agents"), ("team", "teams"), ("shop", "shops"))


def rows(result: MetricsResult) -> list[dict[str, object]]:
    """One flat row per agent, team and shop: level, id, name, team, shop, role, metrics."""
    out: list[dict[str, object]] = []
    for level, attribute in LEVEL_NAMES:
        for entity, values in getattr(result, attribute).items():
            info = result.agent_info.get(entity, {}) if level == "agent" else {}
            row: dict[str, object] = {
                "level": level,
                "id": entity,
                "name": info.get("name", entity),
                "team": info.get("team", entity if level == "team" else ""),
                "shop_id": info.get("shop_id", entity if level == "shop" else ""),
                "role": info.get("role", ""),
            }
            row.update(values)
            out.append(row)
    return out


def render(result: MetricsResult, fmt: str) -> str | bytes:
    if fmt == "json":
        return json.dumps(result.to_json_dict(), ensure_ascii=False, indent=2) + "\n"
    if fmt == "csv":
        return to_csv(result)
    if fmt == "xlsx":
        return to_xlsx(result)
    if fmt == "table":
        return to_table(result)
    raise ValueError(f"unknown format {fmt!r}")


def to_csv(result: MetricsResult) -> str:
    data = rows(result)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(data[0]) if data else ["level", "id"])
    writer.writeheader()
    writer.writerows(data)
    return buffer.getvalue()


def to_xlsx(result: MetricsResult) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    workbook.remove(workbook.worksheets[0])
    bold = Font(bold=True)
    for level, _ in LEVEL_NAMES:
        sheet = workbook.create_sheet({"agent": "客服", "team": "小组", "shop": "店铺"}[level])
        level_rows = [r for r in rows(result) if r["level"] == level]
        head = ["id", "name", "team", "shop_id", "role"] if level == "agent" else ["id"]
        sheet.append(head + [f"{BY_KEY[k].label_zh} {k}" for k in result.keys])
        for cell in sheet[1]:
            cell.font = bold
        for row in level_rows:
            sheet.append([row[h] for h in head] + [row.get(k) for k in result.keys])
        sheet.freeze_panes = "B2"
    about = workbook.create_sheet("说明")
    about.append(["period", f"{result.start} .. {result.end}"])
    for name, value in result.params.model_dump().items():
        about.append([name, value])
    if result.manifest is not None:
        manifest_sheet(workbook, result.manifest)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _fmt(key: str, value: Value) -> str:
    if value is None:
        return "–"
    unit = BY_KEY[key].unit
    if unit == "ratio":
        return f"{value:.1%}"
    if unit in ("seconds", "hours", "cny", "score5"):
        return f"{value:,.1f}" if unit != "score5" else f"{value:.2f}"
    return f"{value:,}" if isinstance(value, int) else f"{value:.2f}"




def to_table(result: MetricsResult) -> str:
    """A compact table of the main metrics for people (every metric is in json/csv/xlsx)."""
    from rich.console import Console
    from rich.table import Table

    keys = [m.key for m in METRICS if m.summary and m.key in result.keys]
    table = Table(title=f"kefu metrics {result.start} .. {result.end}", show_lines=False)
    table.add_column("客服 agent")
    for key in keys:
        table.add_column(BY_KEY[key].label_zh, justify="right")
    for agent_id, values in result.agents.items():
        table.add_row(agent_id, *(_fmt(k, values.get(k)) for k in keys))
    table.add_section()
    for team, values in result.teams.items():
        table.add_row(f"[bold]组 {team}[/]", *(_fmt(k, values.get(k)) for k in keys))
    table.add_section()
    for shop, values in result.shops.items():
        table.add_row(f"[bold]店 {shop}[/]", *(_fmt(k, values.get(k)) for k in keys))
    console = Console(record=True, width=150, file=io.StringIO())
    console.print(table)
    return console.export_text()


def manifest_lines(manifest: dict[str, Any]) -> list[tuple[str, Any]]:
    """The manifest as (name, value) lines for a sheet: dotted names, one input a line."""
    lines: list[tuple[str, Any]] = []
    for key, value in manifest.items():
        if key == "inputs":
            for table, files in value.items():
                text = "; ".join(f"{f['file']} sha256:{f['sha256']}" for f in files)
                lines.append((f"inputs.{table}", text))
        elif key == "scheme" and value is not None:
            lines += [(f"scheme.{k}", value[k]) for k in ("name", "version", "sha256")]
        elif isinstance(value, dict):
            lines += [(f"{key}.{k}", v if not isinstance(v, dict | list) else json.dumps(
                v, ensure_ascii=False)) for k, v in value.items()]
        else:
            lines.append((key, value))
    return lines


def manifest_sheet(workbook: Any, manifest: dict[str, Any]) -> None:
    """A sheet named manifest: what the numbers were computed from (kefu.analysis.manifest)."""
    sheet = workbook.create_sheet("manifest")
    for name, value in manifest_lines(manifest):
        sheet.append([name, value])
    sheet.column_dimensions["A"].width = 30
    sheet.column_dimensions["B"].width = 100
