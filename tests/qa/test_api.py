"""The public QA API: flag_messages, scan records, scan_file, the empathy rule and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from typer.testing import CliRunner

from kefu.cli import app
from kefu.qa import (
    FLAG_COLUMNS,
    empathy_conversations,
    flag_messages,
    scan_file,
    scan_text,
    sentiment_scores,
)


class TestFlagMessages:
    def test_one_row_per_message_in_order(self) -> None:
        texts = [
            "您好，很高兴为您服务",
            "太差了，我要投诉",
            None,
            "非常理解您的心情，给您添麻烦了",
            "不知道，加我微信",
            "你烦不烦",
            "我的电话13812345678",
            "请问还有其他可以帮您的吗",
        ]
        is_agent = [True, False, True, True, True, True, False, True]
        table = flag_messages(texts, is_agent)
        assert table.column_names == [*FLAG_COLUMNS, "sentiment"]
        assert table.num_rows == len(texts)
        rows = table.to_pylist()
        assert rows[0]["polite"] and rows[0]["greeting"] and not rows[0]["closing"]
        assert rows[1]["upset"] and not rows[1]["polite"] and not rows[1]["negative"]
        assert not any(rows[2][c] for c in FLAG_COLUMNS) and rows[2]["sentiment"] == 0.0
        assert rows[3]["empathy"] and not rows[3]["upset"]
        assert rows[4]["forbidden"] and rows[4]["offsite"]
        assert rows[5]["negative"]
        assert rows[6]["pii"] and not rows[6]["upset"]
        assert rows[7]["closing"]
        for column in FLAG_COLUMNS:
            assert table.schema.field(column).type == pa.bool_()
        assert table.schema.field("sentiment").type == pa.float64()

    def test_agent_flags_are_false_on_buyer_rows_and_back(self) -> None:
        text = "亲，不知道，气死了，加我微信"
        agent, buyer = flag_messages([text, text], [True, False]).to_pylist()
        assert agent["polite"] and agent["forbidden"] and agent["offsite"] and not agent["upset"]
        assert buyer["upset"] and not buyer["polite"] and not buyer["forbidden"]
        assert agent["sentiment"] == buyer["sentiment"]

    def test_repeated_texts_get_identical_rows(self) -> None:
        texts = ["请稍等，正在为您查询", "我要投诉"] * 50
        rows = flag_messages(texts, [True, False] * 50).to_pylist()
        assert rows[::2] == [rows[0]] * 50 and rows[1::2] == [rows[1]] * 50

    def test_accepts_arrow_and_numpy_columns(self) -> None:
        texts = pa.chunked_array([["您好", "太差了，我要投诉"], [None]])
        is_agent = pa.array([True, False, None])
        rows = flag_messages(texts, is_agent).to_pylist()
        assert rows[0]["polite"] and rows[1]["upset"] and not rows[2]["upset"]
        as_lists = flag_messages(["您好", "太差了，我要投诉", None], [True, False, False])
        assert rows == as_lists.to_pylist()
        assert flag_messages(pd.Series(["您好"]), np.array([True])).to_pylist()[0]["polite"]

    def test_no_messages(self) -> None:
        table = flag_messages([], [])
        assert table.num_rows == 0 and table.column_names == [*FLAG_COLUMNS, "sentiment"]

    def test_length_mismatch_is_an_error(self) -> None:
        with pytest.raises(ValueError, match="is_agent"):
            flag_messages(["a", "b"], [True])

    def test_negative_is_scans_agent_negative(self) -> None:
        texts = ["你烦不烦", "好的，请稍等", "这是你自己的问题"]
        table = flag_messages(texts, [True] * 3)
        for text, negative in zip(texts, table.column("negative").to_pylist(), strict=True):
            checks = {h["check"] for h in scan_text(text)["hits"]}
            assert negative == ("agent_negative" in checks)


class TestScanRecord:
    def test_record_matches_the_cli_contract(self) -> None:
        text = "亲，这个我也不知道呢"
        record = scan_text(text)
        assert set(record) == {"negative", "sentiment", "hits"}
        sentiment = record["sentiment"]
        assert isinstance(sentiment, float) and -1.0 <= sentiment <= 1.0
        assert record["negative"] is (sentiment < 0)
        hits = record["hits"]
        assert isinstance(hits, list)
        forbidden = [h for h in hits if h["check"] == "forbidden"]
        assert forbidden == [{"check": "forbidden", "phrase": "不知道", "start": 6, "end": 9}]
        assert text[6:9] == "不知道"

    def test_spans_point_into_the_original_text(self) -> None:
        text = "😀ＱＱ聯繫我，沒辦法"
        for hit in scan_text(text)["hits"]:
            assert 0 <= hit["start"] < hit["end"] <= len(text)
        offsite = [h for h in scan_text(text)["hits"] if h["check"] == "offsite"]
        assert [text[h["start"] : h["end"]] for h in offsite] == ["ＱＱ聯繫"]

    def test_buyer_role_runs_buyer_checks_only(self) -> None:
        checks = {h["check"] for h in scan_text("不知道！气死了 13812345678", "buyer")["hits"]}
        assert checks == {"buyer_upset", "pii"}

    def test_unknown_role(self) -> None:
        with pytest.raises(ValueError, match="role"):
            scan_text("x", role="boss")

    def test_output_is_deterministic(self) -> None:
        assert scan_text("太差了，退钱", "buyer") == scan_text("太差了，退钱", "buyer")


def test_sentiment_is_bounded_and_ranks_obvious_cases() -> None:
    scores = sentiment_scores(["非常满意，质量很好，谢谢", "太差了，再也不买了", "", None])
    assert scores[0] > 0.3 and scores[1] < -0.3
    assert scores[2] == 0.0 and scores[3] == 0.0
    assert ((scores >= -1) & (scores <= 1)).all()


class TestEmpathyConversations:
    def test_empathy_within_two_agent_messages(self) -> None:
        conversation = [
            ("buyer", "怎么还没发货，太慢了"),
            ("bot", "您好，客服马上来"),
            ("agent", "您好，请稍等"),
            ("agent", "非常抱歉让您久等了"),
        ]
        assert empathy_conversations(conversation) == (True, True)

    def test_empathy_too_late(self) -> None:
        conversation = [
            ("buyer", "我要投诉"),
            ("agent", "您好"),
            ("agent", "请提供订单号"),
            ("agent", "给您添麻烦了"),
        ]
        assert empathy_conversations(conversation) == (True, False)

    def test_no_upset_buyer(self) -> None:
        conversation = [("buyer", "什么时候发货"), ("agent", "给您添麻烦了")]
        assert empathy_conversations(conversation) == (False, False)
        assert empathy_conversations([]) == (False, False)


ROWS = ["您好，很高兴为您服务", "不知道，你自己看", "", "加我微信 13812345678"]


def _write(path: Path, fmt: str) -> Path:
    frame = pd.DataFrame({"id": range(len(ROWS)), "content": ROWS})
    if fmt == "csv":
        frame.to_csv(path, index=False, encoding="utf-8-sig")
    elif fmt == "gb18030":
        frame.to_csv(path, index=False, encoding="gb18030")
    elif fmt == "xlsx":
        frame.to_excel(path, index=False)
    elif fmt == "parquet":
        frame.to_parquet(path, index=False)
    elif fmt == "jsonl":
        frame.to_json(path, orient="records", lines=True, force_ascii=False)
    return path


@pytest.mark.parametrize(
    ("fmt", "suffix"),
    [
        ("csv", "csv"),
        ("gb18030", "csv"),
        ("xlsx", "xlsx"),
        ("parquet", "parquet"),
        ("jsonl", "jsonl"),
    ],
)
def test_scan_file_reads_every_format(tmp_path: Path, fmt: str, suffix: str) -> None:
    path = _write(tmp_path / f"chats.{suffix}", fmt)
    records = list(scan_file(path, "content"))
    assert [r["row"] for r in records] == [0, 1, 2, 3]
    assert records[2]["hits"] == [] and records[2]["sentiment"] == 0.0
    checks = [{h["check"] for h in r["hits"]} for r in records]
    assert checks[1] == {"forbidden"}
    assert checks[3] == {"offsite", "pii"}
    assert list(records[0]) == ["row", "negative", "sentiment", "hits"]


def test_scan_file_errors(tmp_path: Path) -> None:
    path = _write(tmp_path / "chats.csv", "csv")
    with pytest.raises(ValueError, match="no column 'text'.*content"):
        list(scan_file(path, "text"))
    with pytest.raises(ValueError, match="no such file"):
        list(scan_file(tmp_path / "missing.csv", "content"))
    bad = tmp_path / "chats.doc"
    bad.write_text("x", encoding="utf-8")
    with pytest.raises(ValueError, match="unsupported"):
        list(scan_file(bad, "content"))
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"not parquet")
    with pytest.raises(ValueError, match="cannot read"):
        list(scan_file(broken, "content"))


def test_cli_prints_one_json_line_per_row(tmp_path: Path) -> None:
    path = _write(tmp_path / "chats.csv", "csv")
    result = CliRunner().invoke(
        app, ["qa", "scan", "--input", str(path), "--text-column", "content"]
    )
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["row"] for line in lines] == [0, 1, 2, 3]
    assert lines[1]["hits"][0] == {"check": "forbidden", "phrase": "不知道", "start": 0, "end": 3}
    buyer = CliRunner().invoke(
        app, ["qa", "scan", "--input", str(path), "--text-column", "content", "--role", "buyer"]
    )
    assert buyer.exit_code == 0
    assert all(
        h["check"] in ("buyer_upset", "pii")
        for line in buyer.stdout.splitlines()
        for h in json.loads(line)["hits"]
    )


def test_cli_missing_column_exits_2(tmp_path: Path) -> None:
    path = _write(tmp_path / "chats.csv", "csv")
    result = CliRunner().invoke(app, ["qa", "scan", "--input", str(path), "--text-column", "x"])
    assert result.exit_code == 2
