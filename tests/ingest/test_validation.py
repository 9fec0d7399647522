"""Every validation rule: exact file, line and column; nothing loaded; skip loads the rest."""

from __future__ import annotations

from pathlib import Path

import pytest

from kefu.ingest import IngestError, load_dir

from .helpers import AGENTS_CSV, MESSAGES_HEADER, load_errors, only_error, rows, shop, where, write

GOOD = "旗舰店:小美,b1,buyer,2024-06-01 10:00:00,在吗\n"


def test_missing_required_column_is_reported_on_the_header_line(tmp_path: Path) -> None:
    shop(tmp_path, "agent_id,buyer_id,sent_at\n旗舰店:小美,b1,2024-06-01 10:00:00\n")
    error = only_error(tmp_path)
    assert where(error) == ("messages.csv", 1, "sender")
    assert error.reason == "missing required column"


def test_empty_required_value(tmp_path: Path) -> None:
    shop(tmp_path, MESSAGES_HEADER + GOOD + "旗舰店:小美,,buyer,2024-06-01 10:00:01,x\n")
    error = only_error(tmp_path)
    assert where(error) == ("messages.csv", 3, "buyer_id")
    assert "empty" in error.reason


def test_message_without_agent_names_the_rule(tmp_path: Path) -> None:
    shop(tmp_path, MESSAGES_HEADER + ",b1,buyer,2024-06-01 10:00:00,在吗\n")
    error = only_error(tmp_path)
    assert where(error) == ("messages.csv", 2, "agent_id")
    assert "every message needs agent_id" in str(error)


@pytest.mark.parametrize("value", ["2024-02-30 10:00:00", "2024-06-01 25:00:00", "yesterday",
                                   "2024-06-01", "2024-13-01 10:00"])
def test_bad_timestamp(tmp_path: Path, value: str) -> None:
    shop(tmp_path, MESSAGES_HEADER + GOOD + f"旗舰店:小美,b1,buyer,{value},x\n")
    error = only_error(tmp_path)
    assert where(error) == ("messages.csv", 3, "sent_at")
    assert error.value == value
    assert "timestamp" in error.reason


def test_unknown_sender(tmp_path: Path) -> None:
    shop(tmp_path, MESSAGES_HEADER + "旗舰店:小美,b1,外星人,2024-06-01 10:00:00,x\n")
    error = only_error(tmp_path)
    assert where(error) == ("messages.csv", 2, "sender")
    assert error.value == "外星人"
    assert str(error) == (
        "messages.csv:2: column 'sender': unknown sender; expected one of buyer, agent, bot, "
        "system (value '外星人')"
    )


def test_unknown_agent_is_a_referential_error(tmp_path: Path) -> None:
    shop(tmp_path, MESSAGES_HEADER + GOOD + "旗舰店:无名,b1,buyer,2024-06-01 10:00:00,x\n")
    error = only_error(tmp_path)
    assert where(error) == ("messages.csv", 3, "agent_id")
    assert error.reason == "agent_id not in agents"


@pytest.mark.parametrize("table", ["ratings", "cases", "sessions"])
def test_unknown_agent_in_other_tables(tmp_path: Path, table: str) -> None:
    text = {
        "ratings": "agent_id,rated_at,score\n旗舰店:无名,2024-06-01 10:00,5\n",
        "cases": "case_id,agent_id,kind,opened_at\nC1,旗舰店:无名,refund,2024-06-01 10:00\n",
        "sessions": "agent_id,started_at,ended_at\n旗舰店:无名,2024-06-01 09:00,2024-06-01 18:00\n",
    }[table]
    shop(tmp_path, MESSAGES_HEADER + GOOD, **{table: text})
    assert where(only_error(tmp_path)) == (f"{table}.csv", 2, "agent_id")


def test_negative_amount_and_refund(tmp_path: Path) -> None:
    orders = (
        "order_id,buyer_id,created_at,amount,refund_amount\n"
        "O1,b1,2024-06-01 10:00,-1,0\n"
        "O2,b1,2024-06-01 10:00,5,-2\n"
        "O3,b1,2024-06-01 10:00,abc,0\n"
    )
    shop(tmp_path, MESSAGES_HEADER + GOOD, orders=orders)
    errors = load_errors(tmp_path)
    assert [(where(e), e.reason) for e in errors] == [
        (("orders.csv", 2, "amount"), "negative amount"),
        (("orders.csv", 3, "refund_amount"), "negative amount"),
        (("orders.csv", 4, "amount"), "not an amount"),
    ]


