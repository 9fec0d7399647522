"""Migrations go up and down on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import inspect

from kefu.app import db as appdb
from kefu.app.models import Base


def test_migrations_go_up_and_down(upgraded_engine: Any) -> None:
    appdb.upgrade(upgraded_engine)
    tables = set(inspect(upgraded_engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    appdb.downgrade(upgraded_engine, "base")
    assert set(inspect(upgraded_engine).get_table_names()) <= {"alembic_version"}
    appdb.upgrade(upgraded_engine)
    assert set(Base.metadata.tables) <= set(inspect(upgraded_engine).get_table_names())


def test_models_and_migrations_agree(upgraded_engine: Any) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    appdb.upgrade(upgraded_engine)
    with upgraded_engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
