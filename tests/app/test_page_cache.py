"""Kept rendered pages (kefu.app.page_cache): the permission checks still run before a
kept page is served, a page is never served to a reader whose scope differs, drafts are
never kept, a new workspace generation or run state is a new page, and the cache stays
within its bytes. Also the QA inspector's paged hit list."""

from __future__ import annotations

import io
import os
import re
from typing import Any
from urllib.parse import quote

import pytest
from openpyxl import load_workbook

from kefu.app import page_cache
from tests.app.conftest import ALICE, BOB, TEAM, World, row_of

A, B = quote(ALICE, safe=""), quote(BOB, safe="")
HEADER = page_cache.CACHE_HEADER
OTHER_SHOP_AGENT = quote("专卖店:糖糖", safe="")  # as the ranking links it


def _paths(world: World) -> dict[str, str]:
    run = world.published
    agent = f"/runs/{run}/agents/{A}"
    return {
        "director": f"/runs/{run}/director",
        "director_chart": f"/runs/{run}/charts/director/pay_split.json",
        "director_export": f"/runs/{run}/export/director/ranking.xlsx",
        "team": f"/runs/{run}/teams/{quote(TEAM)}",
        "qa": f"/runs/{run}/qa",
        "qa_export": f"/runs/{run}/export/qa/hits.xlsx",
        "agent": agent,
        "agent_chart": f"/runs/{run}/charts/agent/agent_trend.json?agent={A}",
        "agent_export": f"/runs/{run}/export/agent/breakdown.xlsx?agent={A}",
        "card": f"{agent}/card",
        "evidence": f"{agent}/evidence/avg_response_s",
        "evidence_export": f"{agent}/evidence/avg_response_s.xlsx",
    }


# page → (the reader who may open it, readers who may not)
ALLOWED_THEN_REFUSED = {
    "director": ("gina", ["alice", "carol", "dave", "frank"]),
    "director_chart": ("gina", ["alice", "carol", "dave", "frank"]),
    "director_export": ("gina", ["alice", "carol", "dave", "frank"]),
    "team": ("carol", ["alice", "bob", "frank"]),
    "qa": ("dave", ["alice", "bob", "carol", "frank"]),
    "qa_export": ("dave", ["alice", "carol", "frank"]),
    "agent": ("alice", ["bob", "frank"]),
    "agent_chart": ("alice", ["bob", "frank"]),
    "agent_export": ("alice", ["bob", "frank"]),
    "card": ("alice", ["bob", "frank"]),
    "evidence": ("alice", ["bob", "frank"]),
    "evidence_export": ("alice", ["bob", "frank"]),
}


@pytest.mark.parametrize("page", sorted(ALLOWED_THEN_REFUSED))
def test_a_kept_page_is_still_refused_to_who_may_not_open_it(world: World, page: str) -> None:
    path = _paths(world)[page]
    allowed, refused = ALLOWED_THEN_REFUSED[page]
    reader = world.client(allowed)
    first, second = reader.get(path), reader.get(path)
    assert (first.status_code, first.headers[HEADER]) == (200, "miss")
    assert (second.status_code, second.headers[HEADER]) == (200, "hit")
    assert second.content == first.content
    for user in refused:
        answer = world.client(user).get(path)
        assert answer.status_code == 404, (page, user)
        assert HEADER not in answer.headers


def test_an_agent_never_gets_another_agents_kept_pages(world: World,
                                                       evaluation: dict) -> None:
    alice, bob = world.client("alice"), world.client("bob")
    mine = alice.get(f"/runs/{world.published}/agents/{A}")
    assert alice.get(f"/runs/{world.published}/agents/{A}").headers[HEADER] == "hit"
    assert bob.get(f"/runs/{world.published}/agents/{A}").status_code == 404
    his = bob.get(f"/runs/{world.published}/agents/{B}")
    assert his.status_code == 200 and his.headers[HEADER] == "miss"
    assert f"{row_of(evaluation, BOB)['total']:.1f}" in his.text
    assert mine.text != his.text and "小美" not in his.text.split("<main>", 1)[1]
    for path in (f"/runs/{world.published}/agents/{A}/evidence/avg_response_s",
                 f"/runs/{world.published}/agents/{A}/card.pdf"):
        assert alice.get(path).status_code == 200
        assert alice.get(path).headers[HEADER] == "hit"
        assert bob.get(path).status_code == 404


