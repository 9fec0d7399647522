"""Pseudonymous buyers and masked text in a workspace (data.md: personal data)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow.parquet as pq

from kefu.metrics import MetricParams, compute
from kefu.store import Privacy, Workspace
from kefu.store.privacy import KEY_FILE, PSEUDONYM_PREFIX

AGENTS = "agent_id,name,shop_id,team,role\n店:小美,小美,店,售前组,presale\n"
MESSAGES = (
    "agent_id,buyer_id,sender,sent_at,content\n"
    "店:小美,tb_张三,buyer,2024-06-01 10:00:00,我的电话是13812345678，地址北京市朝阳区建国路88号\n"
    "店:小美,tb_张三,agent,2024-06-01 10:00:30,亲，收到\n"
)
ORDERS = (
    "order_id,buyer_id,created_at,paid_at,amount\n"
    "o1,tb_张三,2024-06-01 11:00:00,2024-06-01 11:00:05,99\n"
)


def test_pseudonyms_are_consistent_across_tables_and_hide_the_nickname(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    for name, text in (("agents", AGENTS), ("messages", MESSAGES), ("orders", ORDERS)):
        (src / f"{name}.csv").write_text(text, encoding="utf-8")
    ws = Workspace(tmp_path / "ws")
    ws.import_files(sorted(src.glob("*.csv")),
                    privacy=Privacy(pseudonymise_buyers=True, mask_text=True))
    key_file = tmp_path / "ws" / KEY_FILE
    assert key_file.exists() and oct(key_file.stat().st_mode & 0o777) == "0o600"

    stored = pq.read_table(next((tmp_path / "ws" / "messages").glob("*.parquet")))
    buyers = set(stored.column("buyer_id").to_pylist())
    assert len(buyers) == 1
    (pseudonym,) = buyers
    assert pseudonym.startswith(PSEUDONYM_PREFIX) and "张三" not in pseudonym
    order_buyer = pq.read_table(next((tmp_path / "ws" / "orders").glob("*.parquet")))
    assert order_buyer.column("buyer_id").to_pylist() == [pseudonym]

    text = stored.column("content").to_pylist()[0]
    assert "13812345678" not in text and "138" in text  # 138****5678 style
    assert "建国路88号" not in text
    assert len(text) == len("我的电话是13812345678，地址北京市朝阳区建国路88号")

    # chats still meet orders: the inquiry converts under the pseudonym
    result = compute(ws.load().dataset, dt.date(2024, 6, 1), dt.date(2024, 6, 1),
                     MetricParams(), qa=False)
    assert result.agents["店:小美"]["converted"] == 1
    assert result.agents["店:小美"]["sales_amount"] == 99


def test_without_the_options_nothing_changes(tmp_path: Path) -> None:
    (tmp_path / "agents.csv").write_text(AGENTS, encoding="utf-8")
    (tmp_path / "messages.csv").write_text(MESSAGES, encoding="utf-8")
    ws = Workspace(tmp_path / "ws")
    ws.import_files([tmp_path / "agents.csv", tmp_path / "messages.csv"])
    stored = pq.read_table(next((tmp_path / "ws" / "messages").glob("*.parquet")))
    assert stored.column("buyer_id").to_pylist() == ["tb_张三", "tb_张三"]
    assert not (tmp_path / "ws" / KEY_FILE).exists()
