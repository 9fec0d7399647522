"""The rows behind a number: drill-down from a metric to its buyer-days, turns, orders …

Each metric names the relation its family aggregates (the same function the
family's components() reads), so the evidence of a number and the number can
never disagree: counting or summing the rows gives the value back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from zoneinfo import ZoneInfo

import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.compute as pc

from kefu.ingest.dataset import Dataset
from kefu.metrics import attendance, cases, sales, satisfaction, service, transfers
from kefu.metrics.context import Context
from kefu.metrics.engine import Encoding, build_context, connect, for_period
from kefu.metrics.facts import CONVERSATION
from kefu.metrics.filters import filtered
from kefu.metrics.flag_bits import has_flags, unpacked
from kefu.metrics.params import MetricParams
from kefu.metrics.registry import BY_KEY, METRICS


def _conversations(ctx: Context) -> ir.Table:
    """The period's conversations, their first response and whether the buyer came back."""
    conv = service.conversations(ctx)
    first = service.first_turns(ctx).select(*CONVERSATION, "response_s")
    repeats = satisfaction.repeat_contacts(ctx).select(*CONVERSATION).mutate(repeat_contact=True)
    conv = conv.left_join(first, list(CONVERSATION)).select(
        conv, first_response_s=first.response_s
    )
    out = conv.left_join(repeats, list(CONVERSATION)).select(conv, "repeat_contact")
    if has_flags(ctx.facts.messages):
        from kefu.metrics.quality import conversation_checks

        checks = conversation_checks(ctx).select(
            *CONVERSATION, "polite", "greeting", "closing", "violation", "upset", "empathic",
            "qa_points",
        )
        out = out.left_join(checks, list(CONVERSATION)).select(
            out, *[checks[c] for c in checks.columns if c not in CONVERSATION]
        )
    return out


def _messages(ctx: Context) -> ir.Table:
    m = service.messages(ctx)
    return unpacked(m.filter(m.is_buyer | m.is_human))


def _conversions(ctx: Context) -> ir.Table:
    if ctx.orders is None:
        return sales.period_inquiries(ctx)
    return sales.period_conversions(ctx)


# The relations a metric's evidence can name (registry: Metric.evidence).
RELATIONS: dict[str, Callable[[Context], ir.Table]] = {
    "buyer_days": service.buyer_days,
    "inquiries": sales.period_inquiries,
    "conversions": _conversions,
    "conversations": _conversations,
    "turns": service.turns,
    "messages": _messages,
    "online_intervals": service.online_intervals,
    "ratings": satisfaction.period_ratings,
    "cases": cases.period_cases,
    "transfers": transfers.both,
    "attendance": attendance.present_days,
    "away_intervals": attendance.away_intervals,
    "silent_sales": sales.silent_orders,
}
EVIDENCE: dict[str, Callable[[Context], ir.Table]] = {
    m.key: RELATIONS[m.evidence] for m in METRICS
}

# internal columns a reader has no use for
_HIDDEN = {"thread", "conv_tag", "seq", "first_buyer_seq", "start_seq", "human_no", "has_buyer",
           "response_us", "is_buyer", "is_human", "island", "reach", "new_island", "rank",
           "start_clock", "answer_clock", "timed", "sent_bus", "is_transfer_mark",
           "login_tod_us"}


def evidence(
    dataset: Dataset,
    start: dt.date,
    end: dt.date,
    metric: str,
    agent_id: str | None = None,
    params: MetricParams | None = None,
    qa: bool = False,
) -> pa.Table:
    """The rows that make ``metric`` for one agent (or every agent) in start..end.

    One-off: builds the facts for this query; kefu.analysis.Analysis keeps them.
    """
    check_metric(dataset, metric)
    params = params or MetricParams(tz=dataset.tz)
    dataset = filtered(dataset, params)
    con = connect("duckdb")
    try:
        ctx = build_context(con, dataset, params, qa=qa)
        return evidence_rows(for_period(ctx, start, end), dataset, metric, agent_id)
    finally:
        con.disconnect()


def check_metric(dataset: Dataset, metric: str) -> None:
    """A metric with evidence whose input table was given; ValueError otherwise."""
    if metric not in BY_KEY:
        raise ValueError(f"unknown metric {metric!r}")
    needed = BY_KEY[metric].table
    if needed and dataset.table(needed) is None:
        raise ValueError(f"{metric} needs the {needed} table, which was not given")


