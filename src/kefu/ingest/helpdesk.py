"""Helpdesk tables (Zendesk satisfaction ratings, Chatwoot CSAT …): tickets or ratings, not
messages, mapped onto one canonical table by a platform profile.

Handled here, as the profile says: a header found below preamble lines, footer
lines (Chatwoot's ``Reporting period …``), missing-value tokens, ``="…"`` and
leading ``'``, header names with stray spaces, value wordings (good → 5), rows
that are not records (Zendesk's ``offered``), an agent cell such as
``Name (email)``, and naive time stamps that are UTC.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from kefu.ingest.cells import clean_cell, header_at, norm_header, read_rows
from kefu.ingest.errors import RowError
from kefu.ingest.platforms import PlatformProfile, aliases
from kefu.ingest.schema import TABLES, Kind

UTC_SUFFIX = re.compile(r"\s*(UTC|GMT|Z)$", re.IGNORECASE)
HAS_OFFSET = re.compile(r"[+-]\d{2}:?\d{2}$")


@dataclass
class HelpdeskRecords:
    source: str
    table: str
    records: list[dict[str, str | None]] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    agents: list[dict[str, str]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    """Rows left out on purpose (footer lines, rows that are not records), with why."""
    unmapped: list[str] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


def as_utc(stamp: str) -> str:
    """``2024-06-01 08:00:00 UTC`` or a naive stamp → the same instant with ``+00:00``."""
    text = UTC_SUFFIX.sub("", stamp.strip())
    return text if HAS_OFFSET.search(text) else f"{text}+00:00"


def read_helpdesk(path: Path, profile: PlatformProfile,
                  known: Mapping[str, str] | None = None) -> HelpdeskRecords:
    spec = profile.table
    assert spec is not None
    table = TABLES[spec.table]
    rows = read_rows(path)
    at = header_at(rows, spec.header_row, path, profile.name)
    header = [norm_header(c) for c in rows[at].cells]
    renames = {norm_header(h): c for h, c in spec.columns.items()}
    target = {i: renames.get(h, h if h in table.column_index else None)
              for i, h in enumerate(header)}
    out = HelpdeskRecords(path.name, spec.table,
                          unmapped=[rows[at].cells[i].strip() for i, t in target.items()
                                    if t is None and header[i]])
    footers = [re.compile(p) for p in profile.footer_patterns]
    agent_re = re.compile(spec.agent_pattern) if spec.agent_pattern else None
    values = {c: {k.strip().lower(): v for k, v in m.items()} for c, m in spec.values.items()}
    skips = {c: {v.strip().lower() for v in vs} for c, vs in spec.skip_values.items()}
    names: dict[str, str] = {}
    alias = aliases(dict(known or {}))
    for row in rows[at + 1:]:
        if any(f.search(",".join(row.cells)) for f in footers):
            out.skipped.append(f"line {row.line}: footer line")
            continue
        record: dict[str, str | None] = {}
        for i, column in target.items():
            if column is None or column in record:
                continue
            cell = clean_cell(row.cells[i] if i < len(row.cells) else None, profile.missing)
            if cell is not None and column in values:
                cell = values[column].get(cell.lower(), cell)
            if cell is not None and table.column(column).kind is Kind.TIMESTAMP and spec.utc:
                cell = as_utc(cell)
            record[column] = cell
        skip = next((c for c, vs in skips.items() if (record.get(c) or "").lower() in vs), None)
        if skip is not None:
            out.skipped.append(f"line {row.line}: {skip} {record.get(skip)!r} is not a record")
            continue
        agent = record.get("agent_id")
        if agent and agent_re is not None:
            match = agent_re.match(agent)
            if match:
                record["agent_id"] = match.group("id").strip()
                if "name" in match.groupdict():
                    names[record["agent_id"] or ""] = match.group("name").strip()
        if agent:
            record["agent_id"] = alias.get(record["agent_id"] or "", record["agent_id"])
        out.records.append(record)
        out.lines.append(row.line)
    seen = dict.fromkeys(r["agent_id"] for r in out.records if r.get("agent_id"))
    out.agents = [{"agent_id": a, "name": names.get(a, a), "team": profile.team,
                   "role": profile.default_role} for a in seen if a and a not in alias.values()]
    return out
