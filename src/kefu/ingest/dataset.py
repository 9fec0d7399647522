"""A loaded, validated set of canonical tables (see schema.py for the column types)."""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa


@dataclass
class Dataset:
    """The canonical tables of one shop (or several), typed as schema.py describes.

    ``agents`` and ``messages`` are always present; a table whose file was not
    given is ``None`` (metrics that need it are then null, never 0).
    """

    agents: pa.Table
    messages: pa.Table
    orders: pa.Table | None = None
    ratings: pa.Table | None = None
    cases: pa.Table | None = None
    sessions: pa.Table | None = None
    shifts: pa.Table | None = None
    tz: str = "Asia/Shanghai"

    def table(self, name: str) -> pa.Table | None:
        value: pa.Table | None = getattr(self, name)
        return value
