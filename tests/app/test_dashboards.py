"""Dashboards: every number equals kefu evaluate / kefu metrics on the same data, every
page, partial, chart-data endpoint and export shows nothing shared/spec/app.md forbids
(both databases: the fixtures parametrise them)."""

from __future__ import annotations

import io
import json
import re
from typing import Any
from urllib.parse import quote

import pytest
from openpyxl import load_workbook

from kefu.app.i18n import money
from tests.app.conftest import ALICE, BOB, END, START, TEAM, World, row_of

A, B = quote(ALICE, safe=""), quote(BOB, safe="")


def get(world: World, user: str, path: str) -> Any:
    return world.client(user).get(path)


def xlsx_rows(response: Any) -> list[list[Any]]:
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    return [list(r) for r in sheet.iter_rows(values_only=True)]


# ------------------------------------------------------------------ numbers match the CLI


def test_agent_breakdown_equals_kefu_evaluate(world: World, evaluation: dict) -> None:
    mine = row_of(evaluation, ALICE)
    page = get(world, "alice", f"/runs/{world.published}/agents/{A}")
    assert page.status_code == 200
    rows = xlsx_rows(get(world, "alice", f"/runs/{world.published}/export/agent/breakdown.xlsx"
                                         f"?agent={A}"))
    assert rows[0] == ["考核项", "指标值", "得分", "权重", "贡献", "备注"]
    assert [r[2] for r in rows[1:]] == pytest.approx([i["points"] for i in mine["items"]])
    assert [r[4] for r in rows[1:]] == pytest.approx([i["contribution"]
                                                      for i in mine["items"]])
    assert sum(r[4] for r in rows[1:]) == pytest.approx(mine["total"])
    ranked = sum(1 for a in evaluation["agents"] if a["rank"])
    assert f"{mine['total']:.1f}" in page.text and f"</strong> / {ranked}" in page.text


def test_agent_trend_chart_data_equals_kefu_evaluate_of_each_period(
        world: World, evaluation: dict, trend: dict) -> None:
    data = get(world, "alice", f"/runs/{world.published}/charts/agent/agent_trend.json"
                               f"?agent={A}").json()
    # the periods before the data (the test shop holds June only) are left out
    assert data["categories"] == ["2024-06"]
    assert [p["start"][:7] for p in trend["periods"]][-12:][0] == "2023-07"
    assert data["series"][0]["data"][-1] == row_of(evaluation, ALICE)["total"]
    assert data["series"][1]["data"][-1] == evaluation["teams"][TEAM]["mean_total"]


def test_director_shop_kpis_equal_kefu_metrics(world: World, demo_workspace: Any) -> None:
    from kefu.analysis import Analysis

    with Analysis(demo_workspace) as analysis:
        shops = analysis.metrics(START, END).to_json_dict()["shops"]
    rows = xlsx_rows(get(world, "gina", f"/runs/{world.published}/export/director/"
                                        "shop_kpis.xlsx"))
    header = rows[0]
    assert header[:3] == ["店铺", "指标", "指标值"]
    by = {(r[0], r[1]): r[2] for r in rows[1:]}
    assert by[("旗舰店", "询单转化率")] == shops["旗舰店"]["conversion_rate"]
    assert by[("专卖店", "投诉率")] == shops["专卖店"]["complaint_rate"]


def test_director_sees_distribution_ranking_pay_split_and_triggers(
        world: World, evaluation: dict) -> None:
    page = get(world, "gina", f"/runs/{world.published}/director")
    assert page.status_code == 200
    grades = get(world, "gina", f"/runs/{world.published}/charts/director/grades.json").json()
    expected: dict[str, int] = {}
    for a in evaluation["agents"]:
        if a["grade"]:
            expected[a["grade"]] = expected.get(a["grade"], 0) + 1
    assert dict(zip(grades["categories"], grades["series"][0]["data"], strict=True)) == expected
    pay = get(world, "gina", f"/runs/{world.published}/charts/director/pay_split.json").json()
    total = sum(a["pay"]["total"] for a in evaluation["agents"] if a.get("pay"))
    assert sum(pay["series"][0]["data"]) == pytest.approx(total)
    assert money(total) in page.text
    for trigger in evaluation["triggers"]:
        assert trigger["name"] in page.text
    ranking = xlsx_rows(get(world, "gina", f"/runs/{world.published}/export/director/"
                                           "ranking.xlsx"))
    assert ranking[0][-1] == "薪酬"
    assert {r[1] for r in ranking[1:]} == {a["name"] for a in evaluation["agents"]}


def test_lead_sees_members_side_by_side_and_team_against_shop(
        world: World, evaluation: dict) -> None:
    page = get(world, "carol", f"/runs/{world.published}/teams/{quote(TEAM)}")
    assert page.status_code == 200
    rows = xlsx_rows(get(world, "carol", f"/runs/{world.published}/export/team/members.xlsx"
                                         f"?team={quote(TEAM)}"))
    mates = [a for a in evaluation["agents"] if a["team"] == TEAM]
    assert sorted(r[1] for r in rows[1:]) == sorted(a["total"] for a in mates)
    assert "薪酬" not in page.text
    assert "小组 vs 店铺" in page.text


