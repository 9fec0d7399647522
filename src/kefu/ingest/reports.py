"""KPI reports (aggregated per agent and day or period: 赤兔-style custom reports,
Pinduoduo/Douyin 客服数据, Chatwoot agent reports) → *reported metrics*.

A reported value is the platform's number for a registry key, with the platform's
own definition (in the profile), not kefu's computation: it has no rows behind it
(no drill-down) and is marked ``reported`` wherever it shows. Stored in a
workspace as ``reports/<sha256>.parquet`` (one row per agent, period and key).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from kefu.ingest.cells import Row, clean_cell, header_at, norm_header, number, read_rows
from kefu.ingest.errors import RowError
from kefu.ingest.platforms import PlatformProfile, ReportMetric, aliases
from kefu.metrics.registry import BY_KEY

REPORTS_DIR = "reports"
DATE = re.compile(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?|(\d{4})(\d{2})(\d{2})")


@dataclass(frozen=True)
class Reported:
    """One reported value: an agent's number for a registry key over start..end."""

    agent_id: str
    start: dt.date
    end: dt.date
    key: str
    value: float
    name: str = ""
    team: str = ""
    role: str = "both"
    shop_id: str = ""
    header: str = ""
    aggregate: str = "sum"
    weight: str = ""


@dataclass
class ReportRead:
    source: str
    values: list[Reported] = field(default_factory=list)
    mapped: dict[str, str] = field(default_factory=dict)
    """header → registry key"""
    unmapped: list[str] = field(default_factory=list)
    absent: list[str] = field(default_factory=list)
    """profile columns this file does not have"""
    summary_lines: list[int] = field(default_factory=list)
    footer_lines: list[int] = field(default_factory=list)
    missing_cells: int = 0
    period: tuple[dt.date, dt.date] | None = None
    errors: list[RowError] = field(default_factory=list)
    preview: list[tuple[int, dict[str, str], dict[str, float | None]]] = field(
        default_factory=list)


def parse_date(text: str) -> dt.date | None:
    match = DATE.search(text)
    if match is None:
        return None
    y, m, d = (int(g) for g in (match.groups()[:3] if match.group(1) else match.groups()[3:]))
    try:
        return dt.date(y, m, d)
    except ValueError:
        return None


def aggregate_rule(key: str, spec: ReportMetric | None = None) -> tuple[str, str]:
    """(sum | mean, weight key) for a key: the profile's, else by the key's unit."""
    metric = BY_KEY[key]
    rule = (spec.aggregate if spec else None) or ("sum" if metric.additive else "mean")
    weight = (spec.weight if spec else None) or (
        (metric.weight or "") if rule == "mean" else "")
    return rule, weight


def in_key_unit(value: float, spec: ReportMetric) -> float:
    """Durations are read as seconds; a key counted in hours gets hours."""
    if spec.unit in ("seconds", "minutes", "hours") and BY_KEY[spec.key].unit == "hours":
        return value / 3600
    return value


def read_report(
    path: Path,
    profile: PlatformProfile,
    period: tuple[dt.date, dt.date] | None = None,
    known: Mapping[str, str] | None = None,
) -> ReportRead:
    """Read a KPI report; ``period`` is used when neither a date column nor the file says it."""
    spec = profile.report
    assert spec is not None
    rows = read_rows(path)
    out = ReportRead(path.name)
    known = aliases(dict(known or {}))
    at = header_at(rows, spec.agent_column, path, profile.name)
    header = [norm_header(c) for c in rows[at].cells]
    written = {norm_header(c): c.strip() for c in rows[at].cells}
    out.period = file_period(rows[:at] + rows[at + 1:], spec.period_pattern) or period
    col = {name: header.index(name) for name in header if name}
    metric_cols = {norm_header(h): m for h, m in spec.metrics.items()}
    rating_cols = {norm_header(h): s for h, s in spec.ratings.items()}
    out.mapped = {written[h]: m.key for h, m in metric_cols.items() if h in col}
    out.mapped.update({written[h]: f"ratings (score {s})" for h, s in rating_cols.items()
                       if h in col})
    named = (spec.agent_column, spec.name_column, spec.team_column, spec.date_column)
    known_cols = {norm_header(c) for c in named if c}
    out.unmapped = [written[h] for h in col if h not in metric_cols and h not in rating_cols
                    and h not in known_cols]
    out.absent = [h for h in [*spec.metrics, *spec.ratings] if norm_header(h) not in col]
    footers = [re.compile(p) for p in profile.footer_patterns]
    for row in rows[at + 1:]:
        text = ",".join(row.cells)
        if any(f.search(text) for f in footers):
            out.footer_lines.append(row.line)
            continue
        read_row(row, col, profile, out, known)
    return out


def file_period(rows: list[Row], pattern: str | None) -> tuple[dt.date, dt.date] | None:
    if not pattern:
        return None
    regex = re.compile(pattern)
    for row in rows:
        match = regex.search(" ".join(row.cells))
        if match:
            first, last = parse_date(match.group(1)), parse_date(match.group(2))
            if first and last:
                return first, last
    return None


