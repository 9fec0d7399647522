"""Row-level ingest errors: every bad row is reported with file, line, column and reason."""

from __future__ import annotations

from dataclasses import dataclass

MAX_SHOWN_ERRORS = 20


@dataclass(frozen=True)
class RowError:
    """One bad cell (or row) of an input file.

    ``line`` is the physical line of a CSV / JSON Lines file, the sheet row of an
    XLSX file (header = row 1) or the 1-based row of a Parquet file.
    """

    file: str
    line: int
    column: str
    value: str
    reason: str

    def __str__(self) -> str:
        # Parquet has rows, not lines; "file:N:" would point an editor at a binary file.
        where = f"{self.file}: row {self.line}" if self.file.endswith(".parquet") else (
            f"{self.file}:{self.line}"
        )
        return f"{where}: column {self.column!r}: {self.reason} (value {self.value!r})"


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
        rows = {(e.file, e.line) for e in self.errors}
        files = {e.file for e in self.errors}
        lines = [
            f"{len(rows)} bad rows in {len(files)} files; nothing was loaded "
            "(use --skip-bad-rows to load the good rows)"
        ]
        lines += [str(e) for e in self.errors[:MAX_SHOWN_ERRORS]]
        if len(self.errors) > MAX_SHOWN_ERRORS:
            lines.append(f"… and {len(self.errors) - MAX_SHOWN_ERRORS} more")
        return "\n".join(lines)
