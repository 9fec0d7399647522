"""Messy cells of platform exports: rows of a CSV/XLSX with preamble and footer lines,
values like ``="1234…"``, ``'0123``, ``-``, ``35.2%``, ``1分30秒`` or ``1 hour 5 minutes``.

Used by the platform profiles (reports, helpdesk tables); the canonical readers
(readers.py) stay strict.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

from kefu.ingest.errors import IngestError
from kefu.ingest.readers import to_utf8, xlsx_cell_text


@dataclass(frozen=True)
class Row:
    line: int
    """Physical line (CSV) or sheet row (XLSX), 1-based."""
    cells: list[str]


def read_rows(path: Path) -> list[Row]:
    """Every non-blank row of a CSV/TSV/TXT or the first sheet of an XLSX, as text cells."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".xlsx":
            from python_calamine import load_workbook

            sheet = load_workbook(str(path)).get_sheet_by_index(0)
            rows = sheet.to_python(skip_empty_area=False)
            return [Row(n, [xlsx_cell_text(c) or "" for c in r])
                    for n, r in enumerate(rows, start=1)
                    if any(c not in (None, "") for c in r)]
        text = to_utf8(path.read_bytes(), path.name).decode("utf-8")
    except IngestError:
        raise
    except Exception as exc:  # calamine and OS errors alike: name the file
        raise IngestError([], f"cannot read {path.name}: {exc}") from exc
    first = text.split("\n", 5)
    tabs, commas = (sum(t.count(c) for t in first) for c in ("\t", ","))
    delimiter = "\t" if tabs > commas else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    out: list[Row] = []
    consumed = 0
    for cells in reader:
        line, consumed = consumed + 1, reader.line_num
        if any(c.strip() for c in cells):
            out.append(Row(line, cells))
    return out


EXCEL_TEXT = re.compile(r'^="(.*)"$')


def header_at(rows: list[Row], column: str, path: Path, profile: str) -> int:
    """The index of the first row that holds ``column`` (title rows above it are skipped)."""
    want = norm_header(column)
    at = next((i for i, r in enumerate(rows) if want in [norm_header(c) for c in r.cells]), None)
    if at is None:
        raise IngestError([], f"{path.name}: no header row with the column {column!r} "
                              f"(profile {profile})")
    return at


def clean_cell(value: str | None, missing: list[str]) -> str | None:
    """Trim; unwrap ``="…"`` (Excel's keep-as-text) and a leading ``'``; missing tokens → None."""
    if value is None:
        return None
    text = value.strip()
    match = EXCEL_TEXT.match(text)
    if match:
        text = match.group(1).strip()
    if text.startswith("'"):
        text = text[1:].strip()
    if text == "" or text in missing:
        return None
    return text


def norm_header(header: str) -> str:
    """Headers compare without surrounding spaces (``"询单转化率 "``), any case."""
    return header.strip().lower()


_DURATION_PARTS = re.compile(
    r"(\d+(?:\.\d+)?)\s*(days?|天|hours?|小时|时|h|minutes?|分钟|分|min|m|seconds?|秒|s)",
    re.IGNORECASE)
_UNIT_SECONDS = {"d": 86400, "天": 86400, "h": 3600, "小": 3600, "时": 3600, "m": 60, "分": 60,
                 "s": 1, "秒": 1}


def duration_seconds(text: str) -> float:
    """``12.5``, ``12.5秒``, ``1分30秒``, ``00:01:30``, ``1 hour 5 minutes`` → seconds."""
    t = text.strip()
    if re.fullmatch(r"\d+(?:\.\d+)?", t):
        return float(t)
    if re.fullmatch(r"\d+:\d{1,2}(?::\d{1,2}(?:\.\d+)?)?", t):
        parts = [float(p) for p in t.split(":")]
        while len(parts) < 3:
            parts.insert(0, 0.0)
        return parts[0] * 3600 + parts[1] * 60 + parts[2]
    total, end = 0.0, 0
    for match in _DURATION_PARTS.finditer(t):
        if t[end:match.start()].strip():
            break
        unit = match.group(2).lower()
        key = "m" if unit.startswith("min") else unit[0]
        total += float(match.group(1)) * _UNIT_SECONDS[key]
        end = match.end()
    if end == 0 or t[end:].strip():
        raise ValueError(f"not a duration: {text!r}")
    return total


def number(text: str, unit: str) -> float:
    """A cleaned cell as a number: ratios 0..1, durations in seconds, money in CNY.

    ``percent`` columns hold percentages: ``35.2%`` and ``35.2`` are both 0.352;
    ``ratio`` columns hold fractions, but ``35.2%`` is still read as 0.352. A plain
    number in a ``minutes`` or ``hours`` column is in that unit; ``1分30秒`` is read
    as written whatever the column's unit.
    """
    t = text.replace(",", "").replace("，", "").strip()
    if unit in ("seconds", "minutes", "hours"):
        if _plain(t):
            return float(t) * {"seconds": 1, "minutes": 60, "hours": 3600}[unit]
        return duration_seconds(t)
    if unit == "cny":
        t = re.sub(r"[¥￥元\s]|CNY|RMB", "", t, flags=re.IGNORECASE)
    if t.endswith("%"):
        return float(t[:-1]) / 100
    value = float(t)
    return value / 100 if unit == "percent" else value


def _plain(text: str) -> bool:
    return re.fullmatch(r"\d+(?:\.\d+)?", text) is not None
