"""The agent directory (agents, teams, shops from the data) and user accounts."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.app import services
from kefu.app.models import Agent, LinkKind, Role, User, UserLink, UserRole
from kefu.app.security import hash_password


def sync_agents(db: Session, workspace: Path) -> int:
    """Copy the workspace's agents into the directory; returns how many there are."""
    rows = services.workspace_agents(workspace)
    for row in rows:
        agent = db.get(Agent, row["agent_id"]) or Agent(agent_id=row["agent_id"])
        agent.name, agent.shop_id, agent.team, agent.role = (
            row["name"], row["shop_id"], row["team"], row["role"])
        db.add(agent)
    return len(rows)


def agents(db: Session) -> list[Agent]:
    return list(db.scalars(select(Agent).order_by(Agent.shop_id, Agent.team, Agent.agent_id)))


def teams(db: Session) -> list[str]:
    return sorted({a.team for a in agents(db) if a.team})


def shops(db: Session) -> list[str]:
    return sorted({a.shop_id for a in agents(db) if a.shop_id})


class UserError(ValueError):
    pass


def add_user(db: Session, username: str, password: str, roles: list[Role],
             display_name: str = "") -> User:
    if db.scalar(select(User).where(User.username == username)) is not None:
        raise UserError(f"user {username} exists")
    if len(password) < 8:
        raise UserError("a password has at least 8 characters")
    user = User(username=username, display_name=display_name or username,
                password_hash=hash_password(password))
    user.roles = [UserRole(role=r.value) for r in roles]
    db.add(user)
    db.flush()
    return user


def link(db: Session, user: User, kind: LinkKind, value: str) -> None:
    known = {LinkKind.agent: {a.agent_id for a in agents(db)},
             LinkKind.team: set(teams(db)), LinkKind.shop: set(shops(db))}[kind]
    if value not in known:
        raise UserError(f"no {kind.value} {value!r} in the imported data")
    if value not in user.linked(kind):
        user.links.append(UserLink(kind=kind.value, value=value))


def unlink(user: User, kind: LinkKind, value: str) -> None:
    user.links = [k for k in user.links if not (k.kind == kind and k.value == value)]


def find_user(db: Session, username: str) -> User:
    user = db.scalar(select(User).where(User.username == username))
    if user is None:
        raise UserError(f"no user {username}")
    return user
