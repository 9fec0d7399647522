"""Sign-in, sessions, CSRF, throttling and the security headers."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from kefu.app.models import WebSession
from kefu.app.settings import Settings, SettingsError
from tests.app.conftest import PASSWORD, World


def test_pages_need_a_signed_in_user(world: World) -> None:
    anonymous = world.client()
    response = anonymous.get(f"/runs/{world.published}", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
    assert anonymous.get("/api/runs").status_code == 401


def test_a_wrong_password_is_refused(world: World) -> None:
    client = world.client()
    response = client.sign_in("alice", "wrong password")
    assert response.status_code == 400 and "用户名或密码错误" in response.text


def test_sign_in_is_throttled_after_five_failures(world: World) -> None:
    client = world.client()
    for _ in range(5):
        assert client.sign_in("alice", "wrong password").status_code == 400
    # even the right password waits now
    response = client.sign_in("alice", PASSWORD)
    assert response.status_code == 429 and "登录失败次数过多" in response.text
    assert world.client().sign_in("bob").status_code == 303  # other users are not locked


def test_sign_in_form_needs_its_csrf_token(world: World) -> None:
    client = world.client()
    client.get("/login")
    response = client.http.post("/login", data={"username": "alice", "password": PASSWORD,
                                                "csrf_token": "forged"})
    assert response.status_code == 403


def test_forms_and_htmx_requests_need_the_session_csrf_token(world: World) -> None:
    gina = world.client("gina")
    assert gina.post(f"/runs/{world.draft}/publish", csrf=False).status_code == 403
    forged = gina.post(f"/runs/{world.draft}/publish", {"csrf_token": "x"}, csrf=False)
    assert forged.status_code == 403
    via_header = gina.http.post(f"/runs/{world.draft}/publish",
                                headers={"X-CSRF-Token": gina.csrf, "HX-Request": "true"},
                                follow_redirects=False)
    assert via_header.status_code == 303


def test_sessions_expire(world: World) -> None:
    alice = world.client("alice")
    assert alice.get("/").status_code == 200
    with world.app.state.db() as db, db.begin():
        for row in db.query(WebSession):
            row.expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    assert alice.get("/", follow_redirects=False).status_code == 303


def test_sign_out_ends_the_session(world: World) -> None:
    alice = world.client("alice")
    assert alice.post("/logout").status_code == 303
    assert alice.get("/", follow_redirects=False).status_code == 303


def test_a_disabled_user_is_signed_out(world: World) -> None:
    alice = world.client("alice")
    from kefu.app import directory

    with world.app.state.db() as db, db.begin():
        directory.find_user(db, "alice").active = False
    assert alice.get("/", follow_redirects=False).status_code == 303
    assert world.client().sign_in("alice").status_code == 400


def test_security_headers_forbid_inline_scripts_and_frames(world: World) -> None:
    response = world.client("alice").get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp and response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    # no inline <script> in any page: every script has a src
    assert all("src=" in tag for tag in re.findall(r"<script[^>]*>", response.text))


def test_session_cookie_is_http_only(world: World) -> None:
    response = world.client().sign_in("alice")
    cookie = response.headers["set-cookie"]
    assert "kefu_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie


def test_next_never_leaves_the_site(world: World) -> None:
    client = world.client()
    page = client.get("/login", params={"next": "//evil.example/x"})
    assert 'name="next" value="/"' in page.text


def test_default_secret_is_refused_outside_demo_mode(tmp_path: object) -> None:
    with pytest.raises(SettingsError, match="KEFU_SECRET_KEY"):
        Settings(demo=False, secret_key=None).check_serving()
    Settings(demo=True).check_serving()
    Settings(secret_key="s3cret-of-this-install").check_serving()


def test_english_switch(world: World) -> None:
    alice = world.client("alice")
    page = alice.get("/", params={"lang": "en"})
    assert "Evaluation runs" in page.text and "kefu_lang=en" in page.headers["set-cookie"]
    assert "Evaluation runs" in alice.get("/").text  # remembered
    assert "考核批次" in alice.get("/", params={"lang": "zh"}).text


def test_static_htmx_is_served_by_the_app(world: World) -> None:
    response = world.client().get("/static/vendor/htmx-2.0.11.min.js")
    assert response.status_code == 200 and "htmx" in response.text[:200]