# ------------------------------------------------------------------ drill-down


def test_agent_follows_a_number_down_to_its_rows_and_the_chat(world: World,
                                                              evaluation: dict) -> None:
    mine = row_of(evaluation, ALICE)
    client = world.client("alice")
    page = client.get(f"/runs/{world.published}/agents/{A}/evidence/avg_response_s")
    assert page.status_code == 200
    rows = xlsx_rows(client.get(f"/runs/{world.published}/agents/{A}/evidence/"
                                "avg_response_s.xlsx"))
    col = rows[0].index("response_s")
    answered = [r[col] for r in rows[1:] if r[col] is not None]
    assert sum(answered) / len(answered) == pytest.approx(mine["metrics"]["avg_response_s"])
    link = "/runs/" + page.text.split("/chats/", 1)[0].rsplit('href="/runs/', 1)[1]
    link += "/chats/" + page.text.split("/chats/", 1)[1].split('"')[0]
    chat = client.get(link.replace("&amp;", "&"))
    assert chat.status_code == 200 and 'class="msg buyer' in chat.text and "响应" in chat.text


def test_chat_page_highlights_each_check_span_with_its_rule(world: World) -> None:
    hits = get(world, "dave", f"/runs/{world.published}/export/qa/hits.xlsx?check=forbidden")
    rows = xlsx_rows(hits)
    assert rows[1][1] == "禁用语"
    page = get(world, "dave", f"/runs/{world.published}/qa?check=forbidden")
    link = page.text.split('<td><a href="')[1].split('"')[0].replace("&amp;", "&")
    chat = get(world, "dave", link)
    assert 'data-check="forbidden"' in chat.text and "<sup>禁用语</sup>" in chat.text


# ------------------------------------------------------------------ forbidden access


def test_agent_cannot_see_other_agents_pay_in_chart_data(world: World) -> None:
    for path in (f"/runs/{world.published}/charts/agent/agent_trend.json?agent={B}",
                 f"/runs/{world.published}/charts/director/pay_split.json",
                 f"/runs/{world.published}/charts/team/members.json?team={quote(TEAM)}"):
        assert get(world, "alice", path).status_code == 404


def test_agent_cannot_open_other_agents_pages_exports_evidence_chats_or_cards(
        world: World) -> None:
    base = f"/runs/{world.published}/agents/{B}"
    for path in (base, f"{base}/evidence/avg_response_s", f"{base}/evidence/avg_response_s.xlsx",
                 f"{base}/chats/jd_1", f"{base}/card", f"{base}/card.pdf",
                 f"/runs/{world.published}/export/agent/breakdown.xlsx?agent={B}",
                 f"/runs/{world.published}/director", f"/runs/{world.published}/qa",
                 f"/runs/{world.published}/teams/{quote(TEAM)}"):
        assert get(world, "alice", path).status_code == 404, path


def test_agent_trend_shows_team_average_only(world: World) -> None:
    data = get(world, "alice", f"/runs/{world.published}/charts/agent/agent_trend.json"
                               f"?agent={A}").json()
    assert [s["name"] for s in data["series"]] == ["小美", f"组平均分 ({TEAM})"]
    assert BOB not in json.dumps(data, ensure_ascii=False)


def test_lead_cannot_see_pay_of_members_or_other_teams(world: World) -> None:
    assert get(world, "carol", f"/runs/{world.published}/teams/售前三组").status_code == 404
    assert get(world, "carol", f"/runs/{world.published}/director").status_code == 404
    members = get(world, "carol", f"/runs/{world.published}/export/team/members.xlsx"
                                  f"?team={quote(TEAM)}")
    assert "薪酬" not in str(xlsx_rows(members))
    card = get(world, "carol", f"/runs/{world.published}/agents/{A}/card")
    assert card.status_code == 200 and "薪酬" not in card.text
    assert get(world, "carol", f"/runs/{world.published}/agents/专卖店%3A糖糖").status_code == 404


def test_qa_inspector_sees_all_agents_metrics_but_no_pay(world: World) -> None:
    page = get(world, "dave", f"/runs/{world.published}/agents/{A}")
    assert page.status_code == 200 and "薪酬" not in page.text
    assert get(world, "dave", f"/runs/{world.published}/director").status_code == 404
    chart = get(world, "dave", f"/runs/{world.published}/charts/qa/hits.json")
    assert chart.status_code == 200
    export = get(world, "dave", f"/runs/{world.published}/export/agent/pay.xlsx?agent={A}")
    assert export.status_code == 404


def test_director_of_one_shop_sees_only_that_shops_kpis_and_agents(world: World) -> None:
    rows = xlsx_rows(get(world, "erin", f"/runs/{world.published}/export/director/"
                                        "shop_kpis.xlsx"))
    assert {r[0] for r in rows[1:]} == {"旗舰店"}
    ranking = xlsx_rows(get(world, "erin", f"/runs/{world.published}/export/director/"
                                           "ranking.xlsx"))
    assert all(r[3] == "旗舰店" for r in ranking[1:])
    hits = xlsx_rows(get(world, "erin", f"/runs/{world.published}/export/qa/hits.xlsx"))
    assert all("专卖店" not in str(r[2]) for r in hits[1:])


