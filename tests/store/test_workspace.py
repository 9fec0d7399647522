"""Workspace import: validated, typed, idempotent; load = load_dir on the folder."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from kefu.cli import app
from kefu.ingest import IngestError
from kefu.store import Workspace
from tests.ingest.helpers import AGENTS_CSV, MESSAGES_HEADER, rows, write

A = "旗舰店:小美,b1,buyer,2024-06-01 10:00:00,在吗\n"
B = "旗舰店:小美,b1,agent,2024-06-01T02:00:05Z,在的\n"
BAD = "旗舰店:无名,b1,buyer,2024-06-01 10:00:09,谁\n"


@pytest.fixture
def exports(tmp_path: Path) -> Path:
    folder = tmp_path / "exports"
    write(folder, "agents.csv", AGENTS_CSV)
    write(folder, "messages.csv", MESSAGES_HEADER + A + A + B)
    write(folder, "chat-june.csv", MESSAGES_HEADER + A + B + BAD)
    return folder


def test_import_stores_typed_rows_by_source_hash(tmp_path: Path, exports: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    agents = ws.import_file(exports / "agents.csv")
    report = ws.import_file(exports / "messages.csv")
    assert (agents.table, agents.rows, report.table, report.rows) == ("agents", 2, "messages", 3)
    assert report.stored_as.parent == tmp_path / "ws" / "messages"
    assert len(report.stored_as.stem) == 64
    again = ws.import_file(exports / "messages.csv")
    assert again.already_imported and again.rows == 0
    result = ws.load()
    assert rows(result, "messages", "content", "sent_local") == [
        ("在吗", dt.datetime(2024, 6, 1, 10, 0)), ("在吗", dt.datetime(2024, 6, 1, 10, 0)),
        ("在的", dt.datetime(2024, 6, 1, 10, 0, 5)),
    ]
    # Stored instants are zoned, so another run time zone shifts only the local time.
    utc = ws.load(tz="UTC")
    assert rows(utc, "messages", "sent_local")[0] == (dt.datetime(2024, 6, 1, 2, 0),)


def test_overlapping_import_merges(tmp_path: Path, exports: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    ws.import_file(exports / "agents.csv")
    ws.import_file(exports / "messages.csv")
    before = rows(ws.load(), "messages", "content")
    report = ws.import_file(exports / "chat-june.csv", table="messages", skip_bad_rows=True)
    assert report.rows == 2
    assert [(e.file, e.line, e.column) for e in report.skipped] == [
        ("chat-june.csv", 4, "agent_id")]
    assert rows(ws.load(), "messages", "content") == before


def test_bad_file_is_refused_and_nothing_written(tmp_path: Path, exports: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    ws.import_file(exports / "agents.csv")
    with pytest.raises(IngestError) as caught:
        ws.import_files([exports / "messages.csv", exports / "chat-june.csv"], table="messages")
    assert [(e.file, e.line) for e in caught.value.errors] == [("chat-june.csv", 4)]
    assert not (tmp_path / "ws" / "messages").exists()


def test_table_is_inferred_or_refused(tmp_path: Path, exports: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    with pytest.raises(IngestError, match="--table"):
        ws.import_file(exports / "chat-june.csv")


def test_agents_of_the_same_batch_count(tmp_path: Path, exports: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    write(exports, "agents_new.csv", "agent_id,role\n旗舰店:无名,售前\n")
    ws.import_file(exports / "agents.csv")
    # The messages name an agent that only the later file of the same batch defines.
    (exports / "messages_june.csv").write_bytes((exports / "chat-june.csv").read_bytes())
    first, second = ws.import_files([exports / "messages_june.csv", exports / "agents_new.csv"])
    assert (first.table, first.rows, second.table, second.rows) == ("messages", 3, "agents", 1)
    assert ws.load().dataset.messages.num_rows == 3


def test_cli_import_then_metrics_input(tmp_path: Path, exports: Path) -> None:
    runner = CliRunner()
    ws = tmp_path / "ws"
    result = runner.invoke(app, ["import", str(exports / "agents.csv"),
                                 str(exports / "messages.csv"), "--workspace", str(ws)])
    assert result.exit_code == 0, result.output
    assert "imported 3 rows into messages" in result.output
    result = runner.invoke(app, ["import", str(exports / "chat-june.csv"), "--workspace", str(ws),
                                 "--table", "messages"])
    assert result.exit_code == 2
    assert "chat-june.csv:4: column 'agent_id'" in result.output
    result = runner.invoke(app, ["import", str(exports / "messages.csv"), "--workspace", str(ws)])
    assert result.exit_code == 0 and "already imported" in result.output
    assert Workspace(ws).load().dataset.messages.num_rows == 3


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from([A, B, "旗舰店:小王,b2,buyer,2024-06-01 11:00:00,退货\n"]),
                max_size=8))
def test_importing_twice_equals_importing_once(tmp_path: Path, lines: list[str]) -> None:
    with tempfile.TemporaryDirectory(dir=tmp_path) as name:
        folder = Path(name)
        write(folder, "agents.csv", AGENTS_CSV)
        write(folder, "messages.csv", MESSAGES_HEADER + "".join(lines))
        ws = Workspace(folder / "ws")
        # No lines is a header-only file: empty on purpose here.
        ws.import_files([folder / "agents.csv", folder / "messages.csv"],
                        allow_empty=["messages"])
        once = ws.load().dataset.messages
        again = ws.import_files([folder / "messages.csv", folder / "agents.csv"],
                                allow_empty=["messages"])
        assert all(r.already_imported for r in again)
        assert ws.load().dataset.messages.equals(once)
        assert once.num_rows == len(lines)
