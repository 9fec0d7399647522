"""Readers: encodings, physical line numbers, XLSX, Parquet, JSON Lines."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from kefu.ingest import IngestError, load_dir

from .helpers import AGENTS_CSV, MESSAGES_HEADER, only_error, rows, where, write

CHINESE = MESSAGES_HEADER + "旗舰店:小美,顾客甲,买家,2024-06-01 10:00:00,在吗？发货了吗\n"


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8-sig", "utf-8"])
def test_csv_encodings(tmp_path: Path, encoding: str) -> None:
    write(tmp_path, "agents.csv", AGENTS_CSV, encoding)
    write(tmp_path, "messages.csv", CHINESE, encoding)
    result = load_dir(tmp_path)
    assert rows(result, "messages", "agent_id", "buyer_id", "content") == [
        ("旗舰店:小美", "顾客甲", "在吗？发货了吗")
    ]
    assert result.dataset.agents.column_names[0] == "agent_id"  # BOM stripped from the header


def test_gb18030_only_characters(tmp_path: Path) -> None:
    # 𠀀 is outside GBK: only GB18030 encodes it.
    write(tmp_path, "agents.csv", AGENTS_CSV, "gb18030")
    write(tmp_path, "messages.csv", CHINESE.replace("在吗", "𠀀在吗"), "gb18030")
    assert rows(load_dir(tmp_path), "messages", "content") == [("𠀀在吗？发货了吗",)]


def test_quoted_newlines_keep_physical_line_numbers(tmp_path: Path) -> None:
    write(tmp_path, "agents.csv", AGENTS_CSV)
    write(tmp_path, "messages.csv", MESSAGES_HEADER
          + '旗舰店:小美,b1,buyer,2024-06-01 10:00:00,"第一行\n第二行\n第三行"\n'
          + "\n"
          + '旗舰店:小美,b1,agent,2024-06-01 10:00:05,"好的\r\n收到"\n'
          + "旗舰店:小美,b1,外星人,2024-06-01 10:00:09,x\n")
    error = only_error(tmp_path)
    assert where(error) == ("messages.csv", 8, "sender")
    result = load_dir(tmp_path, skip_bad_rows=True)
    assert rows(result, "messages", "content") == [("第一行\n第二行\n第三行",), ("好的\r\n收到",)]


def test_quoted_newlines_without_blank_lines(tmp_path: Path) -> None:
    write(tmp_path, "agents.csv", AGENTS_CSV)
    write(tmp_path, "messages.csv", MESSAGES_HEADER
          + '旗舰店:小美,b1,buyer,2024-06-01 10:00:00,"a\nb"\n'
          + '旗舰店:小美,b1,buyer,2024-06-01 10:00:01,"c"\n'
          + "旗舰店:小美,b1,buyer,bad,x\n")
    assert where(only_error(tmp_path)) == ("messages.csv", 5, "sent_at")


def test_xlsx_datetime_cells_numeric_ids_and_sheet_rows(tmp_path: Path) -> None:
    write(tmp_path, "agents.csv", AGENTS_CSV)
    write(tmp_path, "messages.csv", CHINESE)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "导出"
    sheet.append(["订单号", "买家", "下单时间", "付款时间", "实付金额"])
    sheet.append([123456789012, "b1", dt.datetime(2024, 6, 1, 10, 0, 5), None, 99.5])
    sheet.append([])  # blank sheet row: later rows keep their sheet row numbers
    sheet.append(["A-2", 42, "2024/6/1 9:05", "2024-06-01 09:06", 1])
    sheet.append(["A-3", "b3", dt.datetime(2024, 2, 1), "not a time", 1])
    book.save(tmp_path / "orders.xlsx")
    error = only_error(tmp_path)
    assert where(error) == ("orders.xlsx", 5, "paid_at")
    result = load_dir(tmp_path, skip_bad_rows=True)
    assert rows(result, "orders", "order_id", "buyer_id", "created_local", "paid_local",
                "amount") == [
        ("123456789012", "b1", dt.datetime(2024, 6, 1, 10, 0, 5), None, 99.5),
        ("A-2", "42", dt.datetime(2024, 6, 1, 9, 5), dt.datetime(2024, 6, 1, 9, 6), 1.0),
    ]
    # Excel datetimes are naive: they are shop time.
    assert rows(result, "orders", "created_at")[0] == (dt.datetime(2024, 6, 1, 2, 0, 5),)


def test_xlsx_prefers_the_sheet_named_after_the_table(tmp_path: Path) -> None:
    write(tmp_path, "messages.csv", CHINESE)
    book = openpyxl.Workbook()
    book.active.append(["说明"])
    named = book.create_sheet("agents")
    named.append(["子账号", "岗位"])
    named.append(["旗舰店:小美", "售前"])
    book.save(tmp_path / "agents.xlsx")
    assert rows(load_dir(tmp_path), "agents", "agent_id", "role", "name") == [
        ("旗舰店:小美", "presale", "旗舰店:小美")
    ]


def test_parquet_naive_and_zoned_timestamps(tmp_path: Path) -> None:
    write(tmp_path, "agents.csv", AGENTS_CSV)
    common = {"agent_id": ["旗舰店:小美"], "buyer_id": ["b1"], "sender": ["buyer"]}
    naive = pa.table({**common, "sent_at": pa.array([dt.datetime(2024, 6, 1, 8, 30)],
                                                    pa.timestamp("ms"))})
    zoned = pa.table({**common, "sent_at": pa.array(
        [dt.datetime(2024, 6, 1, 0, 30, tzinfo=ZoneInfo("UTC"))], pa.timestamp("ns", "UTC"))})
    pq.write_table(naive, tmp_path / "messages_a.parquet")
    pq.write_table(zoned, tmp_path / "messages_b.parquet")
    result = load_dir(tmp_path)
    # Same instant from both files: the multiset merge keeps one.
    assert rows(result, "messages", "sent_at", "sent_local") == [
        (dt.datetime(2024, 6, 1, 0, 30), dt.datetime(2024, 6, 1, 8, 30)),
    ]
    assert result.dataset.messages.schema.field("sent_at").type == pa.timestamp("us")


def test_parquet_errors_say_row(tmp_path: Path) -> None:
    write(tmp_path, "agents.csv", AGENTS_CSV)
    pq.write_table(pa.table({
        "agent_id": ["旗舰店:小美", "旗舰店:小美"], "buyer_id": [1, 2],
        "sender": ["buyer", "nobody"], "sent_at": ["2024-06-01 10:00", "2024-06-01 10:01"],
    }), tmp_path / "messages.parquet")
    error = only_error(tmp_path)
    assert where(error) == ("messages.parquet", 2, "sender")
    assert str(error).startswith("messages.parquet: row 2: column 'sender'")
    result = load_dir(tmp_path, skip_bad_rows=True)
    assert rows(result, "messages", "buyer_id") == [("1",)]


def test_jsonl_physical_lines_and_blank_lines(tmp_path: Path) -> None:
    write(tmp_path, "agents.jsonl",
          '{"agent_id": "旗舰店:小美", "role": "售前", "shop_id": "旗舰店"}\n')
    write(tmp_path, "messages.jsonl",
          '{"agent_id": "旗舰店:小美", "buyer_id": 7, "sender": "买家", '
          '"sent_at": "2024-06-01T10:00:00+08:00", "auto_reply": false}\n'
          "\n"
          '{"agent_id": "旗舰店:小美", "buyer_id": "b", "sender": "bot", "sent_at": "bad"}\n'
          "{not json\n")
    errors = [where(e) for e in load_errors_of(tmp_path)]
    assert errors == [("messages.jsonl", 3, "sent_at"), ("messages.jsonl", 4, "")]
    result = load_dir(tmp_path, skip_bad_rows=True)
    assert rows(result, "messages", "buyer_id", "sender", "sent_local") == [
        ("7", "buyer", dt.datetime(2024, 6, 1, 10, 0)),
    ]


def load_errors_of(folder: Path) -> list:  # type: ignore[type-arg]
    from .helpers import load_errors

    return load_errors(folder)


def test_several_files_per_table_and_subfolders(tmp_path: Path) -> None:
    write(tmp_path, "agents.csv", AGENTS_CSV)
    write(tmp_path, "messages_2024-05.csv", MESSAGES_HEADER
          + "旗舰店:小美,b1,buyer,2024-05-31 10:00:00,五月\n")
    write(tmp_path, "messages/june.csv", MESSAGES_HEADER
          + "旗舰店:小美,b1,buyer,2024-06-01 10:00:00,六月\n")
    write(tmp_path, "messagesX.csv", "ignored,header\n")
    write(tmp_path, "notes.txt", "ignored")
    result = load_dir(tmp_path)
    assert rows(result, "messages", "content", "ordinal") == [("六月", 0), ("五月", 1)]


def test_gbk_body_under_an_ascii_header(tmp_path: Path) -> None:
    write(tmp_path, "agents.csv", AGENTS_CSV)
    write(tmp_path, "messages.csv", CHINESE, "gbk")
    assert rows(load_dir(tmp_path), "messages", "buyer_id") == [("顾客甲",)]


def test_empty_and_repeated_header_names_are_ignored(tmp_path: Path) -> None:
    write(tmp_path, "agents.csv", AGENTS_CSV)
    write(tmp_path, "messages.csv", "agent_id,buyer_id,sender,sent_at,content,sender,,\n"
          "旗舰店:小美,b1,buyer,2024-06-01 10:00,在吗,agent,,\n")
    assert rows(load_dir(tmp_path), "messages", "sender", "content") == [("buyer", "在吗")]


def test_parquet_float_ids_and_nan_amounts(tmp_path: Path) -> None:
    write(tmp_path, "agents.csv", AGENTS_CSV)
    write(tmp_path, "messages.csv", CHINESE)
    pq.write_table(pa.table({
        "order_id": [123456789012.0, 2.0], "buyer_id": ["b1", "b2"],
        "created_at": ["2024-06-01 10:00", "2024-06-01 10:00"],
        "amount": [float("nan"), 12.5], "refund_amount": [None, -1.0],
    }), tmp_path / "orders.parquet")
    error = only_error(tmp_path)
    assert (where(error), error.reason) == (("orders.parquet", 2, "refund_amount"),
                                            "negative amount")
    result = load_dir(tmp_path, skip_bad_rows=True)
    assert rows(result, "orders", "order_id", "amount", "refund_amount") == [
        ("123456789012", 0.0, 0.0)]


@pytest.mark.parametrize("name", ["messages.xlsx", "messages.parquet"])
def test_unreadable_file_is_a_clear_error(tmp_path: Path, name: str) -> None:
    write(tmp_path, "agents.csv", AGENTS_CSV)
    write(tmp_path, name, "not really")
    with pytest.raises(IngestError, match=f"cannot read {name}"):
        load_dir(tmp_path)


def test_tab_separated_text_saved_as_csv(tmp_path: Path) -> None:
    write(tmp_path, "agents.csv", AGENTS_CSV)
    write(tmp_path, "messages.csv", "客服\t买家\t发送方\t发送时间\t内容\n"
          "旗舰店:小美\tb1\t买家\t2024-06-01 10:00\t你好，在吗\n"
          "旗舰店:小美\tb1\n")
    error = only_error(tmp_path)
    assert (error.file, error.line, error.reason) == ("messages.csv", 3,
                                                      "expected 5 columns, found 2")
    result = load_dir(tmp_path, skip_bad_rows=True)
    assert rows(result, "messages", "content") == [("你好，在吗",)]


def test_bare_quotes_inside_unquoted_fields(tmp_path: Path) -> None:
    write(tmp_path, "agents.csv", AGENTS_CSV)
    write(tmp_path, "messages.csv", MESSAGES_HEADER
          + '旗舰店:小美,b1,buyer,2024-06-01 10:00:00,他说"好的\n'
          + '旗舰店:小美,b1,agent,2024-06-01 10:00:05,"多\n行"\n'
          + "\n"
          + "旗舰店:小美,b1,外星人,2024-06-01 10:00:09,x\n"
          + "旗舰店:小美,b1\n")
    errors = load_errors_of(tmp_path)
    assert [(e.line, e.column) for e in errors] == [(6, "sender"), (7, "")]
    result = load_dir(tmp_path, skip_bad_rows=True)
    assert rows(result, "messages", "content") == [('他说"好的',), ("多\n行",)]
