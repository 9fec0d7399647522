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


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    roles: list[Role]
    links: list[str]


def _pick(agents: list[Agent], role: str) -> Agent:
    return next(a for a in agents if a.role == role)


def _plan(agents: list[Agent]) -> list[tuple[str, list[Role], list[tuple[LinkKind, str]]]]:
    """Demo users linked to real agents of the demo shop."""
    presale = _pick(agents, "presale")
    other = next(a for a in agents if a.role == "presale" and a.team == presale.team
                 and a.agent_id != presale.agent_id)
    shops = sorted({a.shop_id for a in agents})
    return [
        ("admin", [Role.admin], []),
        ("director", [Role.director], [(LinkKind.shop, s) for s in shops]),
        ("lead", [Role.lead], [(LinkKind.team, presale.team)]),
        ("qa", [Role.qa], [(LinkKind.shop, s) for s in shops]),
        ("agent", [Role.agent], [(LinkKind.agent, presale.agent_id)]),
        ("agent2", [Role.agent], [(LinkKind.agent, other.agent_id)]),
    ]


def setup_demo(factory: sessionmaker[Session], workspace: Path, tz: str,
               runner: runs.Runner) -> list[DemoLogin]:
    """Idempotent: a second call only prints the logins again."""
    if not (workspace / "agents").exists():
        with tempfile.TemporaryDirectory() as tmp:
            services.make_demo_shop(Path(tmp))
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