def read_row(
    row: Row, col: dict[str, int], profile: PlatformProfile, out: ReportRead,
    known: Mapping[str, str],
) -> None:
    """One data row → reported values (or a summary row left out, or row errors)."""
    spec = profile.report
    assert spec is not None

    def cell(name: str | None) -> str | None:
        i = col.get(norm_header(name)) if name else None
        return clean_cell(row.cells[i], profile.missing) if i is not None and i < len(
            row.cells) else None

    agent = cell(spec.agent_column)
    summary = set(spec.summary_values)
    if agent in summary or any((clean_cell(c, profile.missing) or "") in summary
                               for c in row.cells[:3]):
        out.summary_lines.append(row.line)
        return
    if agent is None:  # a blank agent cell: a note or footer line, not an agent
        out.footer_lines.append(row.line)
        return
    period = out.period
    if spec.date_column:
        raw_day = cell(spec.date_column)
        day = parse_date(raw_day) if raw_day else None
        if day is None:
            out.errors.append(RowError(out.source, row.line, spec.date_column, raw_day or "",
                                       "not a date"))
            return
        period = (day, day)
    if period is None:
        out.errors.append(RowError(out.source, row.line, spec.agent_column, agent,
                                   "the report names no period: give --start and --end"))
        return
    first, last = period
    name = cell(spec.name_column) or agent
    team = cell(spec.team_column) or profile.team

    def reported(key: str, value: float, header: str, rule: tuple[str, str]) -> Reported:
        return Reported(known.get(agent, agent), first, last, key, value, name, team,
                        profile.default_role, "", header, rule[0], rule[1])

    values: dict[str, float | None] = {}
    raw: dict[str, str] = {}
    for header, metric in spec.metrics.items():
        if norm_header(header) not in col or values.get(metric.key) is not None:
            continue  # alternatives of one key: the first one the file has wins
        text = cell(header)
        raw[header] = row.cells[col[norm_header(header)]].strip()
        if text is None:
            out.missing_cells += 1
            values[metric.key] = None
            continue
        try:
            value = in_key_unit(number(text, metric.unit), metric)
        except ValueError:
            out.errors.append(RowError(out.source, row.line, header, text,
                                       f"not a {metric.unit} value"))
            continue
        values[metric.key] = value
        out.values.append(reported(metric.key, value, header, aggregate_rule(metric.key, metric)))
    for key, value in rating_values(spec.ratings, cell, row, out).items():
        values[key] = value
        out.values.append(reported(key, value, "评价分布", aggregate_rule(key)))
    if len(out.preview) < 5:
        out.preview.append((row.line, {spec.agent_column: agent, **raw}, values))


def rating_values(ratings: Mapping[str, int], cell: object, row: Row,
                  out: ReportRead) -> dict[str, float]:
    """Counts labelled 很满意 … 很不满 → ratings, csat_avg, satisfaction_rate, dissatisfied.

    A missing count among present ones counts 0; all missing means no ratings data.
    """
    assert callable(cell)
    counts: dict[int, float] = {}
    seen = False
    for header, score in ratings.items():
        text = cell(header)
        if text is None:
            continue
        try:
            counts[score] = counts.get(score, 0) + number(text, "count")
            seen = True
        except ValueError:
            out.errors.append(RowError(out.source, row.line, header, text, "not a count"))
    total = sum(counts.values())
    if not seen:
        return {}
    result = {"ratings": total, "dissatisfied": counts.get(1, 0) + counts.get(2, 0)}
    if total > 0:
        result["csat_avg"] = sum(s * c for s, c in counts.items()) / total
        result["satisfaction_rate"] = (counts.get(4, 0) + counts.get(5, 0)) / total
    return result


# --- storage in a workspace ----------------------------------------------------------------

SCHEMA = pa.schema([
    ("agent_id", pa.string()), ("start", pa.date32()), ("end", pa.date32()),
    ("key", pa.string()), ("value", pa.float64()), ("name", pa.string()),
    ("team", pa.string()), ("role", pa.string()), ("shop_id", pa.string()),
    ("header", pa.string()), ("aggregate", pa.string()), ("weight", pa.string()),
])


def save_reported(workspace: Path, values: list[Reported], source_bytes: bytes) -> Path:
    """Store reported values under the hash of the source file (importing twice is a no-op)."""
    folder = workspace / REPORTS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{hashlib.sha256(source_bytes).hexdigest()}.parquet"
    if target.exists():
        return target
    table = pa.Table.from_pylist([asdict(v) for v in values], schema=SCHEMA)
    partial = target.with_suffix(".parquet.partial")
    pq.write_table(table, partial)
    os.replace(partial, target)
    return target


def load_reported(folder: Path) -> list[Reported]:
    """Every reported value stored in a workspace (empty when it has none)."""
    files = sorted((folder / REPORTS_DIR).glob("*.parquet"))
    return [Reported(**r) for f in files for r in pq.read_table(f).to_pylist()]