def test_director_of_one_shop_sees_only_that_shops_triggers(world: World,
                                                           evaluation: dict) -> None:
    fired = evaluation["triggers"]
    other = [t for t in fired if t["scope"] == "shop" and t["scope_id"] != "旗舰店"]
    assert other, "the demo should fire a trigger in 专卖店 for this test to mean anything"
    rows = xlsx_rows(get(world, "erin", f"/runs/{world.published}/export/director/"
                                        "triggers.xlsx"))
    scopes = {r[2] for r in rows[1:]}
    assert "专卖店" not in scopes
    mine = {t["scope_id"] for t in fired if t["scope"] == "shop" and t["scope_id"] == "旗舰店"}
    assert scopes == mine
    # gina directs both shops: every trigger
    rows = xlsx_rows(get(world, "gina", f"/runs/{world.published}/export/director/"
                                        "triggers.xlsx"))
    assert len(rows) - 1 == len(fired)


def test_admin_sees_no_dashboard(world: World) -> None:
    for path in (f"/runs/{world.published}/director", f"/runs/{world.published}/qa",
                 f"/runs/{world.published}/agents/{A}/card.pdf",
                 f"/runs/{world.published}/charts/director/totals.json"):
        assert get(world, "frank", path).status_code == 404


def test_draft_dashboards_are_hidden_from_agents(world: World) -> None:
    assert get(world, "alice", f"/runs/{world.draft}/agents/{A}").status_code == 404
    assert get(world, "gina", f"/runs/{world.draft}/director").status_code == 200


# ------------------------------------------------------------------ report card


def test_report_card_pdf_holds_the_agents_name_and_total(world: World, evaluation: dict,
                                                         tmp_path: Any) -> None:
    import shutil
    import subprocess

    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    response = get(world, "alice", f"/runs/{world.published}/agents/{A}/card.pdf")
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    pdf = tmp_path / "card.pdf"
    pdf.write_bytes(response.content)
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    mine = row_of(evaluation, ALICE)
    assert "绩效考核表" in text and "小美" in text and f"{mine['total']:.1f}" in text
    assert money(mine["pay"]["total"]) in text
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True).stdout
    assert "WenQuanYi" in fonts and " yes " in fonts  # the Chinese font, embedded


# ------------------------------------------------------------------ stored numbers, kept


def _store_hits(world: World, hits: list[dict[str, Any]]) -> None:
    from kefu.app.models import Run

    with world.app.state.db() as db, db.begin():
        run = db.get(Run, world.published)
        assert run is not None
        run.qa_hits = {"hits": hits}


def test_qa_page_lists_the_hits_stored_with_the_run_cut_to_the_reader(world: World) -> None:
    other = "专卖店:糖糖"
    _store_hits(world, [
        {"check": "forbidden", "agent_id": ALICE, "buyer_id": "b1", "conv_no": 1,
         "at": "2024-06-03 10:00:00", "content": "stored-hit-alice"},
        {"check": "offsite", "agent_id": other, "buyer_id": "b2", "conv_no": 2,
         "at": "2024-06-04 11:00:00", "content": "stored-hit-other"},
    ])
    dave = get(world, "dave", f"/runs/{world.published}/qa").text  # both shops
    assert "stored-hit-alice" in dave and "stored-hit-other" in dave
    assert re.search(r"<p class=\"hit-count\">2 [^<]*</p>", dave)  # "2 rows"
    erin = get(world, "erin", f"/runs/{world.published}/qa").text  # 旗舰店 only
    assert "stored-hit-alice" in erin and "stored-hit-other" not in erin
    rows = xlsx_rows(get(world, "erin", f"/runs/{world.published}/export/qa/hits.xlsx"))
    assert [r[4] for r in rows[1:]] == ["stored-hit-alice"]
    chart = get(world, "dave", f"/runs/{world.published}/charts/qa/hits.json").json()
    assert len(chart["categories"]) == 2  # 专卖店:糖糖 sorts before 旗舰店:小美
    assert [s["data"] for s in chart["series"][:2]] == [[0, 1], [1, 0]]


def test_a_kept_run_is_still_cut_per_reader(world: World) -> None:
    """The parsed run is shared by every request; what each user sees is not."""
    for _ in range(2):  # the second round reads the kept copy
        gina = xlsx_rows(get(world, "gina", f"/runs/{world.published}/export/director/"
                                            "ranking.xlsx"))
        assert gina[0][-1] == "薪酬" and any(r[-1] for r in gina[1:])
        alice = get(world, "alice", f"/runs/{world.published}/agents/{A}")
        assert alice.status_code == 200 and "薪酬" in alice.text  # her own pay
        bob_seen_by_alice = get(world, "alice", f"/runs/{world.published}/agents/{B}")
        assert bob_seen_by_alice.status_code == 404
        carol = get(world, "carol", f"/runs/{world.published}/agents/{A}")
        assert carol.status_code == 200 and "薪酬" not in carol.text
