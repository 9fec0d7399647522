"""Small hand-made shops for the metric rules.

Times are written as the shop's wall clock (Asia/Shanghai) unless they carry an
offset, exactly like a shop's export.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from kefu.ingest import load_records
from kefu.ingest.dataset import Dataset
from kefu.metrics import MetricParams, MetricsResult, compute

AGENTS = [
    {"agent_id": "s1:amy", "name": "Amy", "shop_id": "s1", "team": "presale-1", "role": "presale"},
    {"agent_id": "s1:bob", "name": "Bob", "shop_id": "s1", "team": "presale-1", "role": "both"},
    {"agent_id": "s1:cat", "name": "Cat", "shop_id": "s1", "team": "after", "role": "aftersale"},
]


def msg(
    agent: str, buyer: str, sender: str, at: str, auto: bool = False, cid: str | None = None,
    content: str = "",
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "shop_id": "s1", "agent_id": agent, "buyer_id": buyer, "sender": sender,
        "sent_at": at, "content": content, "auto_reply": auto,
    }
    if cid is not None:
        row["conversation_id"] = cid
    return row


def dataset(
    messages: list[dict[str, Any]], agents: list[dict[str, Any]] | None = None,
    tz: str = "Asia/Shanghai", **tables: list[dict[str, Any]],
) -> Dataset:
    records = {"agents": agents or AGENTS, "messages": messages, **tables}
    return load_records(records, tz=tz).dataset


def run(
    ds: Dataset, start: str = "2024-06-01", end: str | None = None, qa: bool = False,
    engine: str = "duckdb", **params: Any,
) -> MetricsResult:
    first = dt.date.fromisoformat(start)
    last = dt.date.fromisoformat(end or start)
    return compute(ds, first, last, MetricParams(tz=ds.tz, **params), engine=engine, qa=qa)


@pytest.fixture
def shop() -> Any:
    return dataset
