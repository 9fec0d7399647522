"""Uploads go through `kefu import`'s validation: a bad row is named; nothing is half-imported."""

from __future__ import annotations

from pathlib import Path

from kefu.app.models import Agent, AuditEntry
from tests.app.conftest import World

BAD_ORDERS = (
    "order_id,shop_id,buyer_id,created_at,paid_at,amount,status,agent_id\n"
    "o1,旗舰店,b1,2024-06-03 10:00:00,2024-06-03 10:05:00,99.5,paid,旗舰店:小美\n"
    "o2,旗舰店,b2,2024-06-03 11:00:00,,abc,created,旗舰店:小美\n"
)
NEW_AGENT = (
    "agent_id,name,shop_id,team,role\n"
    "旗舰店:新人,新人,旗舰店,售前二组,presale\n"
)


def _files(workspace: Path) -> set[Path]:
    return set(workspace.rglob("*.parquet"))


def test_director_uploads_a_file_with_a_bad_row_and_sees_it_named(world: World,
                                                                   workspace: Path) -> None:
    before = _files(workspace)
    response = world.client("gina").post("/uploads", files=[
        ("files", ("agents.csv", NEW_AGENT.encode())),
        ("files", ("orders.csv", BAD_ORDERS.encode()))])
    assert response.status_code == 422
    assert "错误行" in response.text and "1 行有误，整批未导入" in response.text
    # the table names file, line, column and reason
    assert "<td>orders.csv</td><td class=\"num\">3</td><td>amount</td><td>abc</td>" in (
        response.text)
    assert _files(workspace) == before  # nothing imported, not even the good agents file
    with world.app.state.db() as db:
        entry = db.query(AuditEntry).filter(AuditEntry.action == "data.upload_rejected").one()
        assert entry.detail["bad_rows"] == 1


def test_the_bad_row_table_comes_back_as_an_htmx_partial(world: World) -> None:
    response = world.client("gina").post(
        "/uploads", files={"files": ("orders.csv", BAD_ORDERS.encode())},
        headers={"HX-Request": "true"})
    assert response.status_code == 422
    assert "<html" not in response.text and "amount" in response.text


def test_director_uploads_good_files_and_agents_come_from_the_data(world: World,
                                                                   workspace: Path) -> None:
    response = world.client("gina").post(
        "/uploads", files={"files": ("agents.csv", NEW_AGENT.encode())})
    assert response.status_code == 200
    assert "agents.csv" in response.text and "1 行" in response.text
    with world.app.state.db() as db:
        agent = db.get(Agent, "旗舰店:新人")
        assert agent is not None and (agent.team, agent.shop_id) == ("售前二组", "旗舰店")
    again = world.client("gina").post(
        "/uploads", files={"files": ("agents.csv", NEW_AGENT.encode())})
    assert "已导入过" in again.text


def test_a_file_kefu_cannot_place_is_refused_with_the_reason(world: World) -> None:
    response = world.client("gina").post("/uploads", files={"files": ("notes.csv", b"a,b\n1,2\n")})
    assert response.status_code == 422 and "notes.csv" in response.text


def test_upload_page_has_a_progress_bar(world: World) -> None:
    page = world.client("gina").get("/uploads")
    assert '<progress id="upload-progress"' in page.text and 'data-progress="upload-progress"' in (
        page.text)
