"""load_records: the same checks as files, for tests of every stage."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from kefu.ingest import IngestError, load_records
from kefu.ingest.schema import TABLES

AGENTS = [{"agent_id": "a1", "name": "小美", "shop_id": "s", "team": "t", "role": "售前"}]


def test_records_build_a_typed_dataset() -> None:
    result = load_records({
        "agents": AGENTS,
        "messages": [
            {"agent_id": "a1", "buyer_id": "b", "sender": "buyer",
             "sent_at": dt.datetime(2024, 6, 1, 10, 0), "content": "在吗"},
            {"agent_id": "a1", "buyer_id": "b", "sender": "agent",
             "sent_at": "2024-06-01 10:00:07", "auto_reply": True},
        ],
        "orders": [{"order_id": 123456789012, "buyer_id": "b",
                    "created_at": "2024-06-01 10:05", "amount": 12.5}],
        "ratings": [{"agent_id": "a1", "rated_at": "2024-06-01 11:00", "score": 4}],
    })
    data = result.dataset
    assert data.tz == "Asia/Shanghai"
    assert data.messages.schema.names == [
        "shop_id", "agent_id", "buyer_id", "sender", "sent_at", "sent_local", "content",
        "auto_reply", "conversation_id", "ordinal",
    ]
    types = {f.name: f.type for f in data.messages.schema}
    assert types["sent_at"] == pa.timestamp("us") and types["ordinal"] == pa.int64()
    assert types["auto_reply"] == pa.bool_()
    assert data.messages.column("auto_reply").to_pylist() == [False, True]
    assert data.orders is not None and data.orders.column("order_id").to_pylist() == [
        "123456789012"]
    assert data.ratings is not None and data.ratings.column("score").type == pa.int64()
    assert data.cases is None and data.sessions is None


def test_every_table_has_the_documented_columns() -> None:
    result = load_records({"agents": AGENTS, "messages": [], "orders": [], "ratings": [],
                           "cases": [], "sessions": [], "shifts": []})
    for name, table in TABLES.items():
        loaded = result.dataset.table(name)
        assert loaded is not None and loaded.num_rows == (name == "agents")
        expected: list[str] = []
        for column in table.columns:
            expected.append(column.name)
            if column.name.endswith("_at"):
                expected.append(column.name.removesuffix("_at") + "_local")
        assert loaded.column_names == [*expected, "ordinal"]


def test_errors_name_the_table_and_record_line() -> None:
    with pytest.raises(IngestError) as caught:
        load_records({"agents": AGENTS, "messages": [
            {"agent_id": "a1", "buyer_id": "b", "sender": "buyer", "sent_at": "2024-06-01 10:00"},
            {"agent_id": "zz", "buyer_id": "b", "sender": "buyer", "sent_at": "2024-06-01 10:00"},
        ]})
    [error] = caught.value.errors
    assert (error.file, error.line, error.column) == ("<messages>", 3, "agent_id")
    assert str(error) == "<messages>:3: column 'agent_id': agent_id not in agents (value 'zz')"


def test_skip_bad_records() -> None:
    result = load_records({"agents": AGENTS, "messages": [
        {"agent_id": "a1", "buyer_id": "b", "sender": "?", "sent_at": "2024-06-01 10:00"},
        {"agent_id": "a1", "buyer_id": "b", "sender": "bot", "sent_at": "2024-06-01 10:00"},
    ]}, skip_bad_rows=True)
    assert [(e.line, e.column) for e in result.skipped] == [(2, "sender")]
    assert result.dataset.messages.column("ordinal").to_pylist() == [1]


def test_required_tables_and_names() -> None:
    with pytest.raises(IngestError, match="no messages"):
        load_records({"agents": AGENTS})
    with pytest.raises(IngestError, match="unknown table"):
        load_records({"agents": AGENTS, "messages": [], "chats": []})
    with pytest.raises(IngestError, match="time zone"):
        load_records({"agents": AGENTS, "messages": []}, tz="Mars/Base")


def test_platform_wording_of_senders_is_understood() -> None:
    from kefu.ingest import load_records

    agents = [{"agent_id": "a", "role": "售前"}]
    words = {"消费者": "buyer", "用户": "buyer", "人工客服": "agent", "店小蜜": "bot",
             "自动回复": "bot", "系统消息": "system"}
    messages = [{"agent_id": "a", "buyer_id": "u", "sender": w, "sent_at": "2024-06-01 10:00"}
                for w in words]
    loaded = load_records({"agents": agents, "messages": messages}).dataset
    assert loaded.messages.column("sender").to_pylist() == list(words.values())
