"""Odd CLI arguments and odd values in messages: exit 2 with a sentence, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from kefu.cli import app
from kefu.console import MAX_LINE_CHARS, plain
from tests.fuzz.shop import clean_shop


def metrics(*args: str) -> tuple[int, str, BaseException | None]:
    result = CliRunner().invoke(app, ["metrics", *args, "--no-qa"])
    return result.exit_code, result.output, result.exception


@pytest.mark.parametrize("start,end", [("2024-06-01", "9999-12-31"), ("0001-01-01", "2024-06-30")])
def test_days_out_of_range_are_refused(tmp_path: Path, start: str, end: str) -> None:
    code, output, exception = metrics("--data", str(clean_shop(tmp_path)), "--start", start,
                                      "--end", end)
    assert code == 2 and isinstance(exception, SystemExit)
    assert "out of range: kefu works with days from 2000 to 2100" in output


def test_out_into_a_missing_folder_is_refused_before_any_work(tmp_path: Path) -> None:
    # The data folder does not exist either: the --out check must come first.
    code, output, _ = metrics("--data", str(tmp_path / "nothing"), "--start", "2024-06-01",
                              "--end", "2024-06-30", "--out", str(tmp_path / "no" / "m.json"))
    assert code == 2
    assert f"the folder {tmp_path / 'no'} does not exist" in output.replace("\n", "")


def test_allow_empty_from_the_command_line(tmp_path: Path) -> None:
    folder = clean_shop(tmp_path / "exports")
    (folder / "ratings.csv").write_text("agent_id,buyer_id,rated_at,score,comment\n")
    args = ["import", str(folder / "agents.csv"), str(folder / "ratings.csv"),
            "--workspace", str(tmp_path / "ws")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert "ratings.csv:1: the file has a header but no rows" in result.output
    result = CliRunner().invoke(app, [*args, "--allow-empty", "ratings"])
    assert result.exit_code == 0, result.output
    assert "imported 0 rows into ratings" in result.output


def test_the_printer_escapes_markup_and_cuts_long_lines() -> None:
    assert plain("value '[/]x[bold]'") == "value '\\[/]x\\[bold]'"
    long = plain("x" * 10_000 + "\nshort")
    first, second = long.split("\n")
    assert len(first) == MAX_LINE_CHARS and first.endswith("…") and second == "short"
