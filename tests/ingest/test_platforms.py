# ruff: noqa: E501  (sample files are written as the platforms write them)
"""Shipped platform profiles: every one loads and cites a source; helpdesk tables (Chatwoot
footer line and UTC stamps, Zendesk good/bad), Twitter care JSON, a user's own profile,
and `kefu compare-report`."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from kefu.cli import app
from kefu.ingest.platform_files import convert
from kefu.ingest.platforms import builtin_profiles, load_platform_profile

from .test_chatlog import JD_LOG

runner = CliRunner()
SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"
CHATWOOT = """Agent Name,Rating,Feedback Comment,Contact Name,Contact Email Address,Contact Phone Number,Link to the conversation,Recorded date
Mei Li (mei@shop.com),5,great,Bob,bob@x.com,,https://app.chatwoot.com/app/accounts/1/conversations/7,2024-06-01 16:30:00 UTC
Mei Li (mei@shop.com),2,,Ann,ann@x.com,,https://app.chatwoot.com/app/accounts/1/conversations/8,2024-06-01 17:00:00 UTC
Reporting period 2024-06-01 to 2024-06-30
"""


def test_every_shipped_profile_loads_and_cites_a_source() -> None:
    names = set(builtin_profiles())
    assert {"jd_dongdong", "taobao_wangwang", "taobao_kpi", "pinduoduo_kpi", "douyin_kpi",
            "zendesk_csat", "chatwoot_csat", "chatwoot_agents", "twitter_care"} <= names
    for name in names:
        profile = load_platform_profile(name)
        assert profile.sources, name
        if profile.status == "described":
            assert "not verified against a real file" in " ".join(profile.sources + [profile.notes])


def test_docs_name_every_profile_and_its_source() -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "data.md").read_text(encoding="utf-8")
    for name in builtin_profiles():
        assert f"`{name}`" in docs, name
    assert "## Sources" in docs


def test_chatwoot_csat_footer_utc_and_agent_cell(tmp_path: Path) -> None:
    path = tmp_path / "csat.csv"
    path.write_text(CHATWOOT, encoding="utf-8")
    got = convert(path, load_platform_profile("chatwoot_csat"))
    assert got.tables["ratings"] == [
        {"agent_id": "mei@shop.com", "score": "5", "comment": "great", "buyer_id": "bob@x.com",
         "rated_at": "2024-06-01 16:30:00+00:00"},
        {"agent_id": "mei@shop.com", "score": "2", "comment": None, "buyer_id": "ann@x.com",
         "rated_at": "2024-06-01 17:00:00+00:00"},
    ]
    assert got.tables["agents"] == [{"agent_id": "mei@shop.com", "name": "Mei Li", "team": "",
                                     "role": "aftersale"}]
    assert "line 4: footer line" in got.notes
    ws = tmp_path / "ws"
    res = runner.invoke(app, ["import", str(path), "--profile", "chatwoot_csat",
                              "--workspace", str(ws)])
    assert res.exit_code == 0, res.output
    stored = pq.read_table(next((ws / "ratings").glob("*.parquet"))).to_pylist()
    # 16:30 UTC is 00:30 the next day in the shop's zone: the instant is kept, not the wall clock
    assert stored[0]["rated_at"] == dt.datetime(2024, 6, 1, 16, 30, tzinfo=dt.UTC)


def test_zendesk_good_bad_and_offered(tmp_path: Path) -> None:
    path = tmp_path / "zendesk.csv"
    path.write_text("id,ticket_id,assignee_id ,requester_id,score,comment,created_at\n"
                    "1,10,'900,77,good,thanks,2024-06-01T08:00:00Z\n"
                    "2,11,900,78,bad,,2024-06-01T09:00:00Z\n"
                    "3,12,900,79,offered,,2024-06-01T10:00:00Z\n", encoding="utf-8")
    got = convert(path, load_platform_profile("zendesk_csat"))
    assert [(r["agent_id"], r["score"], r["rated_at"]) for r in got.tables["ratings"]] == [
        ("900", "5", "2024-06-01T08:00:00+00:00"), ("900", "1", "2024-06-01T09:00:00+00:00")]
    assert "line 4: score 'offered' is not a record" in got.notes


def test_a_user_profile_without_code(tmp_path: Path) -> None:
    mine = tmp_path / "my_report.yaml"
    mine.write_text("""name: my_report
