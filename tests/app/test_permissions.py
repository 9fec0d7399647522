"""Every row of shared/spec/app.md's table, allowed and forbidden, on pages, partials,
exports and the JSON API (see conftest for who alice, bob, carol … are)."""

from __future__ import annotations

import csv
import io
from typing import Any
from urllib.parse import quote

import pytest

from kefu.app.i18n import money
from tests.app.conftest import ALICE, BOB, TEAM, World, row_of

OTHER_SHOP_AGENT = "专卖店:糖糖"
TEAM_MATES = {ALICE, BOB, "旗舰店:小七"}


def api_agents(world: World, user: str, run: int | None = None) -> list[dict[str, Any]]:
    response = world.client(user).get(f"/api/runs/{run or world.published}")
    assert response.status_code == 200
    agents: list[dict[str, Any]] = response.json()["agents"]
    return agents


def export_rows(world: World, user: str) -> list[dict[str, str]]:
    response = world.client(user).get(f"/runs/{world.published}/export.csv")
    assert response.status_code == 200
    return list(csv.DictReader(io.StringIO(response.text.lstrip("\ufeff"))))


def agent_page(world: World, user: str, agent_id: str) -> Any:
    return world.client(user).get(f"/runs/{world.published}/agents/{quote(agent_id)}")


# ------------------------------------------------------------------ own results


def test_agent_sees_own_score_grade_rank_and_breakdown(world: World, evaluation: dict) -> None:
    mine = row_of(evaluation, ALICE)
    page = agent_page(world, "alice", ALICE)
    assert page.status_code == 200
    assert f"{mine['total_display']:.1f}" in page.text and mine["grade"] in page.text
    assert "得分明细" in page.text and "询单转化率" in page.text  # the breakdown, labelled
    api = world.client("alice").get(f"/api/runs/{world.published}/agents/{quote(ALICE)}")
    assert api.json()["total"] == mine["total"] and api.json()["items"] == mine["items"]


def test_agent_sees_own_pay(world: World, evaluation: dict) -> None:
    pay = row_of(evaluation, ALICE)["pay"]["total"]
    assert money(pay) in agent_page(world, "alice", ALICE).text
    assert api_agents(world, "alice")[0]["pay"]["total"] == pay
    assert export_rows(world, "alice")[0]["pay"] == str(pay)


def test_admin_sees_no_scores(world: World) -> None:
    page = world.client("frank").get(f"/runs/{world.published}")
    assert page.status_code == 200 and "管理员不查看考核结果" in page.text
    assert ALICE not in page.text
    assert api_agents(world, "frank") == []
    assert export_rows(world, "frank") == []
    assert agent_page(world, "frank", ALICE).status_code == 404


# ------------------------------------------------------------------ others' results


def test_agent_cannot_see_other_agents_scores(world: World) -> None:
    page = world.client("alice").get(f"/runs/{world.published}")
    assert ALICE in page.text and BOB not in page.text
    partial = world.client("alice").get(f"/runs/{world.published}/table")
    assert ALICE in partial.text and BOB not in partial.text
    assert [a["agent_id"] for a in api_agents(world, "alice")] == [ALICE]
    assert [r["agent_id"] for r in export_rows(world, "alice")] == [ALICE]
    assert agent_page(world, "alice", BOB).status_code == 404
    api = world.client("alice").get(f"/api/runs/{world.published}/agents/{quote(BOB)}")
    assert api.status_code == 404


def test_agent_sees_own_rank_position_and_team_average(world: World, evaluation: dict) -> None:
    mine = row_of(evaluation, ALICE)
    ranked = sum(1 for a in evaluation["agents"] if a["rank"] is not None)
    page = world.client("alice").get(f"/runs/{world.published}")
    assert f"<strong>{mine['rank']}</strong> / {ranked}" in page.text
    mean = evaluation["teams"][TEAM]["mean_total"]
    assert f"组平均分 ({TEAM}): {mean:.1f}" in page.text
    teams = world.client("alice").get(f"/api/runs/{world.published}").json()["teams"]
    assert set(teams) == {TEAM}
    assert "grades" not in teams[TEAM] and "pay_total" not in teams[TEAM]


