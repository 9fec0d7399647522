"""`kefu serve --demo` (make serve): the demo shop, a user for every role, a published run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kefu.app.demo import setup_demo
from kefu.app.main import create_app
from kefu.app.models import Role, Run
from kefu.app.settings import Settings
from tests.app.conftest import Client


@pytest.fixture
def demo_app(tmp_path: Path) -> Any:
    settings = Settings(workspace=tmp_path / "demo-workspace", demo=True)
    app = create_app(settings)
    yield app
    app.state.runner.shutdown()
    app.state.engine.dispose()


def test_demo_gives_every_role_a_login_and_a_published_run(demo_app: Any) -> None:
    from fastapi.testclient import TestClient

    state = demo_app.state
    logins = setup_demo(state.db, state.settings.workspace, "Asia/Shanghai", state.runner,
                        messages=6000)
    assert {r for login in logins for r in login.roles} == set(Role)
    assert str(state.settings.db_url).endswith("demo-workspace-app.sqlite3")
    with state.db() as db:
        runs = db.query(Run).all()
        assert [(r.status, r.version) for r in runs] == [("published", 1)]
    seen = {}
    for login in logins:
        client = Client(TestClient(demo_app))
        assert client.sign_in(login.username, login.password).status_code == 303
        seen[login.username] = client.get(f"/api/runs/{runs[0].id}").json()["agents"]
    assert [a["agent_id"] for a in seen["agent"]] == login_links(logins, "agent")
    assert "pay" in seen["agent"][0] and all("pay" not in a for a in seen["lead"])
    assert len(seen["lead"]) >= 2 and seen["admin"] == []
    assert len(seen["director"]) == len(seen["qa"]) > len(seen["lead"])
    # a second start only prints the logins again
    again = setup_demo(state.db, state.settings.workspace, "Asia/Shanghai", state.runner)
    assert again == logins
    with state.db() as db:
        assert db.query(Run).count() == 1


def login_links(logins: list[Any], username: str) -> list[str]:
    return next(login.links for login in logins if login.username == username)
