"""Reception filters against gaming (接待过滤): rows left out of every metric, with the reason.

Each filter is an analysis option (kefu.config.MetricParams); by default none is
on and nothing is removed.  A removed row is never silent: ``apply_filters``
returns every one with its reason (``kefu evidence --filtered`` prints them).

Messages are removed by buyer or by reception (buyer-day: shop, agent, buyer,
business day), first matching reason wins, in this order:

1. ``filter_buyers``: the buyer is one of the shop's own accounts;
2. ``filter_self_chat``: the buyer is an agent account (agent_id or name):
   an agent chatting with another of the shop's accounts;
3. ``secret_phrases``: a message of the buyer-day (any sender) holds a 暗语
   test phrase, so the whole buyer-day is a test;
4. ``filter_empty_chats``: every buyer message of the buyer-day is empty;
5. ``min_buyer_messages`` N: the buyer sent fewer than N messages that day.

Filters 4 and 5 judge receptions, so they look at buyer-days with a buyer
message only.  Orders whose ``status`` contains ``filter_order_status``
(e.g. 补单, brushed orders) are removed from the orders.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from kefu.config import MetricParams, split_list
from kefu.ingest.dataset import Dataset

REPORT_COLUMNS = ("table", "reason", "day", "shop_id", "agent_id", "buyer_id", "sender", "at",
                  "content", "order_id")


def message_filters_on(params: MetricParams) -> bool:
    return bool(
        split_list(params.filter_buyers) or params.filter_self_chat
        or split_list(params.secret_phrases) or params.filter_empty_chats
        or params.min_buyer_messages > 0
    )


def filters_on(params: MetricParams) -> bool:
    return message_filters_on(params) or bool(params.filter_order_status)


def apply_filters(dataset: Dataset, params: MetricParams) -> tuple[Dataset, pa.Table]:
    """The dataset without the filtered rows, and the report of every row removed."""
    reports = [empty_report()]
    messages, orders = dataset.messages, dataset.orders
    if message_filters_on(params):
        reasons = message_reasons(dataset, params)
        removed = pc.invert(pc.is_null(reasons))
        reports.append(_message_report(messages.filter(removed), reasons.filter(removed), params))
        messages = messages.filter(pc.is_null(reasons))
    if params.filter_order_status and orders is not None:
        status = pc.fill_null(orders.column("status"), "")
        flagged = pc.match_substring(status, params.filter_order_status)
        reports.append(_order_report(orders.filter(flagged), params))
        orders = orders.filter(pc.invert(flagged))
    if len(reports) == 1:
        return dataset, reports[0]
    return replace(dataset, messages=messages, orders=orders), pa.concat_tables(reports)


def filtered(dataset: Dataset, params: MetricParams) -> Dataset:
    return apply_filters(dataset, params)[0] if filters_on(params) else dataset


def empty_report() -> pa.Table:
    return pa.table({name: pa.array([], pa.date32() if name == "day" else pa.string())
                     for name in REPORT_COLUMNS})


def business_day(local: pa.ChunkedArray, params: MetricParams) -> pa.ChunkedArray:
    """The business day of wall-clock times (kefu.metrics.clock: the day cut)."""
    delta = pa.scalar(params.day_cutoff_us, pa.duration("us"))
    return pc.cast(pc.subtract(local, delta), pa.date32())


def report_for(report: pa.Table, start: dt.date, end: dt.date,
               agent_id: str | None = None) -> pa.Table:
    """The removed rows of the business days start..end (of one agent, if given)."""
    keep = pc.and_(pc.greater_equal(report.column("day"), pa.scalar(start, pa.date32())),
                   pc.less_equal(report.column("day"), pa.scalar(end, pa.date32())))
    if agent_id is not None:
        keep = pc.and_(keep, pc.equal(report.column("agent_id"), agent_id))
    return report.filter(keep)


_REASONS_SQL = """
WITH m AS (
    SELECT _row, shop_id, agent_id, buyer_id, sender = 'buyer' AS is_buyer,
           coalesce(trim(content), '') AS text,
           CAST(sent_local - to_microseconds($cutoff) AS DATE) AS day
    FROM messages
), marked AS (
    SELECT *,
        list_filter($phrases, p -> contains(text, p))[1] AS phrase
    FROM m
), days AS (
    SELECT *,
        max(phrase) OVER bd AS day_phrase,
        count(*) FILTER (WHERE is_buyer) OVER bd AS buyer_messages,
        count(*) FILTER (WHERE is_buyer AND text <> '') OVER bd AS said
    FROM marked
    WINDOW bd AS (PARTITION BY shop_id, agent_id, buyer_id, day)
)
SELECT _row, CASE
    WHEN list_contains($own, buyer_id) THEN 'own account (filter_buyers)'
    WHEN $self_chat AND list_contains($accounts, buyer_id)
        THEN 'self-chat: the buyer is an agent account'
    WHEN day_phrase IS NOT NULL THEN '暗语 test phrase: ' || day_phrase
    WHEN $empty AND buyer_messages > 0 AND said = 0 THEN 'empty chat'
    WHEN buyer_messages > 0 AND buyer_messages < $min_messages
        THEN 'fewer than ' || $min_messages || ' buyer messages'
    END AS reason