def evidence_rows(
    ctx: Context, dataset: Dataset, metric: str, agent_id: str | None = None
) -> pa.Table:
    """The rows behind ``metric`` for ctx.period, read from facts already built."""
    check_metric(dataset, metric)
    if metric not in EVIDENCE:
        raise ValueError(f"{metric} has no evidence rows (the QA checks were not run)")
    codes: Encoding = ctx.extra["codes"]
    relation = EVIDENCE[metric](ctx)
    if agent_id is not None:
        if BY_KEY[metric].shop_only:
            raise ValueError(f"{metric} is a value of the shop, never of an agent: "
                             "leave --agent out")
        if agent_id not in ctx.extra["agent_ids"]:
            raise ValueError(f"unknown agent {agent_id!r}")
        relation = relation.filter(relation.agent_no == ctx.extra["agent_ids"].index(agent_id))
    return readable(relation.to_pyarrow(), dataset, codes, BY_KEY[metric].table)


def _original(table: pa.Table) -> dict[str, pa.ChunkedArray]:
    """A loaded table's columns as the shop wrote them: times on its wall clock."""
    out = {}
    for name in table.column_names:
        if name == "ordinal" or name.endswith("_local"):
            continue
        local = f"{name.removesuffix('_at')}_local"
        out[name] = table.column(local if local in table.column_names else name)
    return out


def readable(rows: pa.Table, dataset: Dataset, codes: Encoding, source: str | None) -> pa.Table:
    """Codes back to ids, microseconds to local times, internal columns out."""
    zone = ZoneInfo(dataset.tz)
    out: dict[str, pa.Array] = {}
    names = rows.column_names
    if source is not None and "row_no" in names:
        original = dataset.table(source)
        assert original is not None
        out.update(_original(original.take(rows.column("row_no"))))
    if "thread" in names and "buyer_no" not in names:
        # thread = (shop * agents + agent) * buyers + buyer (engine.prepare_messages)
        thread = rows.column("thread")
        n_agents, n_buyers = len(codes.agent_ids), max(len(codes.buyer_ids), 1)
        out["shop_id"] = pc.take(codes.shop_ids, pc.divide(thread, n_agents * n_buyers))
        out["buyer_id"] = pc.take(codes.buyer_ids, pc.subtract(
            thread, pc.multiply(pc.divide(thread, n_buyers), n_buyers)))
    for name in names:
        column = rows.column(name)
        if name in _HIDDEN or name in out or name == "row_no" and source is not None:
            continue
        if name in ("agent_no", "other_agent_no"):
            out[name.replace("_no", "_id")] = pc.take(codes.agent_ids, column)
        elif name == "shop_no":
            out["shop_id"] = pc.take(codes.shop_ids, column)
        elif name == "buyer_no":
            out["buyer_id"] = pc.take(codes.buyer_ids, column)
        elif name == "order_no" and dataset.orders is not None:
            picked = _original(dataset.orders.take(column))
            for extra in ("order_id", "created_at", "paid_at", "amount", "refund_amount"):
                out[extra] = picked[extra]
        elif name == "row_no":  # messages: the text behind the flags
            picked = _original(dataset.messages.take(column))
            for extra in ("sent_at", "sender", "content"):
                if extra in picked:
                    out[extra] = picked[extra]
        elif name.endswith("_us") or name in ("lo", "hi"):
            stamps = pc.cast(pc.cast(column, pa.int64()), pa.timestamp("us", "UTC"))
            label = {"lo": "online_from", "hi": "online_to"}.get(name, name[:-3] + "_at")
            out[label] = pc.cast(stamps, pa.timestamp("us", str(zone)))
        elif name.endswith("_day") or name == "day":
            out[name] = pc.cast(column, pa.date32())
        elif name.endswith("_e4"):
            continue  # the order's own amount columns are shown instead
        else:
            out[name] = column
    table = pa.table(out)
    times = [n for n in table.column_names if n.endswith("_at") or n == "online_from"]
    keys = [k for k in ("agent_id", *times[:1]) if k in table.column_names]
    return table.sort_by([(k, "ascending") for k in keys]) if keys else table
