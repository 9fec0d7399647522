"""After-sales metrics: cases handled, time to close, disputes, complaints."""

from __future__ import annotations

import ibis.expr.types as ir

from kefu.metrics.context import Components, Context, ratio
from kefu.metrics.result import Values

US_PER_HOUR = 3_600_000_000


def period_cases(ctx: Context) -> ir.Table:
    assert ctx.cases is not None
    return ctx.cases.filter(ctx.period.covers(ctx.cases.opened_day))


def components(ctx: Context) -> list[ir.Table]:
    if ctx.cases is None:
        return []
    c = period_cases(ctx)
    closed = c.closed_us.notnull()
    return [
        c.group_by("agent_no").aggregate(
            cases=c.count(),
            closed_cases=closed.sum().cast("int64"),
            close_us_sum=(c.closed_us - c.opened_us).sum(where=closed),
            intervened=c.platform_intervened.sum().cast("int64"),
            complaints=(c.kind == "complaint").sum().cast("int64"),
        )
    ]


def derive(c: Components, ctx: Context) -> Values:
    if ctx.cases is None:
        return dict.fromkeys(("cases", "case_close_h", "dispute_rate", "complaint_rate"))
    n = c.get("cases", 0)
    close_sum = c.get("close_us_sum")
    return {
        "cases": n,
        "case_close_h": ratio(
            None if close_sum is None else close_sum / US_PER_HOUR, c.get("closed_cases", 0)
        ),
        "dispute_rate": ratio(c.get("intervened", 0), n),
        "complaint_rate": ratio(c.get("complaints", 0), c.get("received", 0)),
    }
