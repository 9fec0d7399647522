"""Chinese headers and values (built-ins) and user mapping profiles."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from kefu.ingest import IngestError, load_dir, load_profile

from .helpers import AGENTS_CSV, rows, write


def test_chinese_headers_and_values(tmp_path: Path) -> None:
    write(tmp_path, "agents.csv", "子账号,姓名,店铺,小组,岗位\n"
          "旗舰店:小美,小美,旗舰店,售前一组,售前\n旗舰店:小王,,旗舰店,售后组,售前售后\n")
    write(tmp_path, "messages.csv", "客服,买家昵称,角色,发送时间,消息内容,自动回复,会话ID\n"
          "旗舰店:小美,顾客甲,顾客,2024-06-01 10:00:00,在吗,否,c1\n"
          "旗舰店:小美,顾客甲,卖家,2024-06-01 10:00:05,在的,是,c1\n"
          "旗舰店:小美,顾客甲,智能客服,2024-06-01 10:00:06,自动,,c1\n"
          "旗舰店:小美,顾客甲,系统,2024-06-01 10:00:07,,,\n")
    write(tmp_path, "orders.csv", "订单编号,买家,下单时间,付款时间,实付金额,退款金额,状态\n"
          "O1,顾客甲,2024-06-01 10:05,2024-06-01 10:06,199,,交易成功\n")
    write(tmp_path, "ratings.csv", "客服,买家,评价时间,满意度,评价内容\n"
          "旗舰店:小美,顾客甲,2024-06-01 11:00,很满意,好\n"
          "旗舰店:小美,顾客乙,2024-06-01 11:00,非常不满意,\n"
          "旗舰店:小美,顾客丙,2024-06-01 11:00,3,\n")
    write(tmp_path, "cases.csv", "售后单号,客服,订单号,类型,申请时间,完结时间,小二介入,结果\n"
          "K1,旗舰店:小王,O1,退货退款,2024-06-02 10:00,2024-06-03 10:00,是,支持买家\n"
          "K2,旗舰店:小王,O1,维权,2024-06-02 10:00,,否,\n")
    write(tmp_path, "sessions.csv", "客服,开始时间,结束时间,状态\n"
          "旗舰店:小美,2024-06-01 09:00,2024-06-01 12:00,在线\n"
          "旗舰店:小美,2024-06-01 12:00,2024-06-01 13:00,挂起\n"
          "旗舰店:小美,2024-06-01 13:00,2024-06-01 14:00,离线\n")
    result = load_dir(tmp_path)
    assert rows(result, "agents", "agent_id", "name", "team", "role") == [
        ("旗舰店:小美", "小美", "售前一组", "presale"),
        ("旗舰店:小王", "旗舰店:小王", "售后组", "both"),
    ]
    assert rows(result, "messages", "sender", "auto_reply", "conversation_id", "content") == [
        ("buyer", False, "c1", "在吗"), ("agent", True, "c1", "在的"),
        ("bot", False, "c1", "自动"), ("system", False, None, ""),
    ]
    assert rows(result, "orders", "order_id", "amount", "refund_amount", "status",
                "paid_local") == [("O1", 199.0, 0.0, "交易成功", dt.datetime(2024, 6, 1, 10, 6))]
    assert rows(result, "ratings", "score", "comment") == [(5, "好"), (1, ""), (3, "")]
    assert rows(result, "cases", "kind", "platform_intervened", "outcome", "closed_at") == [
        ("return", True, "buyer_won", dt.datetime(2024, 6, 3, 2, 0)),
        ("dispute", False, None, None),
    ]
    assert rows(result, "sessions", "status") == [("online",), ("busy",), ("away",)]


PROFILE = """
name: 某平台导出
tables:
  messages:
    columns:
      接待账号: agent_id
      旺旺: buyer_id
      方向: sender
      时间戳: sent_at
      文本: content
      时间: null
    values:
      sender:
        我: agent
        对方: buyer
  ratings:
    values:
      score:
        好评: 5
        中评: 3
        差评: 1
"""


def test_mapping_profile_renames_and_translates(tmp_path: Path) -> None:
    write(tmp_path, "agents.csv", AGENTS_CSV)
    write(tmp_path, "messages.csv", "接待账号,旺旺,方向,时间戳,时间,文本\n"
          "旗舰店:小美,b1,对方,2024-06-01 10:00:00,ignored,在吗\n"
          "旗舰店:小美,b1,我,2024-06-01 10:00:03,ignored,在的\n")
    write(tmp_path, "ratings.csv", "agent_id,rated_at,score\n"
          "旗舰店:小美,2024-06-01 11:00,好评\n旗舰店:小美,2024-06-01 11:00,很满意\n")
    profile = write(tmp_path.parent / "profiles", "p.yaml", PROFILE)
    result = load_dir(tmp_path, profile=profile)
    assert rows(result, "messages", "sender", "content") == [("buyer", "在吗"), ("agent", "在的")]
    assert rows(result, "ratings", "score") == [(5,), (5,)]


@pytest.mark.parametrize("text, message", [
    ("tables: {nosuch: {}}", "unknown table"),
    ("tables: {messages: {columns: {x: nosuch}}}", "unknown column"),
    ("tables: {messages: {values: {nosuch: {a: b}}}}", "unknown column"),
    ("tables: {messages: {colums: {}}}", "colums"),
])
def test_bad_profiles_are_refused(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, "p.yaml", text)
    with pytest.raises(ValueError, match=message):
        load_profile(path)
    write(tmp_path, "agents.csv", AGENTS_CSV)
    with pytest.raises(IngestError, match="invalid mapping profile"):
        load_dir(tmp_path, profile=path)


def test_profile_value_outside_the_choices_is_still_an_error(tmp_path: Path) -> None:
    write(tmp_path, "agents.csv", AGENTS_CSV)
    write(tmp_path, "messages.csv", "agent_id,buyer_id,sender,sent_at\n"
          "旗舰店:小美,b1,我,2024-06-01 10:00\n")
    profile = write(tmp_path.parent / "p2", "p.yaml",
                    "tables: {messages: {values: {sender: {我: seller_person}}}}")
    with pytest.raises(IngestError, match="unknown sender"):
        load_dir(tmp_path, profile=profile)


def test_profile_translates_booleans(tmp_path: Path) -> None:
    write(tmp_path, "agents.csv", AGENTS_CSV)
    write(tmp_path, "messages.csv", "agent_id,buyer_id,sender,sent_at\n"
          "旗舰店:小美,b1,buyer,2024-06-01 10:00\n")
    write(tmp_path, "cases.csv", "case_id,agent_id,kind,opened_at,platform_intervened\n"
          "K1,旗舰店:小王,refund,2024-06-01 10:00,已介入\n"
          "K2,旗舰店:小王,refund,2024-06-01 10:00,未介入\n")
    profile = write(tmp_path.parent / "p3", "p.yaml", "tables:\n  cases:\n    values:\n"
                    "      platform_intervened: {已介入: true, 未介入: false}\n")
    result = load_dir(tmp_path, profile=profile)
    assert rows(result, "cases", "platform_intervened") == [(True,), (False,)]
