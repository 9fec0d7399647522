"""Engine, sessions and migrations of the app database (SQLite by default, PostgreSQL by URL)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).parent / "migrations"


SQLITE_POOL = 40
"""SQLite connections kept open per process: one per request thread (anyio's default
limit is 40). SQLAlchemy's default keeps 5 and opens up to 10 more, which under many
clients opened and closed a connection (two PRAGMAs, the schema read again, an empty
page cache) on most requests, or made the request wait for one."""


def make_engine(url: str) -> Engine:
    kwargs: dict[str, Any] = {}
    if url.startswith("sqlite"):
        # the background runner writes from another thread
        kwargs["connect_args"] = {"check_same_thread": False}
        if ":memory:" not in url and url.rstrip("/") != "sqlite:":
            kwargs.update(pool_size=SQLITE_POOL, max_overflow=SQLITE_POOL)
    engine = create_engine(url, **kwargs)
    if url.startswith("sqlite"):

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.close()

    return engine


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    with factory() as db, db.begin():
        yield db


def _alembic_config(engine: Engine) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the database up (creates it on first use)."""
    from alembic import command

    command.upgrade(_alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str = "base") -> None:
    from alembic import command

    command.downgrade(_alembic_config(engine), revision)
