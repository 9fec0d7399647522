"""Browser tests: Playwright driving Debian's chromium against a live server.

Each role signs in and sees what app.md allows; the director uploads a bad file,
starts a run, publishes it and finds it in the audit log. Screenshots go to
$KEFU_SHOTS (default: the test's tmp folder) for a person to look at.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.app.conftest import ALICE, BOB, PASSWORD, World

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
if not Path(CHROMIUM).exists():
    pytest.skip("Debian's chromium is not installed (apt-get install chromium)",
                allow_module_level=True)


@pytest.fixture(params=["sqlite"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    # the browser suite runs on SQLite; the HTTP suite covers PostgreSQL
    yield f"sqlite:///{tmp_path / 'app.sqlite3'}"


@pytest.fixture
def server(world: World) -> Iterator[str]:
    import uvicorn

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = uvicorn.Config(world.app, host="127.0.0.1", port=port, log_level="warning")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("KEFU_SHOTS", tmp_path / "shots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM,
                                     args=["--no-sandbox", "--disable-gpu"])
        yield chromium
        chromium.close()


def sign_in(browser: Any, server: str, username: str) -> Any:
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.errors = errors
    page.goto(f"{server}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{server}/")
    return page


@pytest.mark.parametrize("username", ["alice", "carol", "dave", "gina", "frank"])
def test_each_role_signs_in_and_sees_its_run_page(browser: Any, server: str, world: World,
                                                  shots: Path, username: str) -> None:
    page = sign_in(browser, server, username)
    page.screenshot(path=str(shots / f"home-{username}.png"), full_page=True)
    page.goto(f"{server}/runs/{world.published}")
    page.screenshot(path=str(shots / f"run-{username}.png"), full_page=True)
    text = page.inner_text("main")
    if username == "alice":
        assert ALICE in text and BOB not in text and "你的排名" in text
    elif username == "carol":
        assert ALICE in text and BOB in text and "薪酬" not in text
    elif username == "dave":
        assert "专卖店:糖糖" in text and "薪酬" not in text
    elif username == "gina":
        assert "薪酬合计" in text
    else:
        assert "管理员不查看考核结果" in text
        page.goto(f"{server}/admin/users")
        page.screenshot(path=str(shots / "users-frank.png"), full_page=True)
        assert ALICE in page.inner_text("table.users")
    assert page.errors == []  # no CSP violation, no script error


def test_agent_reads_own_breakdown_in_english(browser: Any, server: str, world: World,
                                              shots: Path) -> None:
    page = sign_in(browser, server, "alice")
    page.goto(f"{server}/runs/{world.published}")
    page.click(f"text={ALICE.split(':')[1]}")
    page.wait_for_selector("table.breakdown")
    page.screenshot(path=str(shots / "agent-alice-zh.png"), full_page=True)
    page.click("text=English")
    page.wait_for_selector("text=Score breakdown")
    page.screenshot(path=str(shots / "agent-alice-en.png"), full_page=True)
    assert "Contribution" in page.inner_text("table.breakdown")


def test_director_uploads_runs_publishes_and_audits(browser: Any, server: str, world: World,
                                                    shots: Path, tmp_path: Path) -> None:
    page = sign_in(browser, server, "gina")
    bad = tmp_path / "orders.csv"
    bad.write_text(
        "order_id,shop_id,buyer_id,created_at,paid_at,amount,status,agent_id\n"
        "o2,旗舰店,b2,2024-06-03 11:00:00,,abc,created,旗舰店:小美\n", encoding="utf-8")
    page.goto(f"{server}/uploads")
    page.set_input_files("input[type=file]", str(bad))
    page.click("form[data-progress] button[type=submit]")
    page.wait_for_selector("table.bad-rows")
    page.screenshot(path=str(shots / "upload-bad-row.png"), full_page=True)
    assert "amount" in page.inner_text("table.bad-rows")
    # the browser logs the refused upload's 422 as a failed resource; nothing else may fail
    page.errors.clear()

    page.goto(f"{server}/runs/new")
    page.click("form[action='/runs'] button[type=submit]")
    page.wait_for_selector(".status-box")
    page.screenshot(path=str(shots / "run-computing.png"), full_page=True)
    page.wait_for_selector("text=锁定发布", timeout=120_000)  # htmx refreshes when computed
    page.screenshot(path=str(shots / "run-draft.png"), full_page=True)
    page.fill("form[action$='/publish'] input[name=reason]", "六月考核")
    page.click("text=锁定发布")
    page.wait_for_selector(".status.published")
    page.screenshot(path=str(shots / "run-published.png"), full_page=True)

    page.goto(f"{server}/audit?action=run.publish")
    page.screenshot(path=str(shots / "audit.png"), full_page=True)
    assert "六月考核" in page.inner_text("table.audit")
    assert page.errors == []


def test_director_edits_a_scheme_and_sees_the_error_line(browser: Any, server: str,
                                                         world: World, shots: Path) -> None:
    page = sign_in(browser, server, "gina")
    page.goto(f"{server}/schemes/1")
    text = page.input_value("textarea")
    page.fill("textarea", text.replace("target: 0.30", "target: lots", 1))
    page.click("text=检查")
    page.wait_for_selector("table.problems")
    page.screenshot(path=str(shots / "scheme-error.png"), full_page=True)
    assert "target" in page.inner_text("table.problems")
