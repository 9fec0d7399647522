"""`kefu users …` from the command line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kefu.cli import app


@pytest.fixture
def env(db_url: str, workspace: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KEFU_DATABASE_URL", db_url)
    monkeypatch.setenv("KEFU_WORKSPACE", str(workspace))
    return workspace


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def test_users_add_list_disable_and_reset_password(env: Path) -> None:
    code, out = run("users", "add", "xiaomei", "--role", "agent", "--agent", "旗舰店:小美")
    assert code == 0, out
    assert re.search(r"added xiaomei \(agent\): \S{12,}", out)
    code, out = run("users", "add", "lead1", "--role", "lead", "--team", "售前一组",
                    "--password", "a-long-password")
    assert code == 0 and out.strip() == "added lead1 (lead)"
    code, out = run("users", "list")
    assert out.splitlines() == ["lead1\tlead\tteam:售前一组", "xiaomei\tagent\tagent:旗舰店:小美"]
    code, out = run("users", "disable", "xiaomei")
    assert code == 0 and "disabled" in out
    assert "xiaomei (disabled)" in run("users", "list")[1]
    code, out = run("users", "reset-password", "lead1", "--password", "another-password")
    assert code == 0 and out.strip() == "lead1: password changed"


def test_users_add_refuses_links_not_in_the_data(env: Path) -> None:
    code, out = run("users", "add", "x", "--role", "agent", "--agent", "没有:这个人",
                    "--password", "a-long-password")
    assert code == 2 and "没有:这个人" in out
    assert run("users", "list")[1] == ""  # nothing half-created


def test_users_add_refuses_an_unknown_role(env: Path) -> None:
    code, out = run("users", "add", "x", "--role", "boss", "--password", "a-long-password")
    assert code == 2 and "boss" in out


def test_serve_refuses_the_default_secret_outside_demo(env: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KEFU_SECRET_KEY", raising=False)
    monkeypatch.delenv("KEFU_DEMO", raising=False)
    code, out = run("serve")
    assert code == 2 and "KEFU_SECRET_KEY" in out