def test_agent_cannot_see_other_agents_pay(world: World, evaluation: dict) -> None:
    assert all(a["agent_id"] == ALICE for a in api_agents(world, "alice"))
    bob_pay = row_of(evaluation, BOB)["pay"]["total"]
    assert all(r["agent_id"] != BOB for r in export_rows(world, "alice"))
    assert agent_page(world, "alice", BOB).status_code == 404
    assert "薪酬合计" not in world.client("alice").get(f"/runs/{world.published}").text
    partial = world.client("alice").get(f"/runs/{world.published}/table").text
    assert BOB not in partial and partial.count("<tr") == 2  # the header and alice's row
    assert bob_pay  # bob has pay: it is hidden, not absent


def test_lead_sees_only_own_team(world: World) -> None:
    seen = {a["agent_id"] for a in api_agents(world, "carol")}
    assert seen == TEAM_MATES
    page = world.client("carol").get(f"/runs/{world.published}")
    assert all(a in page.text for a in TEAM_MATES) and OTHER_SHOP_AGENT not in page.text
    assert {r["agent_id"] for r in export_rows(world, "carol")} == TEAM_MATES
    assert agent_page(world, "carol", BOB).status_code == 200
    assert agent_page(world, "carol", OTHER_SHOP_AGENT).status_code == 404


def test_lead_cannot_see_team_pay(world: World) -> None:
    assert all("pay" not in a for a in api_agents(world, "carol"))
    page = world.client("carol").get(f"/runs/{world.published}")
    assert "薪酬" not in page.text
    assert "薪酬" not in world.client("carol").get(f"/runs/{world.published}/table").text
    assert "pay" not in export_rows(world, "carol")[0]
    assert "薪酬" not in agent_page(world, "carol", BOB).text
    teams = world.client("carol").get(f"/api/runs/{world.published}").json()["teams"]
    assert "pay_total" not in teams[TEAM]


def test_lead_who_is_also_an_agent_sees_own_pay_only(world: World, evaluation: dict) -> None:
    from kefu.app import directory
    from kefu.app.models import LinkKind

    with world.app.state.db() as db, db.begin():
        directory.link(db, directory.find_user(db, "carol"), LinkKind.agent, "旗舰店:小七")
    rows = {a["agent_id"]: a for a in api_agents(world, "carol")}
    assert rows["旗舰店:小七"]["pay"] == row_of(evaluation, "旗舰店:小七")["pay"]
    assert "pay" not in rows[ALICE] and "pay" not in rows[BOB]


def test_qa_inspector_sees_all_scores_and_no_pay(world: World, evaluation: dict) -> None:
    rows = api_agents(world, "dave")
    assert {a["agent_id"] for a in rows} == {a["agent_id"] for a in evaluation["agents"]}
    assert all("pay" not in a for a in rows)
    page = world.client("dave").get(f"/runs/{world.published}")
    assert OTHER_SHOP_AGENT in page.text and "薪酬" not in page.text
    assert "pay" not in export_rows(world, "dave")[0]
    assert agent_page(world, "dave", OTHER_SHOP_AGENT).status_code == 200


def test_director_sees_everyones_pay_in_own_shops(world: World, evaluation: dict) -> None:
    rows = api_agents(world, "gina")
    assert {a["agent_id"]: a["pay"]["total"] for a in rows} == {
        a["agent_id"]: a["pay"]["total"] for a in evaluation["agents"]}
    body = world.client("gina").get(f"/api/runs/{world.published}").json()
    assert body["pay_total"] == evaluation["pay_total"]
    assert money(row_of(evaluation, BOB)["pay"]["total"]) in agent_page(world, "gina", BOB).text
    assert [r["pay"] for r in export_rows(world, "gina")] != []


def test_director_sees_only_own_shops(world: World) -> None:
    seen = {a["agent_id"] for a in api_agents(world, "erin")}
    assert seen == TEAM_MATES  # 旗舰店's presale agents; 专卖店 is not erin's
    assert agent_page(world, "erin", OTHER_SHOP_AGENT).status_code == 404


