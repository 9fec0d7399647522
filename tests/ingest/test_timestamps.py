"""Timestamps: naive = shop time, offsets converted; loose Chinese formats; UTC and local."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from kefu.ingest import load_dir, load_records

from .helpers import MESSAGES_HEADER, only_error, rows, shop, where

AGENT = [{"agent_id": "a", "role": "presale", "shop_id": "s"}]


def sent(value: object, tz: str = "Asia/Shanghai") -> tuple[object, object]:
    result = load_records({"agents": AGENT, "messages": [
        {"agent_id": "a", "buyer_id": "b", "sender": "buyer", "sent_at": value}]}, tz=tz)
    return rows(result, "messages", "sent_at", "sent_local")[0]


SAME_INSTANT = (dt.datetime(2024, 6, 1, 1, 30), dt.datetime(2024, 6, 1, 9, 30))


@pytest.mark.parametrize("value", [
    "2024-06-01 09:30:00",
    "2024-06-01T09:30:00",
    "2024-06-01 09:30:00+08:00",
    "2024-06-01T09:30:00+0800",
    "2024-06-01T01:30:00Z",
    "2024-06-01 01:30:00z",
    "2024/06/01 09:30:00",
    "2024/6/1 9:30",
    "2024-06-01 09:30",
    "  2024-06-01 09:30:00 ",
    "2024-05-31T21:30:00-04:00",
    dt.datetime(2024, 6, 1, 9, 30),
    dt.datetime(2024, 6, 1, 1, 30, tzinfo=dt.UTC),
])
def test_same_instant_and_local_day(value: object) -> None:
    assert sent(value) == SAME_INSTANT


def test_fractional_seconds() -> None:
    assert sent("2024-06-01 09:30:00.250")[1] == dt.datetime(2024, 6, 1, 9, 30, 0, 250000)
    assert sent("2024/6/1 9:30:00.5+08:00")[0] == dt.datetime(2024, 6, 1, 1, 30, 0, 500000)


def test_offset_changes_the_local_day() -> None:
    # 23:30 in New York is the next morning in Shanghai.
    assert sent("2024-06-01T23:30:00-04:00")[1] == dt.datetime(2024, 6, 2, 11, 30)


def test_other_time_zone() -> None:
    assert sent("2024-06-01 09:30:00", tz="UTC") == (dt.datetime(2024, 6, 1, 9, 30),) * 2


def test_invalid_date_is_a_row_error(tmp_path: Path) -> None:
    shop(tmp_path, MESSAGES_HEADER + "旗舰店:小美,b1,buyer,2024/2/30 10:00,x\n")
    error = only_error(tmp_path)
    assert where(error) == ("messages.csv", 2, "sent_at")
    assert error.value == "2024/2/30 10:00"


def test_mixed_naive_and_zoned_in_one_file(tmp_path: Path) -> None:
    shop(tmp_path, MESSAGES_HEADER
         + "旗舰店:小美,b1,buyer,2024-06-01 09:30:00,a\n"
         + "旗舰店:小美,b1,agent,2024-06-01T01:31:00Z,b\n"
         + "旗舰店:小美,b1,buyer,2024/6/1 9:32,c\n")
    assert [r[0] for r in rows(load_dir(tmp_path), "messages", "sent_local")] == [
        dt.datetime(2024, 6, 1, 9, 30), dt.datetime(2024, 6, 1, 9, 31),
        dt.datetime(2024, 6, 1, 9, 32),
    ]
