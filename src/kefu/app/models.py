"""What people create: users and their roles and links, schemes, runs, the audit log.

Facts and metrics stay in the workspace; ``agents`` here is only the directory the
admin links users to (copied from the imported agents table).
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Role(StrEnum):
    agent = "agent"
    lead = "lead"
    qa = "qa"
    director = "director"
    admin = "admin"


class LinkKind(StrEnum):
    agent = "agent"  # an agent account (agent_id) the user works as
    team = "team"  # a team the user leads
    shop = "shop"  # a shop the user directs or inspects


class RunStatus(StrEnum):
    computing = "computing"
    failed = "failed"
    draft = "draft"
    published = "published"
    superseded = "superseded"


class Base(DeclarativeBase):
    type_annotation_map = {dt.datetime: DateTime(timezone=True), dict[str, Any]: JSON}


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(300))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=now)
    roles: Mapped[list[UserRole]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )
    links: Mapped[list[UserLink]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )

    def has(self, role: Role) -> bool:
        return any(r.role == role for r in self.roles)

    def linked(self, kind: LinkKind) -> set[str]:
        return {link.value for link in self.links if link.kind == kind}


class UserRole(Base):
    __tablename__ = "user_roles"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         primary_key=True)
    role: Mapped[str] = mapped_column(String(20), primary_key=True)


class UserLink(Base):
    __tablename__ = "user_links"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         primary_key=True)
    kind: Mapped[str] = mapped_column(String(10), primary_key=True)
    value: Mapped[str] = mapped_column(String(200), primary_key=True)


class Agent(Base):
    __tablename__ = "agents"
    agent_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    shop_id: Mapped[str] = mapped_column(String(200), default="")
    team: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(50), default="")


class WebSession(Base):
    __tablename__ = "web_sessions"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=now)
    expires_at: Mapped[dt.datetime]


class LoginAttempt(Base):
    __tablename__ = "login_attempts"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(100), index=True)
    ip: Mapped[str] = mapped_column(String(64), default="")
    ok: Mapped[bool]
    at: Mapped[dt.datetime] = mapped_column(default=now, index=True)


class Scheme(Base):
    __tablename__ = "schemes"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    template: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=now)
    versions: Mapped[list[SchemeVersion]] = relationship(
        order_by="SchemeVersion.version", lazy="selectin", back_populates="scheme"
    )

    @property
    def latest(self) -> SchemeVersion:
        return self.versions[-1]


class SchemeVersion(Base):
    __tablename__ = "scheme_versions"
    __table_args__ = (UniqueConstraint("scheme_id", "version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    scheme_id: Mapped[int] = mapped_column(ForeignKey("schemes.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    yaml_text: Mapped[str] = mapped_column(Text)
    note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=now)
    scheme: Mapped[Scheme] = relationship(back_populates="versions", lazy="joined")


class Run(Base):
    """One version of an evaluation run; ``series`` groups the versions of one run."""

    __tablename__ = "runs"
    __table_args__ = (UniqueConstraint("series", "version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    series: Mapped[int] = mapped_column(Integer, index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    start: Mapped[dt.date]
    end: Mapped[dt.date]
    scheme_version_id: Mapped[int] = mapped_column(ForeignKey("scheme_versions.id"))
    status: Mapped[str] = mapped_column(String(20), default=RunStatus.computing)
    progress: Mapped[int] = mapped_column(Integer, default=0)
    message: Mapped[str] = mapped_column(Text, default="")
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    manifest: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    trend: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    """Totals and metrics of the periods before (services.trend_periods), for dashboards."""
    qa_hits: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    """The automatic-check hits of the run's period (services.Computed.qa_hits), for the QA page."""
    reason: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=now)
    published_by: Mapped[str] = mapped_column(String(100), default="")
    published_at: Mapped[dt.datetime | None] = mapped_column(nullable=True)
    scheme_version: Mapped[SchemeVersion] = relationship(lazy="joined")


class AuditEntry(Base):
    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(default=now, index=True)
    username: Mapped[str] = mapped_column(String(100), default="", index=True)
    action: Mapped[str] = mapped_column(String(50), index=True)
    object_type: Mapped[str] = mapped_column(String(50), default="")
    object_id: Mapped[str] = mapped_column(String(100), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    reason: Mapped[str] = mapped_column(Text, default="")
