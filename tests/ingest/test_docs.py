"""docs/data.md must list every built-in alias and value translation."""

from __future__ import annotations

from pathlib import Path

from kefu.ingest.profile import BUILTIN_COLUMN_ALIASES, BUILTIN_VALUES

DOCS = Path(__file__).resolve().parents[2] / "docs" / "data.md"


def test_every_builtin_alias_and_translation_is_documented() -> None:
    text = DOCS.read_text(encoding="utf-8").lower()
    missing = [alias for alias in BUILTIN_COLUMN_ALIASES if alias not in text]
    for (table, column), mapping in BUILTIN_VALUES.items():
        assert f"`{table}.{column}`" in text
        missing += [raw for raw in mapping if raw not in text]
    assert missing == []