def test_a_kept_chat_is_refused_to_another_agent(world: World) -> None:
    alice = world.client("alice")
    rows = alice.get(f"/runs/{world.published}/agents/{A}/evidence/avg_response_s").text
    found = re.search(r'href="([^"]+/chats/[^"]+)"', rows)
    assert found is not None
    chat = found.group(1).replace("&amp;", "&")
    assert alice.get(chat).headers[HEADER] == "miss"
    assert alice.get(chat).headers[HEADER] == "hit"
    assert world.client("bob").get(chat).status_code == 404
    assert world.client("carol").get(chat).headers[HEADER] == "miss"  # her own page


def test_readers_of_different_scope_get_their_own_bytes(world: World) -> None:
    """gina directs both shops, erin one: erin's director page is never gina's."""
    path = f"/runs/{world.published}/director"
    gina = world.client("gina").get(path)
    erin = world.client("erin").get(path)
    assert erin.headers[HEADER] == "miss"
    assert OTHER_SHOP_AGENT in gina.text and OTHER_SHOP_AGENT not in erin.text


def test_a_kept_page_carries_the_csrf_token_of_its_own_session(world: World) -> None:
    path = f"/runs/{world.published}/agents/{A}"
    first, second = world.client("alice"), world.client("alice")  # two sessions
    one, two = first.get(path), second.get(path)
    assert two.headers[HEADER] == "hit"
    assert first.csrf != second.csrf
    assert f'"X-CSRF-Token": "{second.csrf}"' in two.text and first.csrf not in two.text
    assert f'value="{second.csrf}"' in two.text  # the sign-out form
    assert page_cache.CSRF_MARK not in one.text + two.text


def test_a_change_of_links_is_a_new_page_and_the_old_scope_is_refused(world: World) -> None:
    from kefu.app import directory
    from kefu.app.models import LinkKind

    path = f"/runs/{world.published}/director"
    erin = world.client("erin")
    assert OTHER_SHOP_AGENT not in erin.get(path).text
    with world.app.state.db() as db, db.begin():
        directory.link(db, directory.find_user(db, "erin"), LinkKind.shop, "专卖店")
    wider = erin.get(path)
    assert wider.headers[HEADER] == "miss" and OTHER_SHOP_AGENT in wider.text
    team = f"/runs/{world.published}/teams/{quote(TEAM)}"
    carol = world.client("carol")
    assert carol.get(team).status_code == 200
    with world.app.state.db() as db, db.begin():
        directory.unlink(directory.find_user(db, "carol"), LinkKind.team, TEAM)
    assert carol.get(team).status_code == 404


def test_drafts_are_never_kept(world: World) -> None:
    gina = world.client("gina")
    for _ in range(2):
        page = gina.get(f"/runs/{world.draft}/director")
        assert page.status_code == 200 and HEADER not in page.headers


