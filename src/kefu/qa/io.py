"""Reading one text column from a csv/xlsx/parquet/jsonl file for ``kefu qa scan``."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

from kefu.qa.api import scan_texts
from kefu.qa.lexicons import Lexicons

_SCAN_BATCH = 50_000


def read_text_column(path: Path, text_column: str) -> list[str | None]:
    """The cells of ``text_column`` as text (None for empty cells), in file order.

    Files are read by kefu.ingest's readers (csv in UTF-8, UTF-8 with BOM or
    GB18030, xlsx, parquet, jsonl), so QA and metrics read exports alike.
    Raises ValueError with the reason for a missing or unreadable file, an
    unsupported format, rows that cannot be split into columns, or a missing
    column.
    """
    from kefu.ingest.errors import IngestError
    from kefu.ingest.readers import read_file

    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no such file")
    try:
        raw = read_file(path)
    except IngestError as exc:
        raise ValueError(str(exc)) from exc
    if raw.errors:
        # Skipping them would shift every later "row" number of the output.
        shown = "; ".join(str(error) for error in raw.errors[:5])
        raise ValueError(f"{path}: {len(raw.errors)} row(s) cannot be read: {shown}")
    if text_column not in raw.columns:
        columns = ", ".join(raw.columns) or "none"
        raise ValueError(f"{path}: no column {text_column!r}; the columns are {columns}")
    return [_as_text(value) for value in raw.columns[text_column].to_pylist()]


def _as_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    return value if isinstance(value, str) else str(value)


def scan_file(
    path: Path, text_column: str, role: str = "agent", lexicons: Lexicons | None = None
) -> Iterator[dict[str, object]]:
    """One scan record per row of ``path`` (``row`` = 0-based row index), in order."""
    if role not in ("agent", "buyer"):
        raise ValueError(f"role must be agent or buyer, not {role!r}")
    texts = read_text_column(path, text_column)
    for first in range(0, len(texts), _SCAN_BATCH):
        batch = texts[first : first + _SCAN_BATCH]
        for offset, record in enumerate(scan_texts(batch, role, lexicons)):
            yield {"row": first + offset, **record}