def test_money_accepts_yuan_sign_and_thousands(tmp_path: Path) -> None:
    orders = 'order_id,buyer_id,created_at,amount\nO1,b1,2024-06-01 10:00,"¥1,299.00"\n'
    shop(tmp_path, MESSAGES_HEADER + GOOD, orders=orders)
    result = load_dir(tmp_path)
    assert rows(result, "orders", "amount", "refund_amount", "shop_id") == [(1299.0, 0.0, "旗舰店")]


@pytest.mark.parametrize("score", ["0", "6", "3.5", "好评"])
def test_score_must_be_1_to_5(tmp_path: Path, score: str) -> None:
    ratings = f"agent_id,rated_at,score\n旗舰店:小美,2024-06-01 10:00,{score}\n"
    shop(tmp_path, MESSAGES_HEADER + GOOD, ratings=ratings)
    error = only_error(tmp_path)
    assert where(error) == ("ratings.csv", 2, "score")
    assert error.reason == "score must be 1..5"


def test_closed_before_opened_and_ended_before_started(tmp_path: Path) -> None:
    cases = ("case_id,agent_id,kind,opened_at,closed_at\n"
             "C1,旗舰店:小王,refund,2024-06-02 10:00,2024-06-01 10:00\n")
    sessions = ("agent_id,started_at,ended_at\n"
                "旗舰店:小美,2024-06-01 09:00,2024-06-01 18:00\n"
                "旗舰店:小美,2024-06-01 18:00,2024-06-01 09:00\n")
    shop(tmp_path, MESSAGES_HEADER + GOOD, cases=cases, sessions=sessions)
    errors = load_errors(tmp_path)
    assert [(where(e), e.reason) for e in errors] == [
        (("cases.csv", 2, "closed_at"), "closed_at before opened_at"),
        (("sessions.csv", 3, "ended_at"), "ended_at before started_at"),
    ]


def test_bad_boolean(tmp_path: Path) -> None:
    messages = "agent_id,buyer_id,sender,sent_at,auto_reply\n" + (
        "旗舰店:小美,b1,agent,2024-06-01 10:00,是\n"
        "旗舰店:小美,b1,agent,2024-06-01 10:01,maybe\n"
        "旗舰店:小美,b1,agent,2024-06-01 10:02,\n"
    )
    shop(tmp_path, messages)
    error = only_error(tmp_path)
    assert where(error) == ("messages.csv", 3, "auto_reply")
    result = load_dir(tmp_path, skip_bad_rows=True)
    assert rows(result, "messages", "auto_reply") == [(True,), (False,)]


@pytest.mark.parametrize("text, expected", [("TRUE", True), ("1", True), ("Yes", True),
                                            ("否", False), ("no", False), ("0", False)])
def test_booleans(tmp_path: Path, text: str, expected: bool) -> None:
    cases = ("case_id,agent_id,kind,opened_at,平台介入\n"
             f"C1,旗舰店:小王,退款,2024-06-01 10:00,{text}\n")
    shop(tmp_path, MESSAGES_HEADER + GOOD, cases=cases)
    assert rows(load_dir(tmp_path), "cases", "platform_intervened") == [(expected,)]


def test_duplicate_key_with_different_content_names_the_earlier_line(tmp_path: Path) -> None:
    orders = (
        "order_id,buyer_id,created_at,amount\n"
        "O1,b1,2024-06-01 10:00,5\n"
        "O2,b1,2024-06-01 10:00,5\n"
        "O1,b1,2024-06-01 10:00,5\n"
        "O1,b1,2024-06-01 10:00,6\n"
    )
    shop(tmp_path, MESSAGES_HEADER + GOOD, orders=orders)
    error = only_error(tmp_path)
    assert where(error) == ("orders.csv", 5, "order_id")
    assert "first on line 2" in error.reason
    result = load_dir(tmp_path, skip_bad_rows=True)
    assert rows(result, "orders", "order_id", "amount") == [("O1", 5.0), ("O2", 5.0)]


def test_duplicate_agent(tmp_path: Path) -> None:
    write(tmp_path, "agents.csv", AGENTS_CSV + "旗舰店:小美,小美,旗舰店,售后组,aftersale\n")
    write(tmp_path, "messages.csv", MESSAGES_HEADER + GOOD)
    assert where(only_error(tmp_path)) == ("agents.csv", 4, "agent_id")


