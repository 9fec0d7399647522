"""A run's stored numbers, parsed once per process and kept (a bounded LRU).

A published (or superseded) run version never changes: its result, trend and QA hits
are parsed from the database once and shared by every request after that. The cache
holds *data only*: every request still cuts it to its user in permissions.py, so
nothing permission-related is ever cached. Drafts (recomputable) are read each time.

The shared dicts and lists are read-only by convention: permissions.py copies a row
before cutting it, and nothing downstream writes into them.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session, defer, lazyload
from sqlalchemy.orm.attributes import set_committed_value

from kefu.app.models import Run, RunStatus

CACHED_RUNS = 16
"""Run versions kept parsed per process (each is a few MB at most: rows, trend, hits)."""

IMMUTABLE = frozenset({RunStatus.published, RunStatus.superseded})
_STORED = ("result", "trend", "qa_hits")


@dataclass(frozen=True)
class Stored:
    """A run's stored JSON, parsed, and the lookups every page makes over it."""

    result: dict[str, Any] | None
    trend: dict[str, Any] | None
    qa_hits: dict[str, Any] | None
    rows: list[dict[str, Any]] = field(default_factory=list)
    """The result's agent rows (read-only)."""
    by_team: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    ranked: int = 0

    @classmethod
    def of(cls, result: dict[str, Any] | None, trend: dict[str, Any] | None,
           qa_hits: dict[str, Any] | None) -> Stored:
        rows = list((result or {}).get("agents") or [])
        by_team: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            by_team.setdefault(row.get("team"), []).append(row)
        ranked = sum(1 for r in rows if r.get("rank") is not None)
        return cls(result, trend, qa_hits, rows, by_team, ranked)


_CACHE: OrderedDict[tuple[Any, ...], Stored] = OrderedDict()
_LOCK = threading.Lock()


def _key(run: Run) -> tuple[Any, ...] | None:
    """(database, id, version, created and published at): None for a run that may still
    change. The database and the instants keep two databases (tests, a restored backup)
    from sharing an entry under the same run id."""
    if run.status not in IMMUTABLE:
        return None
    session = Session.object_session(run)
    bind = str(session.get_bind().engine.url) if session is not None else ""
    return (bind, run.id, run.version, run.created_at, run.published_at)


def _cached(key: tuple[Any, ...]) -> Stored | None:
    with _LOCK:
        found = _CACHE.get(key)
        if found is not None:
            _CACHE.move_to_end(key)
        return found


def _keep(key: tuple[Any, ...], stored: Stored) -> None:
    with _LOCK:
        _CACHE[key] = stored
        _CACHE.move_to_end(key)
        while len(_CACHE) > CACHED_RUNS:
            _CACHE.popitem(last=False)


def load(db: Session, run_id: int) -> Run | None:
    """The run, its stored JSON taken from the cache when this version was parsed before
    (then the database sends and parses none of it)."""
    # the manifest and the scheme are read by few pages: loaded when one asks for them
    run = db.get(Run, run_id, options=[lazyload(Run.scheme_version), defer(Run.manifest),
                                       *[defer(getattr(Run, name)) for name in _STORED]])
    if run is None:
        return None
    key = _key(run)
    found = _cached(key) if key is not None else None
    if found is not None:
        for name in _STORED:
            set_committed_value(run, name, getattr(found, name))
    return run


def of(run: Run) -> Stored:
    """The parsed stored numbers of ``run`` (kept when the run can no longer change)."""
    key = _key(run)
    if key is None:
        return Stored.of(run.result, run.trend, run.qa_hits)
    found = _cached(key)
    if found is None:
        found = Stored.of(run.result, run.trend, run.qa_hits)
        _keep(key, found)
    return found


def clear() -> None:
    with _LOCK:
        _CACHE.clear()
