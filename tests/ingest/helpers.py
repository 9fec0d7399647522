"""Small hand-made exports shared by the ingest tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from kefu.ingest import IngestError, LoadResult, RowError, load_dir

AGENTS_CSV = """agent_id,name,shop_id,team,role
旗舰店:小美,小美,旗舰店,售前一组,presale
旗舰店:小王,小王,旗舰店,售后组,aftersale
"""

MESSAGES_HEADER = "agent_id,buyer_id,sender,sent_at,content\n"


def write(folder: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))
    return path


def shop(folder: Path, messages: str, **others: str) -> Path:
    """A folder with the standard agents, the given messages CSV body and other tables."""
    write(folder, "agents.csv", AGENTS_CSV)
    write(folder, "messages.csv", messages)
    for table, text in others.items():
        write(folder, f"{table}.csv", text)
    return folder


def load_errors(folder: Path, **kwargs: object) -> list[RowError]:
    """The errors of a folder that must not load."""
    with pytest.raises(IngestError) as caught:
        load_dir(folder, **kwargs)  # type: ignore[arg-type]
    message = str(caught.value)
    assert "nothing was loaded" in message
    for error in caught.value.errors[:20]:
        # The message names file, line and column of every (shown) bad cell.
        assert str(error) in message
        assert error.column == "" or f"column {error.column!r}" in str(error)
    return caught.value.errors


def only_error(folder: Path) -> RowError:
    errors = load_errors(folder)
    assert len(errors) == 1, [str(e) for e in errors]
    return errors[0]


def where(error: RowError) -> tuple[str, int, str]:
    return error.file, error.line, error.column


def rows(result: LoadResult, table: str, *columns: str) -> list[tuple[object, ...]]:
    data = result.dataset.table(table)
    assert data is not None
    picked = data.select(list(columns)).to_pylist()
    return [tuple(r[c] for c in columns) for r in picked]
