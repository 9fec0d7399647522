"""Every analysis option and setting is documented (docs/analysis.md)."""

from __future__ import annotations

from pathlib import Path

from kefu.config import AnalysisFields, Settings

DOCS = Path(__file__).resolve().parents[2] / "docs" / "analysis.md"


def test_every_option_has_a_row_with_its_flag_and_default() -> None:
    text = DOCS.read_text(encoding="utf-8")
    for name, field in AnalysisFields.model_fields.items():
        flag = "--" + name.replace("_", "-")
        row = next((line for line in text.splitlines() if line.startswith(f"| {name} |")), None)
        assert row is not None, f"docs/analysis.md has no row for {name}"
        assert flag in row, name
        default = field.default
        shown = "none" if default in (None, ()) else str(default)
        if isinstance(default, bool):
            shown = "on" if default else "off"
        assert f"| {shown} |" in row, (name, shown)


def test_every_app_setting_is_named() -> None:
    text = DOCS.read_text(encoding="utf-8")
    for name in set(Settings.model_fields) - set(AnalysisFields.model_fields):
        assert f"`{name}`" in text, name
