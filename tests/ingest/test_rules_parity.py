"""One set of typing rules, two engines: the same good and bad files give the same typed
rows and the same errors on DuckDB (load_dir: kefu.ingest.rules compiled to SQL) and on
Spark in local mode (load_spark: the same rules compiled to Spark expressions), and
both give the values and errors written here by hand (which are also what the earlier
Arrow implementation gave; see docs/data.md for the one documented change, clock-change
gaps).
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from kefu.ingest import IngestError, MappingProfile, load_dir
from kefu.ingest.rules import WHITESPACE, fixed_offset_us

UTC = dt.UTC
PROFILE = MappingProfile.model_validate(
    {"tables": {"messages": {"values": {"sender": {"我": "agent", "对方": "buyer"}}},
                "ratings": {"values": {"score": {"好评": 5}}}}})


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def write_shop(folder: Path) -> Path:
    """Parquet exports with text columns (as spreadsheets write them) and native types."""
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table({
        "客服": ["\u3000s:a ", "s:b", "s:c"], "店铺": ["s", "s", "s"],
        "岗位": ["售前", "aftersale", "经理"], "姓名": [None, "Bob", "Cat"],
    }), folder / "agents.parquet")
    sent = [
        ("s:a", "u1", "buyer", "2024-06-01 09:30:00", " 在吗 ", "否"),
        ("s:a", "u1", "我", "2024/6/1 9:31", "", "是"),
        ("s:a", "\tu1", "对方", "2024年6月1日 9:32:05.5", None, None),
        ("s:a", "u2", "BOT", "2024-06-01T01:33:00Z", "x", "TRUE"),
        ("s:a", "u2", "客服", "2024-06-01 09:34:00+0800", "y", "0"),
        ("s:b", "u3", "buyer", "1717205700000", "z", ""),
        ("s:b", "u3", "agent", "45444.5", "", "no"),
        ("s:b", "u3", "buyer", "2024-06-01", "bad: date only", ""),
        ("s:b", "u3", "buyer", "2024-02-30 10:00", "bad: no such day", ""),
        ("s:b", "u3", "buyer", "1999-12-31 23:00:00", "bad: year", ""),
        ("s:b", "", "外星人", "2024-06-01 10:00", "bad: buyer and sender", "maybe"),
        ("s:zz", "u4", "buyer", "2024-06-01 10:00", "bad: unknown agent", ""),
        ("s:c", "u5", "buyer", "2024-06-01 10:00", "bad: agent row was bad", ""),
    ]
    pq.write_table(pa.table({
        "agent_id": [r[0] for r in sent], "buyer_id": [r[1] for r in sent],
        "sender": [r[2] for r in sent], "sent_at": [r[3] for r in sent],
        "content": [r[4] for r in sent], "auto_reply": [r[5] for r in sent],
    }), folder / "messages.parquet")
    pq.write_table(pa.table({
        "order_id": ["o1", "o2", "o3", "o4", "o5", "o6", "o1", "o1", "o7"],
        "buyer_id": ["u1"] * 9,
        "created_at": ["2024-06-01 12:00"] * 9,
        "paid_at": ["2024-06-01 12:05", "", None, "2024-06-01 12:05", "2024-06-01 12:05",
                    "2024-06-01 12:05", "2024-06-01 12:05", "2024-06-01 12:05", "12:05"],
        "amount": ["¥1,299.00", "299,00", "1e309", "-5", "", "abc", "¥1,299.00", "1", "5"],
    }), folder / "orders.parquet")
    pq.write_table(pa.table({
        "agent_id": ["s:a", "s:a", "s:b", "s:b"],
        "rated_at": pa.array([dt.datetime(2024, 6, 1, 20, 0), dt.datetime(2024, 6, 2, 8, 0),
                              dt.datetime(2024, 6, 2, 9, 0), dt.datetime(2024, 6, 2, 10, 0)],
                             pa.timestamp("ms")),
        "score": pa.array([5.0, 4.5, float("nan"), 1.0]),
        "comment": [None, "ok", "", " 好 "],
    }), folder / "ratings.parquet")
    pq.write_table(pa.table({
        "case_id": [123.0, 124.0, 125.0],
        "agent_id": ["s:b", "s:b", "s:b"],
        "kind": ["退款", "return", "投诉"],
        "opened_at": pa.array([dt.datetime(2024, 6, 1, 2, 0, tzinfo=UTC)] * 3,
                              pa.timestamp("us", "UTC")),
        "closed_at": ["2024-06-01 11:00", "2024-06-02 10:00", ""],
        "platform_intervened": [True, False, None],
        "outcome": ["已解决", None, "withdrawn"],
    }), folder / "cases.parquet")
    pq.write_table(pa.table({
        "agent_id": ["s:a", "s:b"],
        "started_at": ["2024-06-01 09:00", "2024-06-01 18:00"],
        "ended_at": ["2024-06-01 18:00", "2024-06-01 09:00"],
        "status": ["忙碌", None],
    }), folder / "sessions.parquet")
    return folder


# (file, line, column, reason) of every bad cell, written by hand
ERRORS = [
    ("agents.parquet", 3, "role", "unknown role; expected one of presale, aftersale, both"),
    ("messages.parquet", 8, "sent_at",
     "a date without a time of day (a timestamp needs at least HH:MM)"),
    ("messages.parquet", 9, "sent_at",
     "not a valid timestamp (expected YYYY-MM-DD HH:MM[:SS][.fff][+08:00])"),
    ("messages.parquet", 10, "sent_at", "timestamp out of range (years 2000–2099)"),
    ("messages.parquet", 11, "auto_reply", "not a boolean (true/false, 1/0, yes/no, 是/否)"),
    ("messages.parquet", 11, "buyer_id", "required value is empty"),
    ("messages.parquet", 11, "sender",
     "unknown sender; expected one of buyer, agent, bot, system"),
    ("messages.parquet", 12, "agent_id", "agent_id not in agents"),
    ("messages.parquet", 13, "agent_id", "agent_id not in agents"),
    ("orders.parquet", 2, "amount",
     "a decimal comma? kefu reads ',' only as a thousands separator between groups of three "
     "digits; write the amount with a decimal point (299.00)"),
    ("orders.parquet", 3, "amount", "amount out of range (above 1,000,000,000 or infinite)"),
    ("orders.parquet", 4, "amount", "negative amount"),
    ("orders.parquet", 6, "amount", "not an amount"),
    ("orders.parquet", 8, "order_id", "duplicate order_id with different content (first on "
                                      "row 1)"),
    ("orders.parquet", 9, "paid_at",
     "not a valid timestamp (expected YYYY-MM-DD HH:MM[:SS][.fff][+08:00])"),
    ("ratings.parquet", 2, "score", "score must be 1..5"),
    ("ratings.parquet", 3, "score", "required value is empty"),
    ("sessions.parquet", 2, "ended_at", "ended_at before started_at"),
]

SHANGHAI_MESSAGES = [
    # agent, buyer, sender, sent_at (UTC), content, auto_reply
    ("s:a", "u1", "buyer", utc("2024-06-01 01:30:00"), " 在吗 ", False),
    ("s:a", "u1", "agent", utc("2024-06-01 01:31:00"), "", True),
    ("s:a", "u1", "buyer", utc("2024-06-01 01:32:05.500000"), "", False),
    ("s:a", "u2", "bot", utc("2024-06-01 01:33:00"), "x", True),
    ("s:a", "u2", "agent", utc("2024-06-01 01:34:00"), "y", False),
    ("s:b", "u3", "buyer", utc("2024-06-01 01:35:00"), "z", False),
    ("s:b", "u3", "agent", utc("2024-06-01 04:00:00"), "", False),
]


def duckdb_side(folder: Path, tz: str) -> tuple[dict[str, list[dict[str, Any]]], list[tuple]]:
    with pytest.raises(IngestError) as refused:
        load_dir(folder, tz=tz, profile=PROFILE)
    errors = [(e.file, e.line, e.column, e.reason, e.value) for e in refused.value.errors]
    dataset = load_dir(folder, tz=tz, profile=PROFILE, skip_bad_rows=True).dataset
    tables = {}
    for name in ("agents", "messages", "orders", "ratings", "cases", "sessions"):
        table = dataset.table(name)
        assert table is not None
        keep = [c for c in table.column_names if not c.endswith("_local") and c != "ordinal"]
        tables[name] = table.select(keep).to_pylist()
    return tables, errors


def test_duckdb_gives_the_hand_written_rows_and_errors(tmp_path: Path) -> None:
    tables, errors = duckdb_side(write_shop(tmp_path / "shop"), "Asia/Shanghai")
    assert [e[:4] for e in errors] == ERRORS
    values = {e[:3]: e[4] for e in errors}
    assert values[("orders.parquet", 2, "amount")] == "299,00"
    assert values[("messages.parquet", 11, "buyer_id")] == ""
    assert values[("ratings.parquet", 2, "score")] == "4.5"
    assert [(m["agent_id"], m["buyer_id"], m["sender"], m["sent_at"], m["content"],
             m["auto_reply"]) for m in tables["messages"]] == SHANGHAI_MESSAGES
    assert [(a["agent_id"], a["name"], a["role"], a["team"]) for a in tables["agents"]] == [
        ("s:a", "s:a", "presale", ""), ("s:b", "Bob", "aftersale", "")]
    assert [(o["order_id"], o["paid_at"], o["amount"], o["shop_id"])
            for o in tables["orders"]] == [
        ("o1", utc("2024-06-01 04:05"), 1299.0, "s"), ("o5", utc("2024-06-01 04:05"), 0.0, "s")]
    assert [(r["rated_at"], r["score"], r["comment"]) for r in tables["ratings"]] == [
        (utc("2024-06-01 12:00"), 5, ""), (utc("2024-06-02 02:00"), 1, " 好 ")]
    assert [(c["case_id"], c["kind"], c["opened_at"], c["closed_at"], c["platform_intervened"],
             c["outcome"]) for c in tables["cases"]] == [
        ("123", "refund", utc("2024-06-01 02:00"), utc("2024-06-01 03:00"), True, "resolved"),
        ("124", "return", utc("2024-06-01 02:00"), utc("2024-06-02 02:00"), False, None),
        ("125", "complaint", utc("2024-06-01 02:00"), None, False, "withdrawn")]
    assert [(s["agent_id"], s["status"]) for s in tables["sessions"]] == [("s:a", "busy")]


def test_csv_exports_give_the_same_as_parquet(tmp_path: Path) -> None:
    """Readers differ (Arrow columns from CSV, Parquet read as it is); the typing is one."""
    parquet = write_shop(tmp_path / "parquet")
    csv = tmp_path / "csv"
    csv.mkdir()
    for file in parquet.glob("*.parquet"):
        table = pq.read_table(file)
        if file.stem in ("agents", "messages", "orders", "sessions"):  # text only
            pacsv.write_csv(table, csv / f"{file.stem}.csv")
        else:
            shutil.copy(file, csv / file.name)
    from_parquet, parquet_errors = duckdb_side(parquet, "Asia/Shanghai")
    from_csv, csv_errors = duckdb_side(csv, "Asia/Shanghai")
    assert from_csv == from_parquet

    def as_parquet(error: tuple) -> tuple:
        # CSV lines count the header (line 1); Parquet rows do not
        file, line, column, reason, value = error
        if file.endswith(".csv"):
            file, line = file.replace(".csv", ".parquet"), line - 1
            reason = reason.replace("first on line 2", "first on row 1")
        return file, line, column, reason, value

    assert [as_parquet(e) for e in csv_errors] == parquet_errors


def test_clock_changes_in_a_zone_with_summer_time(tmp_path: Path) -> None:
    folder = write_shop(tmp_path / "shop")
    pq.write_table(pa.table({
        "agent_id": ["s:a"] * 4, "buyer_id": ["u"] * 4, "sender": ["buyer"] * 4,
        "sent_at": ["2024-03-10 01:59:59", "2024-03-10 02:30", "2024-11-03 01:30",
                    "2024-11-03 02:30"],
    }), folder / "messages.parquet")
    tables, _ = duckdb_side(folder, "America/New_York")
    assert [m["sent_at"] for m in tables["messages"]] == [
        utc("2024-03-10 06:59:59"),
        utc("2024-03-10 07:30"),  # skipped by the change: read with the offset before it
        utc("2024-11-03 05:30"),  # repeated by the change: the earlier instant
        utc("2024-11-03 07:30"),
    ]


def test_whitespace_is_what_arrow_and_python_trim() -> None:
    """The trim pattern (RE2 and Java syntax) names exactly Python's white space, which is
    also what Arrow's utf8_trim_whitespace strips (the embedded engine trims with it)."""
    import re

    import pyarrow.compute as pc

    python_syntax = re.sub(r"\\x\{([0-9A-Fa-f]+)\}", lambda m: f"\\u{int(m.group(1), 16):04x}",
                           WHITESPACE)
    pattern = re.compile(python_syntax)
    chars = [chr(c) for c in range(0x3100)]
    spaces = [c for c in chars if c.isspace()]
    assert [c for c in chars if pattern.fullmatch(c)] == spaces
    stripped = pc.utf8_trim_whitespace(pa.array([f"{c}a{c}" for c in chars])).to_pylist()
    assert [c for c, s in zip(chars, stripped, strict=True) if s == "a"] == spaces


