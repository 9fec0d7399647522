"""Row-level ingest errors: every bad row is reported with file, line, column and reason."""

from __future__ import annotations

from dataclasses import dataclass

MAX_SHOWN_ERRORS = 20
MAX_VALUE_CHARS = 80
"""Values are cut in messages: a 10 kB cell must not flood the terminal."""


def shorten(value: str, limit: int = MAX_VALUE_CHARS) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


@dataclass(frozen=True)
class RowError:
    """One bad cell (or row) of an input file.

    ``line`` is the physical line of a CSV / JSON Lines file, the sheet row of an
    XLSX file (header = row 1) or the 1-based row of a Parquet file. ``sheet`` names
    the XLSX sheet when a file was read from several sheets.
    """

    file: str
    line: int
    column: str
    value: str
    reason: str
    sheet: str = ""

    @property
    def where(self) -> str:
        if self.sheet:
            return f"{self.file}: sheet {self.sheet!r} row {self.line}"
        # Parquet has rows, not lines; "file:N:" would point an editor at a binary file.
        if self.file.endswith(".parquet"):
            return f"{self.file}: row {self.line}"
        return f"{self.file}:{self.line}"

    def __str__(self) -> str:
        column = f"column {self.column!r}: " if self.column else ""
        value = f" (value {shorten(self.value)!r})" if self.value else ""
        return f"{self.where}: {column}{self.reason}{value}"


class IngestError(Exception):
    """Raised when input has bad rows (and skipping was not asked) or cannot be read.

    Nothing is loaded when this is raised.
    """

    def __init__(self, errors: list[RowError], message: str | None = None) -> None:
        self.errors = errors
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        if self.message is not None:
            return self.message
        rows = {(e.file, e.sheet, e.line) for e in self.errors}
        files = {e.file for e in self.errors}
        lines = [
            f"{len(rows)} bad rows in {len(files)} files; nothing was loaded "
            "(use --skip-bad-rows to load the good rows)"
        ]
        lines += [str(e) for e in self.errors[:MAX_SHOWN_ERRORS]]
        if len(self.errors) > MAX_SHOWN_ERRORS:
            lines.append(f"… and {len(self.errors) - MAX_SHOWN_ERRORS} more")
        return "\n".join(lines)
