# ruff: noqa: E501  (sample files are written as the platforms write them)
"""Chat-record text files (JD 咚咚 blocks, GBK Taobao message manager) → messages, end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kefu.cli import app
from kefu.ingest.chatlog import parse_chatlog
from kefu.ingest.platforms import load_platform_profile

runner = CliRunner()
BAR = "/*****************以下为一通会话************************************/"
JD_LOG = f"""{BAR}
jimi_robot01 2024-06-03 09:59:50
您好，京东智能客服为您服务
j****8a 2024-06-03 10:00:00
在吗，这个什么时候发货
j****8a 2024-06-03 10:00:05
用户发起转人工
好店-小美 2024-06-03 10:00:20
亲，您好，今天下单明天发货
/*****************会话结束_时间: 2024-06-03 10:05:00***************/
{BAR}
好店-小王 2024-06-03 10:06:00
您好，我是售后小王
j****8a 2024-06-03 10:06:30
我要退货
第二行内容
好店-小王 2024-06-03 10:07:00
好的亲
"""
TAOBAO = """旗舰店:小美(2024-06-03 10:00:00):  您好，欢迎光临
tb_buyer1(2024-06-03 10:00:30):  这款有货吗
还有红色吗
旗舰店:小美(2024-06-03 10:01:00):  有的亲
店小蜜(2024-06-03 10:02:00):  感谢咨询
"""


@pytest.fixture
def jd(tmp_path: Path) -> Path:
    path = tmp_path / "jd.txt"
    path.write_text(JD_LOG, encoding="utf-8")
    return path


def test_jd_blocks_roles_transfer_and_masked_buyer(jd: Path) -> None:
    got = parse_chatlog(jd, load_platform_profile("jd_dongdong"))
    assert not got.errors
    rows = [(m["sender"], m["agent_id"], m["buyer_id"], m["conversation_id"])
            for m in got.messages]
    assert rows == [
        ("bot", "好店-小美", "j****8a", "jd#1"),      # robot greets; the human who takes over owns it
        ("buyer", "好店-小美", "j****8a", "jd#1"),
        ("system", "好店-小美", "j****8a", "jd#1"),   # 用户发起转人工 is a platform text
        ("agent", "好店-小美", "j****8a", "jd#1"),
        ("agent", "好店-小王", "j****8a", "jd#2"),
        ("buyer", "好店-小王", "j****8a", "jd#2"),
        ("agent", "好店-小王", "j****8a", "jd#2"),
    ]
    assert got.messages[5]["content"] == "我要退货\n第二行内容"
    assert got.lines == [2, 4, 6, 8, 12, 14, 17]
    assert got.transfers == ["line 12: j****8a: 好店-小美 → 好店-小王 (new block)"]
    decisions = {(d.sender, d.role): (d.reason, d.messages) for d in got.roles}
    assert decisions[("jimi_robot01", "bot")] == ("robot pattern '^jimi_'", 1)
    assert decisions[("j****8a", "buyer")][1] == 2
    assert decisions[("j****8a", "system")] == ("platform text '用户发起转人工'", 1)
    assert decisions[("好店-小美", "agent")][0].startswith("agent pattern")
    assert [a["agent_id"] for a in got.agents] == ["好店-小美", "好店-小王"]


def test_known_agents_table_wins_over_patterns(jd: Path) -> None:
    got = parse_chatlog(jd, load_platform_profile("jd_dongdong"), {"xiaomei": "好店-小美"})
    assert {m["agent_id"] for m in got.messages} == {"xiaomei", "好店-小王"}
    assert ("好店-小美", "agent", "in the shop's agents table") in {
        (d.sender, d.role, d.reason) for d in got.roles}
    assert [a["agent_id"] for a in got.agents] == ["好店-小王"]


def test_text_outside_a_block_is_an_error_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.txt"
    path.write_text("stray text\n" + JD_LOG, encoding="utf-8")
    got = parse_chatlog(path, load_platform_profile("jd_dongdong"))
    assert [(e.line, e.reason) for e in got.errors] == [
        (1, "text outside a 以下为一通会话 block")]


def test_gbk_taobao_message_manager(tmp_path: Path) -> None:
    path = tmp_path / "taobao.txt"
    path.write_bytes(TAOBAO.encode("gbk"))
    got = parse_chatlog(path, load_platform_profile("taobao_wangwang"))
    assert [(m["sender"], m["agent_id"], m["buyer_id"], m["content"]) for m in got.messages] == [
        ("agent", "旗舰店:小美", "tb_buyer1", "您好，欢迎光临"),
        ("buyer", "旗舰店:小美", "tb_buyer1", "这款有货吗\n还有红色吗"),
        ("agent", "旗舰店:小美", "tb_buyer1", "有的亲"),
        ("bot", "旗舰店:小美", "tb_buyer1", "感谢咨询"),
    ]


def test_import_dry_run_then_import_then_metrics(jd: Path, tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    dry = runner.invoke(app, ["import", str(jd), "--profile", "jd_dongdong",
                              "--workspace", str(ws), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "line 2: jimi_robot01 → bot" in dry.output
    assert "role: j****8a → system (platform text '用户发起转人工') × 1" in dry.output
    assert "messages: would import 7 rows" in dry.output
    assert "dry run: nothing was written" in dry.output
    assert not ws.exists() or not any(ws.rglob("*.parquet"))

    done = runner.invoke(app, ["import", str(jd), "--profile", "jd_dongdong",
                               "--workspace", str(ws)])
    assert done.exit_code == 0, done.output
    again = runner.invoke(app, ["import", str(jd), "--profile", "jd_dongdong",
                                "--workspace", str(ws)])
    assert "already imported" in again.output

    res = runner.invoke(app, ["metrics", "--data", str(ws), "--start", "2024-06-03",
                              "--end", "2024-06-03", "--no-qa"])
    assert res.exit_code == 0, res.output
    agents = json.loads(res.stdout)["agents"]
    # 小美: buyer 10:00:00, reply 10:00:20 (the system line is no buyer turn) → 20 s
    assert agents["好店-小美"]["received"] == 1
    assert agents["好店-小美"]["avg_response_s"] == pytest.approx(20)
    # 小王 after the transfer: buyer 10:06:30, reply 10:07:00 → 30 s
    assert agents["好店-小王"]["avg_response_s"] == pytest.approx(30)
