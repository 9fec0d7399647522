"""The run life cycle: draft computed in the background → published (locked) → a new
version with a reason; each state change in the audit log; numbers equal kefu evaluate."""

from __future__ import annotations

from typing import Any

from kefu.app.models import AuditEntry, Run
from tests.app.conftest import World


def _run(world: World, run_id: int) -> Run:
    with world.app.state.db() as db:
        run = db.get(Run, run_id)
        assert run is not None
        return run


def _audit(world: World) -> list[tuple[str, str, str, str]]:
    with world.app.state.db() as db:
        return [(e.username, e.action, e.object_id, e.reason)
                for e in db.query(AuditEntry).filter(AuditEntry.object_type == "run")
                .order_by(AuditEntry.id)]


def _start_draft(world: World, client: Any) -> int:
    response = client.post("/runs", {"scheme_version_id": 1, "start": "2024-06-01",
                                     "end": "2024-06-30"})
    assert response.status_code == 303
    run_id = int(response.headers["location"].rsplit("/", 1)[1])
    world.app.state.runner.wait()
    return run_id


def test_director_drafts_publishes_and_versions_a_run(world: World,
                                                      evaluation: dict[str, Any]) -> None:
    gina = world.client("gina")
    run_id = _start_draft(world, gina)
    draft = _run(world, run_id)
    assert draft.status == "draft" and draft.progress == 100
    assert draft.result is not None
    got = {a["agent_id"]: (a["total"], a["rank"], a["grade"]) for a in draft.result["agents"]}
    assert got == {a["agent_id"]: (a["total"], a["rank"], a["grade"])
                   for a in evaluation["agents"]}  # the same numbers as kefu evaluate
    assert draft.manifest is not None and draft.manifest["inputs"]["messages"]

    assert gina.post(f"/runs/{run_id}/publish", {"reason": "六月考核"}).status_code == 303
    assert _run(world, run_id).status == "published"
    # locked: a published run is not recomputed, it gets a new version (with a reason)
    refused = gina.post(f"/runs/{run_id}/recompute")
    assert refused.status_code == 409 and "new version" in refused.text
    assert gina.post(f"/runs/{run_id}/versions", {"reason": ""}).status_code == 409

    response = gina.post(f"/runs/{run_id}/versions", {"reason": "补录了售后工单"})
    assert response.status_code == 303
    v2 = int(response.headers["location"].rsplit("/", 1)[1])
    world.app.state.runner.wait()
    second = _run(world, v2)
    assert (second.series, second.version, second.status) == (draft.series, 2, "draft")
    assert _run(world, run_id).status == "published"  # until v2 is published
    assert gina.post(f"/runs/{v2}/publish").status_code == 303
    assert _run(world, run_id).status == "superseded"
    old = gina.get(f"/runs/{run_id}")
    assert old.status_code == 200 and "已被新版本取代" in old.text and "v2" in old.text

    assert _audit(world) == [
        ("gina", "run.draft", str(run_id), ""),
        ("system", "run.computed", str(run_id), ""),
        ("gina", "run.publish", str(run_id), "六月考核"),
        ("gina", "run.new_version", str(v2), "补录了售后工单"),
        ("system", "run.computed", str(v2), ""),
        ("gina", "run.supersede", str(run_id), ""),
        ("gina", "run.publish", str(v2), ""),
    ]


def test_director_finds_a_publication_in_the_audit_log(world: World) -> None:
    gina = world.client("gina")
    gina.post(f"/runs/{world.draft}/publish", {"reason": "月度发布"})
    page = gina.get("/audit", params={"action": "run.publish"})
    assert page.status_code == 200
    assert "run.publish" in page.text and "月度发布" in page.text and "gina" in page.text
    assert "user.sign_in" not in page.text  # the filter holds


def test_admin_drafts_but_cannot_publish(world: World) -> None:
    frank = world.client("frank")
    run_id = _start_draft(world, frank)
    assert _run(world, run_id).status == "draft"
    assert frank.post(f"/runs/{run_id}/publish").status_code == 404
    assert _run(world, run_id).status == "draft"


def test_a_draft_is_recomputed(world: World) -> None:
    gina = world.client("gina")
    assert gina.post(f"/runs/{world.draft}/recompute").status_code == 303
    world.app.state.runner.wait()
    assert _run(world, world.draft).status == "draft"
    assert ("gina", "run.recompute", str(world.draft), "") in _audit(world)


def test_a_failing_run_shows_its_error_and_can_be_recomputed(world: World) -> None:
    from kefu.app.models import SchemeVersion

    with world.app.state.db() as db, db.begin():
        # a version saved before a check existed: the run fails, it does not crash the app
        db.add(SchemeVersion(scheme_id=1, version=2, yaml_text="name: x\nitems: []\n"))
    gina = world.client("gina")
    response = gina.post("/runs", {"scheme_version_id": 2, "start": "2024-06-01",
                                   "end": "2024-06-30"})
    run_id = int(response.headers["location"].rsplit("/", 1)[1])
    world.app.state.runner.wait()
    run = _run(world, run_id)
    assert run.status == "failed" and run.result is None and "items" in run.message
    page = gina.get(f"/runs/{run_id}")
    assert "计算失败" in page.text and run.message in page.text
    assert ("system", "run.failed", str(run_id), "") in _audit(world)
    assert gina.post(f"/runs/{run_id}/recompute").status_code == 303
    assert gina.post(f"/runs/{run_id}/publish").status_code == 409  # not a computed draft


def test_run_status_partial_polls_while_computing(world: World) -> None:
    with world.app.state.db() as db, db.begin():
        run = db.get(Run, world.draft)
        assert run is not None
        run.status, run.progress, run.message = "computing", 30, "computing"
    partial = world.client("gina").get(f"/runs/{world.draft}/status",
                                       headers={"HX-Request": "true"})
    assert 'hx-trigger="every 1s"' in partial.text and 'value="30"' in partial.text
    assert "HX-Refresh" not in partial.headers


def test_end_before_start_is_refused(world: World) -> None:
    response = world.client("gina").post("/runs", {"scheme_version_id": 1,
                                                   "start": "2024-06-30", "end": "2024-06-01"})
    assert response.status_code == 400 and "end is before start" in response.text


def test_a_run_left_computing_by_a_stopped_server_is_computed_on_start(world: World) -> None:
    with world.app.state.db() as db, db.begin():
        run = db.get(Run, world.draft)
        assert run is not None
        run.status, run.progress, run.result = "computing", 40, None
    runner = world.app.state.runner
    assert runner.resume() == 1
    runner.wait()
    assert _run(world, world.draft).status == "draft"
    assert _run(world, world.draft).result is not None
