"""Browser tests of the dashboards in Debian's chromium: each role's dashboard renders its
ECharts charts (canvas drawn, Chinese labels), a number leads down to a highlighted chat,
and the report card prints to PDF. Screenshots go to $KEFU_SHOTS."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

from tests.app.conftest import ALICE, TEAM, World
from tests.app.test_browser import browser, db_url, server, shots, sign_in  # noqa: F401

A = quote(ALICE, safe="")


def charts_drawn(page: Any) -> int:
    page.wait_for_selector("[data-chart][data-rendered='1']", timeout=15_000)
    page.wait_for_timeout(600)  # the animation, so the screenshot shows the chart
    return int(page.locator("[data-chart][data-rendered='1'] canvas").count())


def test_agent_dashboard_renders_its_trend_and_follows_a_number_to_a_chat(
        browser: Any, server: str, world: World, shots: Path) -> None:  # noqa: F811
    page = sign_in(browser, server, "alice")
    page.goto(f"{server}/runs/{world.published}/agents/{A}")
    assert charts_drawn(page) == 1
    assert "得分明细" in page.inner_text("main") and "趋势" in page.inner_text("main")
    page.screenshot(path=str(shots / "dash-agent.png"), full_page=True)
    page.click("table.breakdown a[href$='/evidence/avg_response_s']")
    page.wait_for_selector("table.evidence")
    page.screenshot(path=str(shots / "dash-evidence.png"), full_page=True)
    page.click("table.evidence a[href*='/chats/']")
    page.wait_for_selector("ol.messages li.msg.agent .rt")
    assert "响应" in page.inner_text("ol.messages")
    page.screenshot(path=str(shots / "dash-chat.png"), full_page=True)
    assert page.errors == []


def test_qa_inspector_opens_a_hit_and_sees_the_span_highlighted(
        browser: Any, server: str, world: World, shots: Path) -> None:  # noqa: F811
    page = sign_in(browser, server, "dave")
    page.goto(f"{server}/runs/{world.published}/qa")
    assert charts_drawn(page) == 1
    page.screenshot(path=str(shots / "dash-qa.png"), full_page=True)
    page.select_option("select[name=check]", "forbidden")
    page.click("form.filters button[type=submit]")
    page.click("table.hits a")
    mark = page.locator("mark.hit.bad[data-check='forbidden']").first
    assert mark.is_visible() and "禁用语" in mark.inner_text()
    page.screenshot(path=str(shots / "dash-chat-hit.png"), full_page=True)
    assert page.errors == []


def test_qa_inspector_pages_through_the_hits_with_htmx(
        browser: Any, server: str, world: World, shots: Path) -> None:  # noqa: F811
    from tests.app.test_page_cache import _hits, _store

    _store(world, _hits(250))
    page = sign_in(browser, server, "dave")
    page.goto(f"{server}/runs/{world.published}/qa?check=forbidden")
    count = page.locator("p.hit-count")
    assert count.inner_text() == "125 行 · 显示第 1–100 行 · 第 1 / 2 页"
    assert page.locator("table.hits tbody tr").count() == 100
    assert charts_drawn(page) == 1
    page.screenshot(path=str(shots / "dash-qa-page1.png"), full_page=False)
    page.click("nav.pager a[rel=next]")  # htmx swaps the list, the address follows
    page.wait_for_url(f"{server}/runs/{world.published}/qa?check=forbidden&page=2")
    assert count.inner_text() == "125 行 · 显示第 101–125 行 · 第 2 / 2 页"
    assert page.locator("table.hits tbody tr").count() == 25
    assert page.locator("table.hits tbody tr").first.inner_text().endswith("hit-200")
    assert page.locator("select[name=check]").input_value() == "forbidden"  # kept
    page.screenshot(path=str(shots / "dash-qa-page2.png"), full_page=True)
    page.click("nav.pager a[rel=prev]")
    page.wait_for_url(f"{server}/runs/{world.published}/qa?check=forbidden&page=1")
    assert count.inner_text().startswith("125 行 · 显示第 1–100 行")
    assert page.errors == []


def test_director_and_lead_dashboards_render_charts_in_chinese_and_english(
        browser: Any, server: str, world: World, shots: Path) -> None:  # noqa: F811
    page = sign_in(browser, server, "gina")
    page.goto(f"{server}/runs/{world.published}/director")
    assert charts_drawn(page) >= 4
    assert "店铺指标" in page.inner_text("main") and "环比" in page.inner_text("main")
    page.screenshot(path=str(shots / "dash-director.png"), full_page=True)
    page.goto(f"{server}/runs/{world.published}/director?lang=en")
    assert charts_drawn(page) >= 4 and "Shop KPIs" in page.inner_text("main")
    page.screenshot(path=str(shots / "dash-director-en.png"), full_page=True)
    with page.expect_download() as png:
        page.click("#chart-totals button[data-png]")
    assert png.value.suggested_filename == "chart-totals.png"
    assert page.errors == []
    lead = sign_in(browser, server, "carol")
    lead.goto(f"{server}/runs/{world.published}/teams/{quote(TEAM)}")
    assert charts_drawn(lead) == 1 and "组员对比" in lead.inner_text("main")
    lead.screenshot(path=str(shots / "dash-lead.png"), full_page=True)


def test_report_card_prints_to_pdf(
        browser: Any, server: str, world: World, shots: Path) -> None:  # noqa: F811
    page = sign_in(browser, server, "alice")
    page.goto(f"{server}/runs/{world.published}/agents/{A}/card")
    assert "绩效考核表" in page.inner_text("body")
    page.screenshot(path=str(shots / "dash-card.png"), full_page=True)
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF") and len(pdf) > 5000
    served = page.context.request.get(f"{server}/runs/{world.published}/agents/{A}/card.pdf")
    assert served.ok and served.body().startswith(b"%PDF")
