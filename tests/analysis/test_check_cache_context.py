"""The check cache stores per-text verdicts; the conversation rule runs on every read."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa

from kefu.analysis.check_cache import cached_flags
from kefu.metrics.quality import message_flags
from kefu.qa import load_lexicons


def _messages() -> pa.Table:
    t0 = dt.datetime(2024, 6, 1, 10, 0)
    rows = [
        # conversation c1: an angry buyer, a bot line, then the agent's goodbye (a brush-off)
        ("c1", "buyer", False, "太差了，我要投诉", 0),
        ("c1", "bot", False, "您好，机器人为您服务", 1),
        ("c1", "agent", False, "好的亲，祝您生活愉快，再见", 2),
        # conversation c2: the same goodbye after a calm buyer (fine), then an auto-reply
        ("c2", "buyer", False, "好的谢谢", 3),
        ("c2", "agent", False, "好的亲，祝您生活愉快，再见", 4),
        ("c2", "agent", True, "再见", 5),
    ]
    return pa.table({
        "conversation_id": [r[0] for r in rows],
        "shop_id": ["s1"] * len(rows),
        "buyer_id": [r[0] for r in rows],
        "sender": [r[1] for r in rows],
        "auto_reply": [r[2] for r in rows],
        "content": [r[3] for r in rows],
        "sent_at": [t0 + dt.timedelta(seconds=10 * r[4]) for r in rows],
        "ordinal": [r[4] for r in rows],
    })


def test_goodbye_on_a_complaint_with_and_without_the_cache(tmp_path: Path) -> None:
    messages = _messages()
    expected = [False, False, True, False, False, False]
    direct = message_flags(messages)
    assert direct.column("qa_brush_off").to_pylist() == expected
    assert direct.column("qa_forbidden").to_pylist() == expected
    store = tmp_path / "checks.parquet"
    for _ in range(2):  # the second read comes from the stored verdicts
        cached = cached_flags(messages, load_lexicons(), store)
        assert cached.column("qa_brush_off").to_pylist() == expected
        assert cached.column("qa_chat_negative").to_pylist() == [
            True, False, True, False, False, False
        ]
    assert store.exists()
