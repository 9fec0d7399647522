"""Fixtures of the app tests: a small demo workspace, the app on SQLite or PostgreSQL,
and named users (healthchecks style) so every permission test reads as a sentence.

alice  agent 旗舰店:小美 (售前一组)        bob    agent 旗舰店:小雪 (售前一组, alice's teammate)
carol  lead of 售前一组                   dave   QA inspector, both shops
erin   director of 旗舰店 only            frank  admin
gina   director of both shops
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi", reason="the web app's extra is not installed (pip install .[app])")

from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

from kefu.app import db as appdb  # noqa: E402
from kefu.app import directory  # noqa: E402
from kefu.app.main import create_app  # noqa: E402
from kefu.app.models import LinkKind, Role, Run, RunStatus  # noqa: E402
from kefu.app.scheme_versions import save_new_scheme  # noqa: E402
from kefu.app.settings import Settings  # noqa: E402

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
START, END = dt.date(2024, 6, 1), dt.date(2024, 6, 30)
PASSWORD = "correct horse battery"
ALICE, BOB = "旗舰店:小美", "旗舰店:小雪"
TEAM = "售前一组"

USERS: dict[str, tuple[list[Role], list[tuple[LinkKind, str]]]] = {
    "alice": ([Role.agent], [(LinkKind.agent, ALICE)]),
    "bob": ([Role.agent], [(LinkKind.agent, BOB)]),
    "carol": ([Role.lead], [(LinkKind.team, TEAM)]),
    "dave": ([Role.qa], [(LinkKind.shop, "旗舰店"), (LinkKind.shop, "专卖店")]),
    "erin": ([Role.director], [(LinkKind.shop, "旗舰店")]),
    "frank": ([Role.admin], []),
    "gina": ([Role.director], [(LinkKind.shop, "旗舰店"), (LinkKind.shop, "专卖店")]),
}


@pytest.fixture(autouse=True, scope="session")
def _cheap_argon2() -> Iterator[None]:
    """argon2id still, with light parameters: the tests hash dozens of passwords."""
    from pwdlib import PasswordHash
    from pwdlib.hashers.argon2 import Argon2Hasher

    from kefu.app import security

    real = security._hasher
    security._hasher = PasswordHash((Argon2Hasher(time_cost=1, memory_cost=1024,
                                                  parallelism=1),))
    yield
    security._hasher = real


@pytest.fixture(scope="session")
def demo_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from kefu.demo import DemoConfig, generate

    out = tmp_path_factory.mktemp("demo-shop")
    generate(out, DemoConfig(messages=6000, agents=8))
    return out


@pytest.fixture(scope="session")
def demo_workspace(demo_files: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from kefu.store import Workspace

    ws = tmp_path_factory.mktemp("ws") / "workspace"
    Workspace(ws).import_files(sorted(demo_files.iterdir()))
    return ws


@pytest.fixture(scope="session")
def evaluation(demo_workspace: Path) -> dict[str, Any]:
    """What `kefu evaluate --scheme presale` gives on the same data (manifest aside)."""
    from kefu.analysis import Analysis

    with Analysis(demo_workspace) as analysis:
        result: dict[str, Any] = analysis.evaluate("presale", START, END).to_json_dict()
    result.pop("manifest")
    return result


@pytest.fixture(scope="session")
def trend(demo_workspace: Path) -> dict[str, Any]:
    """The trend a computed run stores (services.trend_of on the same data)."""
    from kefu.app import services

    return services.trend_of(demo_workspace, services.templates()["presale"], START, END,
                             "Asia/Shanghai")


def _pg_reachable() -> str | None:
    try:
        engine = create_engine(PG_URL)
        with engine.connect():
            pass
        engine.dispose()
    except Exception as exc:  # any failure to connect means: skip, saying why
        return f"PostgreSQL not reachable at {PG_URL}: {exc.__class__.__name__}"
    return None


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'app.sqlite3'}"
        return
    reason = _pg_reachable()
    if reason:
        pytest.skip(reason)
    # a schema of its own: tests of other checkouts may share the database
    schema = f"kefu_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def workspace(demo_workspace: Path, tmp_path: Path) -> Path:
    """A copy of the demo workspace that a test may change (uploads)."""
    ws = tmp_path / "workspace"
    shutil.copytree(demo_workspace, ws)
    return ws


@pytest.fixture
def app(db_url: str, workspace: Path) -> Iterator[Any]:
    application = create_app(Settings(workspace=workspace, database_url=db_url, demo=True,
                                      secret_key="test-secret"))
    yield application
    application.state.runner.shutdown()
    application.state.engine.dispose()


@dataclass
class World:
    app: Any
    published: int
    """A published run of the presale scheme (the evaluation stored as it is)."""
    draft: int

    def client(self, username: str | None = None) -> Client:
        client = Client(TestClient(self.app))
        if username:
            client.sign_in(username)
        return client


class Client:
    """A browser of one user: signs in, keeps cookies, adds the CSRF token to posts."""

    def __init__(self, http: TestClient) -> None:
        self.http = http
        self.csrf = ""

    def sign_in(self, username: str, password: str = PASSWORD) -> Any:
        page = self.http.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token is not None
        response = self.http.post("/login", data={
            "username": username, "password": password, "csrf_token": token.group(1)},
            follow_redirects=False)
        if response.status_code == 303:
            home = self.http.get("/")
            found = re.search(r'"X-CSRF-Token": "([^"]+)"', home.text)
            assert found is not None
            self.csrf = found.group(1)
        return response

    def get(self, path: str, **kw: Any) -> Any:
        return self.http.get(path, **kw)

    def post(self, path: str, data: dict[str, Any] | None = None, csrf: bool = True,
             **kw: Any) -> Any:
        data = dict(data or {})
        if csrf:
            data["csrf_token"] = self.csrf
        kw.setdefault("follow_redirects", False)
        return self.http.post(path, data=data, **kw)


@pytest.fixture
def world(app: Any, workspace: Path, evaluation: dict[str, Any],
          trend: dict[str, Any]) -> World:
    from kefu.app import services

    factory = app.state.db
    with factory() as db, db.begin():
        directory.sync_agents(db, workspace)
        db.flush()
        for name, (roles, links) in USERS.items():
            user = directory.add_user(db, name, PASSWORD, roles)
            for kind, value in links:
                directory.link(db, user, kind, value)
        text_ = services.templates()["presale"]
        scheme = save_new_scheme(db, "gina", "presale", text_, "presale")
        published = Run(series=1, version=1, start=START, end=END,
                        scheme_version_id=scheme.latest.id, status=RunStatus.published,
                        progress=100, result=evaluation, trend=trend, created_by="gina",
                        published_by="gina")
        draft = Run(series=2, version=1, start=START, end=END,
                    scheme_version_id=scheme.latest.id, status=RunStatus.draft, progress=100,
                    result=evaluation, trend=trend, created_by="gina")
        db.add_all([published, draft])
        db.flush()
        ids = published.id, draft.id
    return World(app, *ids)


def row_of(evaluation: dict[str, Any], agent_id: str) -> dict[str, Any]:
    return next(a for a in evaluation["agents"] if a["agent_id"] == agent_id)


@pytest.fixture
def upgraded_engine(db_url: str) -> Iterator[Any]:
    engine = appdb.make_engine(db_url)
    yield engine
    engine.dispose()