def test_all_errors_are_collected_and_none_loaded(tmp_path: Path) -> None:
    shop(tmp_path, MESSAGES_HEADER
         + "旗舰店:小美,b1,buyer,2024-02-30 10:00:00,x\n"
         + "旗舰店:小美,b1,外星人,bad,x\n"
         + GOOD)
    with pytest.raises(IngestError) as caught:
        load_dir(tmp_path)
    errors = caught.value.errors
    assert [where(e) for e in errors] == [
        ("messages.csv", 2, "sent_at"), ("messages.csv", 3, "sender"),
        ("messages.csv", 3, "sent_at"),
    ]
    assert str(caught.value).splitlines()[0] == (
        "2 bad rows in 1 files; nothing was loaded (use --skip-bad-rows to load the good rows)"
    )


def test_skip_bad_rows_loads_the_good_rows_and_reports_the_bad(tmp_path: Path) -> None:
    shop(tmp_path, MESSAGES_HEADER + "旗舰店:小美,b1,外星人,2024-06-01 10:00:00,x\n" + GOOD)
    result = load_dir(tmp_path, skip_bad_rows=True)
    assert [where(e) for e in result.skipped] == [("messages.csv", 2, "sender")]
    assert rows(result, "messages", "content") == [("在吗",)]
    assert any("skipped 1 bad rows" in w for w in result.warnings)


def test_a_dropped_agent_drops_its_messages(tmp_path: Path) -> None:
    write(tmp_path, "agents.csv", AGENTS_CSV + "旗舰店:小李,小李,旗舰店,售前一组,经理\n")
    write(tmp_path, "messages.csv", MESSAGES_HEADER + GOOD
          + "旗舰店:小李,b2,buyer,2024-06-01 10:00:00,x\n")
    result = load_dir(tmp_path, skip_bad_rows=True)
    assert [where(e) for e in result.skipped] == [("agents.csv", 4, "role"),
                                                  ("messages.csv", 3, "agent_id")]
    assert result.dataset.messages.num_rows == 1


def test_error_message_is_capped_at_twenty(tmp_path: Path) -> None:
    bad = "".join(f"旗舰店:小美,b1,外星人,2024-06-01 10:00:{i:02d},x\n" for i in range(25))
    shop(tmp_path, MESSAGES_HEADER + bad)
    with pytest.raises(IngestError) as caught:
        load_dir(tmp_path)
    lines = str(caught.value).splitlines()
    assert len(lines) == 22
    assert lines[-1] == "… and 5 more"


def test_row_with_wrong_column_count(tmp_path: Path) -> None:
    shop(tmp_path, MESSAGES_HEADER + '旗舰店:小美,b1,buyer,2024-06-01 10:00,"a\nb"\n'
         + "旗舰店:小美,b1\n" + GOOD)
    error = only_error(tmp_path)
    assert (error.file, error.line) == ("messages.csv", 4)
    result = load_dir(tmp_path, skip_bad_rows=True)
    assert rows(result, "messages", "content") == [("a\nb",), ("在吗",)]


def test_shop_defaults(tmp_path: Path) -> None:
    orders = "order_id,buyer_id,created_at\nO1,b1,2024-06-01 10:00\n"
    shop(tmp_path, MESSAGES_HEADER + GOOD, orders=orders)
    result = load_dir(tmp_path)
    assert rows(result, "messages", "shop_id") == [("旗舰店",)]
    assert rows(result, "orders", "shop_id") == [("旗舰店",)]


def test_orders_without_shop_need_a_single_shop(tmp_path: Path) -> None:
    write(tmp_path, "agents.csv", AGENTS_CSV + "二店:阿花,阿花,二店,售前,presale\n")
    write(tmp_path, "messages.csv", MESSAGES_HEADER + GOOD)
    write(tmp_path, "orders.csv", "order_id,buyer_id,created_at,shop_id\n"
          "O1,b1,2024-06-01 10:00,\nO2,b1,2024-06-01 10:00,二店\n")
    error = only_error(tmp_path)
    assert where(error) == ("orders.csv", 2, "shop_id")


def test_missing_required_files_and_optional_tables(tmp_path: Path) -> None:
    write(tmp_path, "agents.csv", AGENTS_CSV)
    with pytest.raises(IngestError, match="no messages file"):
        load_dir(tmp_path)
    write(tmp_path, "messages.csv", MESSAGES_HEADER + GOOD)
    dataset = load_dir(tmp_path).dataset
    assert dataset.orders is None and dataset.ratings is None
    assert dataset.cases is None and dataset.sessions is None