FROM days ORDER BY _row
"""


def message_reasons(dataset: Dataset, params: MetricParams) -> pa.ChunkedArray:
    """Per message (in load order): why it is filtered, or null when it stays."""
    messages = dataset.messages
    phrases = split_list(params.secret_phrases)
    if (phrases or params.filter_empty_chats) and "content" not in messages.column_names:
        raise ValueError("secret_phrases and filter_empty_chats read the message text, "
                         "which this run does not hold (run with the quality checks on)")
    cols = ["shop_id", "agent_id", "buyer_id", "sender", "sent_local"]
    table = messages.select(cols)
    table = table.append_column(
        "content", messages.column("content") if "content" in messages.column_names
        else pa.nulls(messages.num_rows, pa.string()))
    table = table.append_column("_row", pa.array(np.arange(messages.num_rows, dtype=np.int64)))
    agents = dataset.agents
    accounts = [a for a in agents.column("agent_id").to_pylist()
                + agents.column("name").to_pylist() if a]
    con = duckdb.connect()
    try:
        con.register("messages", table)
        out = con.execute(_REASONS_SQL, {
            "cutoff": params.day_cutoff_us, "phrases": phrases,
            "own": split_list(params.filter_buyers), "self_chat": params.filter_self_chat,
            "accounts": accounts, "empty": params.filter_empty_chats,
            "min_messages": params.min_buyer_messages,
        }).to_arrow_table()
    finally:
        con.close()
    return out.column("reason")


def _message_report(rows: pa.Table, reasons: pa.ChunkedArray, params: MetricParams) -> pa.Table:
    n = rows.num_rows
    content = (rows.column("content") if "content" in rows.column_names
               else pa.nulls(n, pa.string()))
    return pa.table({
        "table": pa.array(["messages"] * n, pa.string()),
        "reason": reasons,
        "day": business_day(rows.column("sent_local"), params),
        "shop_id": rows.column("shop_id"),
        "agent_id": rows.column("agent_id"),
        "buyer_id": rows.column("buyer_id"),
        "sender": rows.column("sender"),
        "at": pc.cast(pc.cast(rows.column("sent_local"), pa.timestamp("s")), pa.string()),
        "content": content,
        "order_id": pa.nulls(n, pa.string()),
    })


def _order_report(rows: pa.Table, params: MetricParams) -> pa.Table:
    n = rows.num_rows
    status = params.filter_order_status
    return pa.table({
        "table": pa.array(["orders"] * n, pa.string()),
        "reason": pa.array([f"order status contains {status}"] * n, pa.string()),
        "day": business_day(rows.column("created_local"), params),
        "shop_id": rows.column("shop_id"),
        "agent_id": pa.nulls(n, pa.string()),
        "buyer_id": rows.column("buyer_id"),
        "sender": pa.nulls(n, pa.string()),
        "at": pc.cast(pc.cast(rows.column("created_local"), pa.timestamp("s")), pa.string()),
        "content": pa.nulls(n, pa.string()),
        "order_id": rows.column("order_id"),
    })
