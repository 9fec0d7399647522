"""The audit log: who did what, when, to which object, and why."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from kefu.app.models import AuditEntry, User


def record(
    db: Session,
    user: User | str,
    action: str,
    object_type: str,
    object_id: object,
    detail: dict[str, Any] | None = None,
    reason: str = "",
) -> AuditEntry:
    entry = AuditEntry(
        username=user if isinstance(user, str) else user.username,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        detail=detail or {},
        reason=reason,
    )
    db.add(entry)
    return entry


def entries(
    db: Session, action: str = "", username: str = "", object_type: str = "", limit: int = 500
) -> list[AuditEntry]:
    query: Select[tuple[AuditEntry]] = select(AuditEntry)
    if action:
        query = query.where(AuditEntry.action == action)
    if username:
        query = query.where(AuditEntry.username == username)
    if object_type:
        query = query.where(AuditEntry.object_type == object_type)
    return list(db.scalars(query.order_by(AuditEntry.id.desc()).limit(limit)))