def test_numbers_equal_kefu_evaluate(world: World, evaluation: dict) -> None:
    rows = {a["agent_id"]: a for a in api_agents(world, "gina")}
    for expected in evaluation["agents"]:
        got = rows[expected["agent_id"]]
        assert (got["total"], got["grade"], got["rank"]) == (
            expected["total"], expected["grade"], expected["rank"])


# ------------------------------------------------------------------ drafts and actions


@pytest.mark.parametrize("user", ["alice", "carol", "dave"])
def test_only_director_and_admin_see_drafts(world: World, user: str) -> None:
    assert world.client(user).get(f"/runs/{world.draft}").status_code == 404
    assert world.client(user).get(f"/api/runs/{world.draft}").status_code == 404
    listed = {r["id"] for r in world.client(user).get("/api/runs").json()}
    assert world.draft not in listed and world.published in listed


def test_director_and_admin_see_drafts(world: World) -> None:
    assert world.client("gina").get(f"/runs/{world.draft}").status_code == 200
    assert world.client("frank").get(f"/runs/{world.draft}").status_code == 200


def test_agent_never_sees_a_run_without_them(world: World) -> None:
    from kefu.app.models import LinkKind

    with world.app.state.db() as db, db.begin():
        from kefu.app import directory

        user = directory.find_user(db, "bob")
        directory.unlink(user, LinkKind.agent, BOB)
        directory.link(db, user, LinkKind.agent, "旗舰店:阿杰")  # after-sales: not in the run
    assert world.client("bob").get(f"/runs/{world.published}").status_code == 404


@pytest.mark.parametrize("user", ["alice", "carol", "dave"])
@pytest.mark.parametrize("path", ["/uploads", "/runs/new", "/schemes", "/schemes/new",
                                  "/audit", "/admin/users"])
def test_agents_leads_and_qa_cannot_reach_director_pages(world: World, user: str,
                                                         path: str) -> None:
    assert world.client(user).get(path).status_code == 404


@pytest.mark.parametrize("user", ["alice", "carol", "dave"])
def test_agents_leads_and_qa_cannot_upload_run_or_publish(world: World, user: str) -> None:
    client = world.client(user)
    assert client.post("/uploads", files={"files": ("agents.csv", b"x")}).status_code == 404
    assert client.post("/runs", {"scheme_version_id": 1, "start": "2024-06-01",
                                 "end": "2024-06-30"}).status_code == 404
    assert client.post(f"/runs/{world.draft}/publish").status_code == 404
    assert client.post(f"/runs/{world.published}/versions", {"reason": "x"}).status_code == 404
    assert client.post("/schemes", {"yaml_text": "name: x"}).status_code == 404


def test_admin_cannot_publish(world: World) -> None:
    assert world.client("frank").post(f"/runs/{world.draft}/publish").status_code == 404


def test_director_can_publish(world: World) -> None:
    response = world.client("gina").post(f"/runs/{world.draft}/publish")
    assert response.status_code == 303
    assert world.client("alice").get(f"/runs/{world.draft}").status_code == 200


def test_director_reads_audit_log_but_not_users(world: World) -> None:
    assert world.client("gina").get("/audit").status_code == 200
    assert world.client("gina").get("/admin/users").status_code == 404


def test_admin_manages_users_and_reads_audit_log(world: World) -> None:
    client = world.client("frank")
    page = client.get("/admin/users")
    assert page.status_code == 200 and "alice" in page.text and ALICE in page.text
    assert client.get("/audit").status_code == 200
    linked = client.post("/admin/users/1/links", {"kind": "team", "value": TEAM})
    assert linked.status_code == 303
    bad = client.post("/admin/users/1/links", {"kind": "team", "value": "没有这个组"})
    assert bad.status_code == 400 and "没有这个组" in bad.text


def test_director_and_admin_edit_schemes(world: World) -> None:
    for user in ("gina", "frank"):
        assert world.client(user).get("/schemes").status_code == 200


def test_agent_home_links_own_result_with_own_pay_only(world: World, evaluation: dict) -> None:
    mine = row_of(evaluation, ALICE)
    home = world.client("alice").get("/").text
    assert f"/runs/{world.published}/agents/{quote(ALICE)}" in home
    assert f"{mine['total_display']:.1f}" in home and money(mine["pay"]["total"]) in home
    assert BOB not in home and f"/runs/{world.draft}" not in home