def test_a_new_workspace_generation_or_run_state_is_a_new_page(world: World) -> None:
    from kefu.app.models import Run, RunStatus

    alice = world.client("alice")
    evidence = f"/runs/{world.published}/agents/{A}/evidence/avg_response_s"
    agent = f"/runs/{world.published}/agents/{A}"
    assert [alice.get(evidence).headers[HEADER] for _ in range(2)] == ["miss", "hit"]
    assert [alice.get(agent).headers[HEADER] for _ in range(2)] == ["miss", "hit"]
    messages = next(world.app.state.settings.workspace.glob("messages/*.parquet"))
    stat = messages.stat()
    os.utime(messages, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert alice.get(evidence).headers[HEADER] == "miss"  # the facts may have changed
    assert alice.get(agent).headers[HEADER] == "hit"  # stored numbers: they have not
    with world.app.state.db() as db, db.begin():
        run = db.get(Run, world.published)
        assert run is not None
        run.status = RunStatus.superseded
    assert alice.get(agent).headers[HEADER] == "miss"


def test_the_cache_keeps_within_its_bytes(world: World, monkeypatch: Any) -> None:
    gina = world.client("gina")
    paths = [f"/runs/{world.published}/director?kpi={kpi}" for kpi in
             ("reply_rate", "first_response_s", "avg_response_s", "conversion_rate", "x")]
    sizes = [len(gina.get(path).content) for path in paths]
    assert sum(sizes) > 4 * max(sizes)  # five pages do not fit in four of the largest
    page_cache.clear()
    monkeypatch.setattr(page_cache, "CACHE_BYTES", 4 * max(sizes))
    for n, path in enumerate(paths, 1):
        assert gina.get(path).headers[HEADER] == "miss"
        entries, held = page_cache.held()
        assert held <= 4 * max(sizes) and entries == min(n, 4)  # the oldest went first
    # pushed out of this process, still in the folder the workers share: not rendered
    assert gina.get(paths[0]).headers[HEADER] == "shared"
    assert gina.get(paths[-1]).headers[HEADER] == "hit"


# --------------------------------------------- the pages the worker processes share


def _another_process() -> None:
    """What a second worker of the same server starts with: nothing kept in memory (and
    its own CSRF stand-in), the shared folder as it is."""
    with page_cache._LOCK:
        page_cache._CACHE.clear()
        page_cache._HELD[0] = 0


@pytest.mark.parametrize("page", ["director", "agent", "evidence", "agent_export"])
def test_a_page_one_worker_rendered_is_read_by_another_and_still_refused(
        world: World, page: str, monkeypatch: Any) -> None:
    path = _paths(world)[page]
    allowed, refused = ALLOWED_THEN_REFUSED[page]
    first = world.client(allowed).get(path)
    assert first.headers[HEADER] == "miss"
    _another_process()
    monkeypatch.setattr(page_cache, "CSRF_MARK", "kefu-csrf-of-another-process")
    other_session = world.client(allowed)
    second = other_session.get(path)
    assert (second.status_code, second.headers[HEADER]) == (200, "shared")
    if page == "agent_export":
        assert second.content == first.content
    else:  # the same page, with the token of the session that asked for it
        assert first.text.replace(first_session_token(first), "T") == \
            second.text.replace(other_session.csrf, "T")
    assert world.client(allowed).get(path).headers[HEADER] == "hit"  # now in memory too
    for user in refused:
        _another_process()
        answer = world.client(user).get(path)
        assert answer.status_code == 404, (page, user)
        assert HEADER not in answer.headers


def first_session_token(response: Any) -> str:
    found = re.search(r'"X-CSRF-Token": "([^"]+)"', response.text)
    assert found is not None
    return found.group(1)


def test_a_shared_file_answers_only_the_key_it_was_made_for(world: World) -> None:
    """Two keys whose files were swapped (as a hash collision would): neither is served."""
    gina = world.client("gina")
    one, two = (f"/runs/{world.published}/director?kpi={kpi}" for kpi in ("reply_rate", "x"))
    gina.get(one), gina.get(two)
    folder = page_cache._SHARED[0]
    assert folder is not None
    files = sorted(folder.glob("*.page"), key=lambda p: p.stat().st_mtime)[-2:]
    first, second = (f.read_bytes() for f in files)
    files[0].write_bytes(second)
    files[1].write_bytes(first)
    _another_process()
    assert gina.get(one).headers[HEADER] == "miss"
    assert gina.get(two).headers[HEADER] == "miss"


def test_the_shared_folder_is_pruned_to_its_bytes(world: World, monkeypatch: Any) -> None:
    gina = world.client("gina")
    page_cache.clear()
    monkeypatch.setattr(page_cache, "_PRUNE_EVERY", 1)
    paths = [f"/runs/{world.published}/director?kpi={kpi}" for kpi in
             ("reply_rate", "first_response_s", "avg_response_s", "conversion_rate", "x")]
    size = len(gina.get(paths[0]).content)
    monkeypatch.setattr(page_cache, "DISK_BYTES", int(2.5 * size))
    for path in paths[1:]:
        gina.get(path)
    folder = page_cache._SHARED[0]
    assert folder is not None
    held = sum(f.stat().st_size for f in folder.glob("*.page"))
    assert 0 < held <= int(2.5 * size) and len(list(folder.glob("*.page"))) <= 2


# ------------------------------------------------------------------ the QA page, paged


def _hits(count: int) -> list[dict[str, Any]]:
    checks = ("forbidden", "offsite")
    return [{"check": checks[i % 2], "agent_id": ALICE if i % 5 else BOB,
             "buyer_id": f"b{i}", "conv_no": 1, "content": f"hit-{i:03d}",
             "at": f"2024-06-{1 + i // 10:02d} 10:{i % 60:02d}:00"} for i in range(count)]


def _store(world: World, hits: list[dict[str, Any]]) -> None:
    from kefu.app.models import Run

    with world.app.state.db() as db, db.begin():
        run = db.get(Run, world.published)
        assert run is not None
        run.qa_hits = {"hits": hits}


def _contents(html: str) -> list[str]:
    return re.findall(r"<td>(hit-\d{3})</td>", html)


def test_qa_page_shows_a_hundred_hits_a_page_with_the_count(world: World) -> None:
    _store(world, _hits(250))
    dave = world.client("dave")
    base = f"/runs/{world.published}/qa"
    first = dave.get(base).text
    assert _contents(first) == [f"hit-{i:03d}" for i in range(100)]
    assert '<p class="hit-count">250 行 · 显示第 1–100 行 · 第 1 / 3 页</p>' in first
    assert f'href="{base}?page=2"' in first and 'rel="prev"' not in first
    last = dave.get(f"{base}?page=3").text
    assert _contents(last) == [f"hit-{i:03d}" for i in range(200, 250)]
    assert "显示第 201–250 行 · 第 3 / 3 页" in last and 'rel="next"' not in last
    assert _contents(dave.get(f"{base}?page=99").text) == _contents(last)  # the last page
    assert _contents(dave.get(f"{base}?page=x").text) == _contents(first)
    rows = load_workbook(io.BytesIO(dave.get(f"/runs/{world.published}/export/qa/hits.xlsx")
                                    .content)).active
    assert [r[4] for r in rows.iter_rows(min_row=2, values_only=True)] == [
        f"hit-{i:03d}" for i in range(250)]  # the export holds every hit


def test_qa_pages_keep_their_filters_and_htmx_gets_the_list_only(world: World) -> None:
    _store(world, _hits(250))
    dave = world.client("dave")
    base = f"/runs/{world.published}/qa"
    # offsite hits are the odd ones; of those, alice's are those not divisible by 5
    offsite_alice = [i for i in range(250) if i % 2 and i % 5]
    page = dave.get(f"{base}?check=offsite&agent={A}").text
    assert len(offsite_alice) == 100 and _contents(page) == [
        f"hit-{i:03d}" for i in offsite_alice]
    assert "100 行 · 显示第 1–100 行 · 第 1 / 1 页" in page and 'rel="next"' not in page
    forbidden = [i for i in range(250) if i % 2 == 0]
    page = dave.get(f"{base}?check=forbidden").text
    assert "125 行 · 显示第 1–100 行 · 第 1 / 2 页" in page
    nxt = re.search(r'<a href="([^"]+)" hx-get="\1" hx-target="#qa-hits"[^>]*rel="next"', page)
    assert nxt is not None and nxt.group(1) == f"{base}?check=forbidden&amp;page=2"
    part = dave.get(nxt.group(1).replace("&amp;", "&"), headers={"HX-Request": "true"})
    assert part.text.lstrip().startswith('<div id="qa-hits">') and "<html" not in part.text
    assert _contents(part.text) == [f"hit-{i:03d}" for i in forbidden[100:]]
    assert "125 行 · 显示第 101–125 行 · 第 2 / 2 页" in part.text
    assert f'href="{base}?check=forbidden&amp;page=1"' in part.text
    whole = dave.get(nxt.group(1).replace("&amp;", "&"))  # the same address, a whole page
    assert "<html" in whole.text and _contents(whole.text) == _contents(part.text)
    export = re.search(r'href="(/runs/[^"]+/export/qa/hits\.xlsx\?[^"]*)"', part.text)
    assert export is not None and export.group(1).endswith("?check=forbidden")