title: 我们店的日报
platform: 自建
kind: report
status: described
sources: [our own export]
missing: ['无']
report:
  agent_column: 姓名
  date_column: 日期
  metrics:
    接待: {key: received, unit: count}
    平响(分): {key: avg_response_s, unit: minutes}
""", encoding="utf-8")
    data = tmp_path / "daily.csv"
    data.write_text("日期,姓名,接待,平响(分)\n2024/6/1,小美,12,1.5\n2024/6/1,小王,无,2\n",
                    encoding="utf-8")
    got = convert(data, load_platform_profile(mine))
    assert got.report is not None
    assert {(v.agent_id, v.key): v.value for v in got.report.values} == {
        ("小美", "received"): 12, ("小美", "avg_response_s"): 90, ("小王", "avg_response_s"): 120}
    bad = tmp_path / "bad.yaml"
    bad.write_text(mine.read_text(encoding="utf-8").replace("received", "recieved"),
                   encoding="utf-8")
    with pytest.raises(ValueError, match="unknown metric key 'recieved'"):
        load_platform_profile(bad)


def test_compare_report_beside_computed(tmp_path: Path) -> None:
    log = tmp_path / "jd.txt"
    log.write_text(JD_LOG, encoding="utf-8")
    kpi = tmp_path / "pdd.csv"
    kpi.write_text("客服账号,人工接待人数,平均人工响应时长\n好店-小美,1,25\n好店-小王,1,--\n汇总,2,25\n",
                   encoding="utf-8")
    ws = tmp_path / "ws"
    assert runner.invoke(app, ["import", str(log), "--profile", "jd_dongdong",
                               "--workspace", str(ws)]).exit_code == 0
    res = runner.invoke(app, ["import", str(kpi), "--profile", "pinduoduo_kpi", "--workspace",
                              str(ws), "--start", "2024-06-03", "--end", "2024-06-03"])
    assert res.exit_code == 0, res.output
    out = runner.invoke(app, ["compare-report", "--data", str(ws), "--start", "2024-06-03",
                              "--end", "2024-06-03", "--format", "json"])
    assert out.exit_code == 0, out.output
    rows = {(r["agent_id"], r["metric"]): r for r in json.loads(out.stdout)["rows"]}
    mei = rows[("好店-小美", "avg_response_s")]
    assert (mei["computed"], mei["reported"], mei["difference"]) == (20, 25, -5)
    assert rows[("好店-小王", "avg_response_s")]["reported"] is None


@pytest.mark.skipif(not (SHARED / "twitter_care" / "dev.json").exists(),
                    reason="shared/data/twitter_care/dev.json not found beside the repo")
def test_twitter_care_json(tmp_path: Path) -> None:
    path = SHARED / "twitter_care" / "dev.json"
    docs = json.loads(path.read_text(encoding="utf-8"))
    got = convert(path, load_platform_profile("twitter_care"))
    assert len(got.tables["messages"]) == sum(len(d["dialogContent"]) + 1 for d in docs)
    assert len(got.tables["agents"]) == len({d["dialogHeader"]["company"] for d in docs})
    first = docs[0]
    final = [m for m in got.tables["messages"]
             if m["conversation_id"] == first["dialogHeader"]["sessionID"]][-1]
    ms = (int(first["agentURL"]["tweet_ID"]) >> 22) + 1288834974657
    assert dt.datetime.fromisoformat(final["sent_at"] or "") == dt.datetime.fromtimestamp(
        ms / 1000, tz=dt.UTC)
    assert final["sender"] == "agent" and final["agent_id"] == first["dialogHeader"]["company"]
