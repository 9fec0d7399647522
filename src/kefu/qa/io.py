"""Reading one text column from a csv/xlsx/parquet/jsonl file for ``kefu qa scan``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from kefu.qa.api import scan_texts
from kefu.qa.lexicons import Lexicons

CSV_ENCODINGS = ("utf-8-sig", "gb18030")
"""Tried in order: shop exports from Chinese platforms are often GBK/GB18030."""
_SCAN_BATCH = 50_000


def read_text_column(path: Path, text_column: str) -> list[str | None]:
    """The cells of ``text_column`` as text (None for empty cells), in file order.

    Raises ValueError with the reason for an unreadable file, an unknown
    format or a missing column.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".txt", ".tsv", ".xlsx", ".xlsm", ".xls", ".parquet", ".jsonl"):
        raise ValueError(f"{path}: unsupported format {suffix!r} (csv, xlsx, parquet, jsonl)")
    try:
        if suffix in (".csv", ".txt", ".tsv"):
            frame = _read_csv(path, sep="\t" if suffix == ".tsv" else ",")
        elif suffix == ".parquet":
            frame = pd.read_parquet(path)
        elif suffix == ".jsonl":
            frame = pd.read_json(path, lines=True, dtype=False)
        else:
            frame = pd.read_excel(path, dtype=object, engine="calamine")
    except _NotText:
        raise
    except Exception as exc:  # noqa: BLE001 - every reader error means the same to the user
        raise ValueError(f"{path}: cannot read the file ({type(exc).__name__}: {exc})") from exc
    columns = [str(c) for c in frame.columns]
    if text_column not in columns:
        raise ValueError(
            f"{path}: no column {text_column!r}; the columns are {', '.join(columns) or 'none'}"
        )
    values = frame[frame.columns[columns.index(text_column)]].tolist()
    return [_as_text(value) for value in values]


class _NotText(ValueError):
    """A CSV in none of the accepted encodings (its message is already clear)."""


def _read_csv(path: Path, sep: str) -> pd.DataFrame:
    errors: list[str] = []
    for encoding in CSV_ENCODINGS:
        try:
            return pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, encoding=encoding)
        except UnicodeDecodeError as exc:
            errors.append(f"{encoding}: {exc.reason}")
    raise _NotText(f"{path}: not UTF-8 or GB18030 text ({'; '.join(errors)})")


def _as_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value != value:  # NaN: an empty cell
        return None
    if value is pd.NA or value is pd.NaT:
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
