"""`kefu compare-report`: where a shop has both chats and the platform's KPI report, kefu's
computed value beside the reported one (definitions differ: see each profile)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from kefu.ingest.reports import load_reported
from kefu.scoring.reported import ReportSource


def compare(
    data: Path, start: dt.date, end: dt.date, report: Path | None = None,
    profile: str | None = None, tz: str = "Asia/Shanghai",
) -> list[dict[str, Any]]:
    from kefu.ingest import load_dir
    from kefu.metrics import MetricParams, compute

    if report is not None:
        from kefu.ingest.platforms import load_platform_profile
        from kefu.ingest.reports import read_report

        if profile is None:
            raise ValueError("--report needs --profile")
        read = read_report(report, load_platform_profile(profile), (start, end))
        if read.errors:
            raise ValueError("\n".join(str(e) for e in read.errors[:20]))
        values = read.values
    else:
        values = load_reported(data)
    if not values:
        raise ValueError(f"no KPI report: import one into {data} or give --report/--profile")
    reported = ReportSource(values, tz).metrics(start, end)
    computed = compute(load_dir(data, tz=tz).dataset, start, end, MetricParams(tz=tz), qa=False)
    rows = []
    for agent in sorted(reported.agents):
        for key in reported.keys:
            r = reported.agents[agent].get(key)
            c = computed.agents.get(agent, {}).get(key)
            diff = None if r is None or c is None else float(c) - float(r)
            rows.append({"agent_id": agent, "metric": key, "computed": c, "reported": r,
                         "difference": diff})
    return rows
