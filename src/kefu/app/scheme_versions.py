"""Schemes and their versions in the app database: every saved version is kept."""

from __future__ import annotations

from sqlalchemy.orm import Session

from kefu.app import audit
from kefu.app.models import Scheme, SchemeVersion, User


def save_new_scheme(db: Session, user: User | str, name: str, text: str,
                    template: str = "") -> Scheme:
    scheme = Scheme(name=name, template=template)
    db.add(scheme)
    db.flush()
    version = SchemeVersion(scheme_id=scheme.id, version=1, yaml_text=text,
                            created_by=user if isinstance(user, str) else user.username)
    db.add(version)
    db.flush()
    db.refresh(scheme)
    audit.record(db, user, "scheme.create", "scheme", scheme.id, {"name": name, "version": 1})
    return scheme
