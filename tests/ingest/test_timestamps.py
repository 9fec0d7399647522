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


def test_local_time_takes_one_offset_only_where_the_zone_has_one() -> None:
    import datetime as _dt

    import pyarrow as _pa

    from kefu.ingest import convert

    def utc(*stamps: str) -> _pa.ChunkedArray:
        return _pa.chunked_array([_pa.array([_dt.datetime.fromisoformat(s) for s in stamps],
                                            _pa.timestamp("us"))])

    june = utc("2024-06-01 00:00", "2024-06-30 23:59")
    assert convert.fixed_offset_us(june, "Asia/Shanghai") == 8 * 3600 * 1_000_000
    assert convert.fixed_offset_us(june, "Europe/Berlin") == 2 * 3600 * 1_000_000
    # Berlin moves its clocks on 2024-03-31 01:00 UTC: no single offset, value by value
    spring = utc("2024-03-31 00:59", "2024-03-31 01:00", "2024-03-31 01:30")
    assert convert.fixed_offset_us(spring, "Europe/Berlin") is None
    assert [v.isoformat(" ") for v in convert.local_time(spring, "Europe/Berlin").to_pylist()] \
        == ["2024-03-31 01:59:00", "2024-03-31 03:00:00", "2024-03-31 03:30:00"]
    assert [v.isoformat(" ") for v in convert.local_time(june, "Asia/Shanghai").to_pylist()] \
        == ["2024-06-01 08:00:00", "2024-07-01 07:59:00"]