@pytest.mark.parametrize("tz", ["Europe/Berlin", "America/New_York", "Africa/Casablanca",
                                "Australia/Lord_Howe", "Asia/Tehran"])
def test_zone_offsets_of_the_sql_path_are_the_zone_database(tz: str) -> None:
    """DuckDB reads clock changes from lists made of Python's zone database: every instant
    of 1999–2100, also the seconds around each change, has the database's offset."""
    import random
    from zoneinfo import ZoneInfo

    from kefu.ingest.rules_sql import connection, zone_changes, zone_offset_sql

    rng = random.Random(7)
    seconds = [rng.randrange(915_148_800, 4_133_980_800) for _ in range(3000)]
    seconds += [at // 1_000_000 + d for _, changes in zone_changes(tz)[20:30]
                for at, _ in changes for d in (-1, 0, 1)]
    instants = [dt.datetime(1970, 1, 1) + dt.timedelta(seconds=s) for s in seconds]
    table = pa.table({"instant": pa.array(instants, pa.timestamp("us"))})
    con = connection()
    con.register("zone_instants", table)
    try:
        got = [r[0] for r in con.execute(
            f"SELECT {zone_offset_sql('instant', tz)} FROM zone_instants").fetchall()]
    finally:
        con.unregister("zone_instants")
    zone = ZoneInfo(tz)
    expected = [dt.datetime.fromtimestamp(s, UTC).astimezone(zone).utcoffset()
                // dt.timedelta(microseconds=1) for s in seconds]
    assert got == expected


def test_one_offset_is_found_only_for_zones_that_keep_one() -> None:
    assert fixed_offset_us("Asia/Shanghai") == 8 * 3600 * 1_000_000
    assert fixed_offset_us("UTC") == 0
    assert fixed_offset_us("Europe/Berlin") is None


# --- Spark ------------------------------------------------------------------------------

spark_needed = pytest.mark.skipif(
    importlib.util.find_spec("pyspark") is None or shutil.which("java") is None,
    reason="the Spark side needs pyspark (pip install 'kefu[spark]') and a Java runtime",
)


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    from kefu.metrics.spark import connect_spark

    yield connect_spark("local[1]")._session


def spark_side(spark: Any, folder: Path, tz: str
               ) -> tuple[dict[str, list[dict[str, Any]]], list[tuple]]:
    from pyspark.sql import functions as F

    from kefu.ingest.spark_reader import load_spark

    with pytest.raises(IngestError) as refused:
        load_spark(spark, folder, tz, profile=PROFILE)
    errors = [(e.file, e.line, e.column, e.reason, e.value) for e in refused.value.errors]
    shop = load_spark(spark, folder, tz, skip_bad_rows=True, profile=PROFILE)
    tables = {}
    for name, frame in shop.frames.items():
        stamps = [n for n, kind in frame.dtypes if kind == "timestamp"]
        # instants as microseconds: collect() would read them in the driver's zone
        rows = frame.orderBy("ordinal").select(
            *[F.unix_micros(n).alias(n) if n in stamps else F.col(n)
              for n in frame.columns if n != "ordinal"]).collect()
        tables[name] = [{k: (dt.datetime(1970, 1, 1) + dt.timedelta(microseconds=v)
                             if k in stamps and v is not None else v)
                         for k, v in row.asDict().items()} for row in rows]
    return tables, errors


@spark_needed
@pytest.mark.parametrize("tz", ["Asia/Shanghai", "America/New_York"])
def test_spark_types_and_refuses_exactly_as_duckdb(spark: Any, tmp_path: Path, tz: str) -> None:
    folder = write_shop(tmp_path / "shop")
    on_duckdb, duckdb_errors = duckdb_side(folder, tz)
    on_spark, spark_errors = spark_side(spark, folder, tz)
    assert sorted(spark_errors) == sorted(duckdb_errors)
    for name, rows in on_duckdb.items():
        assert on_spark[name] == rows, name
    if tz == "Asia/Shanghai":
        assert [e[:4] for e in duckdb_errors] == ERRORS
        assert [(m["agent_id"], m["buyer_id"], m["sender"], m["sent_at"], m["content"],
                 m["auto_reply"]) for m in on_spark["messages"]] == SHANGHAI_MESSAGES
