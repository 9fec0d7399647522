"""Reception filters against gaming: each filter, its effect on the numbers, and its report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pv
from typer.testing import CliRunner

from kefu.cli import app
from kefu.metrics import MetricParams
from kefu.metrics.filters import apply_filters
from tests.metrics.conftest import dataset, msg, run

A, B = "s1:amy", "s1:bob"
AGENTS = [
    {"agent_id": A, "name": "Amy", "shop_id": "s1", "team": "t", "role": "presale"},
    {"agent_id": B, "name": "小白", "shop_id": "s1", "team": "t", "role": "presale"},
]


def _shop() -> Any:
    rows = [
        msg(A, "u1", "buyer", "2024-06-01 10:00:00", content="这个有货吗"),  # kept
        msg(A, "u1", "buyer", "2024-06-01 10:00:05", content="急"),
        msg(A, "u1", "agent", "2024-06-01 10:00:20", content="有的亲"),
        msg(A, "own1", "buyer", "2024-06-01 10:00:00", content="有货吗"),  # own account
        msg(A, "小白", "buyer", "2024-06-01 10:00:00", content="刷一下"),  # Bob's name
        msg(A, "u2", "buyer", "2024-06-01 11:00:00", content="在吗"),
        msg(A, "u2", "buyer", "2024-06-01 11:00:01", content="测试暗语"),  # secret phrase
        msg(A, "u3", "buyer", "2024-06-01 12:00:00", content=""),  # empty chat
        msg(A, "u3", "buyer", "2024-06-01 12:00:01", content="  "),
        msg(A, "u3", "agent", "2024-06-01 12:00:09", content="您好"),
        msg(A, "u4", "buyer", "2024-06-01 13:00:00", content="你好"),  # one message only
        # the same buyer the next day, 02:59: with a 03:00 cut still 06-01's buyer-day
        msg(A, "u4", "buyer", "2024-06-02 02:59:00", content="在吗"),
    ]
    orders = [
        {"order_id": "o1", "shop_id": "s1", "buyer_id": "u1", "created_at": "2024-06-01 15:00",
         "paid_at": "2024-06-01 15:00", "amount": 100, "status": "已付款"},
        {"order_id": "o2", "shop_id": "s1", "buyer_id": "u1", "created_at": "2024-06-01 16:00",
         "paid_at": "2024-06-01 16:00", "amount": 300, "status": "补单-已付款"},
    ]
    return dataset(rows, agents=AGENTS, orders=orders)


def _reasons(params: dict[str, Any]) -> list[tuple[str, str, str]]:
    _, report = apply_filters(_shop(), MetricParams(**params))
    rows = report.to_pylist()
    return [(r["buyer_id"], r["reason"], r["order_id"] or r["content"]) for r in rows]


def test_no_filter_by_default() -> None:
    ds = _shop()
    same, report = apply_filters(ds, MetricParams())
    assert same is ds and report.num_rows == 0
    # u1 own1 小白 u2 u3 u4 (u4 at 02:59 is 06-02's buyer-day with the midnight cut)
    assert run(ds).agents[A]["received"] == 6


def test_each_filter_lists_what_it_removed_and_why() -> None:
    assert _reasons({"filter_buyers": "own1, own9"}) == [
        ("own1", "own account (filter_buyers)", "有货吗")]
    assert _reasons({"filter_self_chat": True}) == [
        ("小白", "self-chat: the buyer is an agent account", "刷一下")]
    assert _reasons({"secret_phrases": "测试暗语，别的"}) == [
        ("u2", "暗语 test phrase: 测试暗语", "在吗"),
        ("u2", "暗语 test phrase: 测试暗语", "测试暗语"),
    ]
    assert _reasons({"filter_empty_chats": True}) == [
        ("u3", "empty chat", ""), ("u3", "empty chat", "  "), ("u3", "empty chat", "您好")]
    assert _reasons({"filter_order_status": "补单"}) == [
        ("u1", "order status contains 补单", "o2")]


def test_fewer_than_n_buyer_messages_counts_the_business_day() -> None:
    few = {b for b, _, _ in _reasons({"min_buyer_messages": 2})}
    assert few == {"own1", "小白", "u4"}  # u4: one message on 06-01, one on 06-02
    with_cut = {b for b, _, _ in _reasons({"min_buyer_messages": 2, "day_cutoff": "03:00"})}
    assert with_cut == {"own1", "小白"}  # 02:59 on 06-02 belongs to 06-01: two messages


def test_filtered_rows_leave_every_number() -> None:
    ds = _shop()
    everything = {"filter_buyers": "own1", "filter_self_chat": True, "secret_phrases": "测试暗语",
                  "filter_empty_chats": True, "filter_order_status": "补单"}
    amy = run(ds, "2024-06-01", "2024-06-02", **everything).agents[A]
    # own1, 小白, u2 (暗语) and u3 (empty) are gone: u1 (06-01) and u4 (06-01, 06-02) stay
    assert amy["received"] == 3 and amy["inquiries"] == 3
    assert amy["unanswered_turns"] == 2  # u4's two turns; u3's is gone with its chat
    assert amy["sales_amount"] == 100  # o2 (补单) is gone


def test_kefu_evidence_filtered_prints_the_rows_of_the_period(tmp_path: Path) -> None:
    folder = tmp_path / "shop"
    folder.mkdir()
    ds = _shop()
    for name in ("agents", "messages", "orders"):
        table = ds.table(name)
        assert table is not None
        # the export as the shop wrote it: wall-clock times
        columns = {c: table.column(c.removesuffix("_at") + "_local" if c.endswith("_at") else c)
                   for c in table.column_names if not c.endswith("_local") and c != "ordinal"}
        pv.write_csv(pa.table(columns), folder / f"{name}.csv")
    args = ["evidence", "--data", str(folder), "--start", "2024-06-01", "--end", "2024-06-01",
            "--filtered", "--min-buyer-messages", "2", "--filter-order-status", "补单",
            "--no-qa"]
    out = CliRunner().invoke(app, args)
    assert out.exit_code == 0, out.output
    lines = out.stdout.strip().splitlines()
    assert lines[0] == "table,reason,day,shop_id,agent_id,buyer_id,sender,at,content,order_id"
    assert sorted(line.split(",")[5] for line in lines[1:]) == ["own1", "u1", "u4", "小白"]
    assert any(",o2" in line and "补单" in line for line in lines)
    # the u4 message of 06-02 is outside the period asked for
    assert not any("2024-06-02" in line for line in lines)
    none = CliRunner().invoke(app, args[:8] + ["--no-qa"])
    assert none.stdout.strip() == lines[0]  # no filter: nothing removed
