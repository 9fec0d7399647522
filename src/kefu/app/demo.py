"""`kefu serve --demo`: the demo shop imported, a user for every role, a published run."""

from __future__ import annotations

import datetime as dt
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from kefu.app import directory, runs, services
from kefu.app.models import Agent, LinkKind, Role, Run, User
from kefu.app.scheme_versions import save_new_scheme

PERIOD = (dt.date(2024, 6, 1), dt.date(2024, 6, 30))
DATA_START, DATA_DAYS = dt.date(2024, 1, 1), 182
"""The demo shop covers January to June, so June's dashboards have a trend to show."""


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    roles: list[Role]
    links: list[str]


def _plan(agents: list[Agent]) -> list[tuple[str, list[Role], list[tuple[LinkKind, str]]]]:
    """Demo users linked to real agents of the demo shop (the largest presale team)."""
    presale = [a for a in agents if a.role == "presale"]
    team = max(sorted({a.team for a in presale}),
               key=lambda t: sum(1 for a in presale if a.team == t))
    first, second = [a for a in presale if a.team == team][:2]
    shops = sorted({a.shop_id for a in agents})
    return [
        ("admin", [Role.admin], []),
        ("director", [Role.director], [(LinkKind.shop, s) for s in shops]),
        ("lead", [Role.lead], [(LinkKind.team, team)]),
        ("qa", [Role.qa], [(LinkKind.shop, s) for s in shops]),
        ("agent", [Role.agent], [(LinkKind.agent, first.agent_id)]),
        ("agent2", [Role.agent], [(LinkKind.agent, second.agent_id)]),
    ]


def setup_demo(factory: sessionmaker[Session], workspace: Path, tz: str,
               runner: runs.Runner, messages: int = 60_000) -> list[DemoLogin]:
    """Idempotent: a second call only prints the logins again."""
    if not services.workspace_agents(workspace):
        with tempfile.TemporaryDirectory() as tmp:
            services.make_demo_shop(Path(tmp), messages=messages, start=DATA_START,
                                    days=DATA_DAYS)
            services.import_uploads(workspace, sorted(Path(tmp).iterdir()), tz)
    logins = []
    with factory() as db, db.begin():
        directory.sync_agents(db, workspace)
        db.flush()
        agents = directory.agents(db)
        for username, roles, links in _plan(agents):
            password = f"{username}-kefu-demo"
            user = db.scalar(select(User).where(User.username == username))
            if user is None:
                user = directory.add_user(db, username, password, roles)
                for kind, value in links:
                    directory.link(db, user, kind, value)
            logins.append(DemoLogin(username, password, roles, [v for _, v in links]))
        if db.scalar(select(Run).limit(1)) is None:
            director = db.scalar(select(User).where(User.username == "director"))
            assert director is not None
            text = services.templates()["presale"]
            name, _ = services.check_scheme(text)
            scheme = save_new_scheme(db, director, name or "presale", text, "presale")
            run = runs.create_draft(db, director, scheme.latest, *PERIOD)
            run_id = run.id
        else:
            run_id = None
    if run_id is not None:  # computed now and published, so every role has a result to see
        runner.submit(run_id)
        runner.wait()
        with factory() as db, db.begin():
            found = db.get(Run, run_id)
            director = db.scalar(select(User).where(User.username == "director"))
            assert found is not None and director is not None
            runs.publish(db, director, found, "demo")
    return logins
