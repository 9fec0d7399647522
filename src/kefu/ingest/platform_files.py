"""One platform file + its profile → canonical records and/or reported values (one dispatcher
for every profile kind), plus a human-readable preview for ``--dry-run``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from kefu.ingest.chatlog import RoleDecision, parse_chatlog, parse_twitter
from kefu.ingest.errors import RowError
from kefu.ingest.helpdesk import read_helpdesk
from kefu.ingest.platforms import PlatformProfile
from kefu.ingest.reports import ReportRead, read_report

PREVIEW_ROWS = 5


@dataclass
class Converted:
    source: Path
    profile: PlatformProfile
    tables: dict[str, list[dict[str, str | None]]] = field(default_factory=dict)
    lines: dict[str, list[int]] = field(default_factory=dict)
    """Source line of each record, per table (agents records have none)."""
    report: ReportRead | None = None
    roles: list[RoleDecision] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    preview: list[str] = field(default_factory=list)


def convert(
    path: Path, profile: PlatformProfile, known: Mapping[str, str] | None = None,
    period: tuple[dt.date, dt.date] | None = None,
) -> Converted:
    """``known``: agent_id → name of the shop's agents (they are never created again)."""
    out = Converted(path, profile)
    if profile.kind in ("chatlog", "twitter_json"):
        parse = parse_chatlog if profile.kind == "chatlog" else parse_twitter
        chat = parse(path, profile, known)
        out.tables = {"messages": [dict(m) for m in chat.messages],
                      "agents": [dict(a) for a in chat.agents]}
        out.lines = {"messages": chat.lines}
        out.roles, out.errors = chat.roles, chat.errors
        out.notes = [*(f"transfer {t}" for t in chat.transfers), *chat.warnings]
        masked = sorted({m["buyer_id"] for m in chat.messages if "*" in m["buyer_id"]})
        if masked:
            out.notes.append(f"{len(masked)} masked buyer ids (e.g. {masked[0]}): buyers the "
                             "platform masked alike are counted as one")
        for line, sender, m in list(zip(chat.lines, chat.senders, chat.messages,
                                        strict=True))[:PREVIEW_ROWS]:
            out.preview.append(f"line {line}: {sender} → {m['sender']}  agent_id={m['agent_id']} "
                               f"buyer_id={m['buyer_id']} sent_at={m['sent_at']} "
                               f"content={(m['content'] or '')[:30]!r}")
    elif profile.kind == "table":
        assert profile.table is not None
        desk = read_helpdesk(path, profile, known)
        out.tables = {profile.table.table: desk.records, "agents": [dict(a) for a in desk.agents]}
        out.lines = {profile.table.table: desk.lines}
        out.errors = desk.errors
        out.notes = [*desk.skipped] + ([f"columns not used: {', '.join(desk.unmapped)}"]
                                       if desk.unmapped else [])
        for line, record in list(zip(desk.lines, desk.records, strict=True))[:PREVIEW_ROWS]:
            shown = " ".join(f"{k}={v}" for k, v in record.items() if v is not None)
            out.preview.append(f"line {line}: {shown[:160]}")
    else:
        report = read_report(path, profile, period, known)
        out.report, out.errors = report, report.errors
        out.notes = report_notes(report, profile)
        for line, raw, values in report.preview:
            shown = ", ".join(f"{k}={'null' if v is None else round(v, 4)}"
                              for k, v in values.items())
            cells = ", ".join(f"{k}={v}" for k, v in raw.items())
            out.preview.append(f"line {line}: {cells[:120]} → {shown}")
    return out


def report_notes(report: ReportRead, profile: PlatformProfile) -> list[str]:
    notes = ["columns: " + "; ".join(f"{h} → {k}" for h, k in report.mapped.items())]
    if report.unmapped:
        notes.append(f"columns not mapped (no registry key): {', '.join(report.unmapped)}")
    if report.absent:
        notes.append(f"profile columns this file lacks: {', '.join(report.absent)}")
    if report.period:
        notes.append(f"period: {report.period[0]}..{report.period[1]}")
    if report.summary_lines:
        notes.append(f"summary rows left out (汇总/均值 …): lines "
                     f"{', '.join(map(str, report.summary_lines))}")
    if report.footer_lines:
        notes.append(f"lines without an agent left out: {', '.join(map(str, report.footer_lines))}")
    if report.missing_cells:
        notes.append(f"{report.missing_cells} missing values ({' '.join(profile.missing)}): "
                     "null, not 0")
    agents = {v.agent_id for v in report.values}
    notes.append(f"{len(report.values)} reported values for {len(agents)} agents")
    return notes
