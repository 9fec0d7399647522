"""A batch import lands all or nothing: under a full disk, a killed process, leftovers."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pyarrow as pa
import pytest

from kefu.ingest import IngestError, load_dir
from kefu.ingest.manifest import MANIFEST_NAME
from kefu.store import Workspace, workspace
from tests.ingest.helpers import AGENTS_CSV, MESSAGES_HEADER, write

ROOT = Path(__file__).resolve().parents[2]
A = "旗舰店:小美,b1,buyer,2024-06-01 10:00:00,在吗\n"
B = "旗舰店:小王,b2,buyer,2024-06-02 11:00:00,退货\n"
ORDERS = "order_id,buyer_id,created_at,amount\no1,b1,2024-06-01 10:05:00,99.00\n"


@pytest.fixture
def exports(tmp_path: Path) -> Path:
    folder = tmp_path / "exports"
    write(folder, "agents.csv", AGENTS_CSV)
    write(folder, "messages.csv", MESSAGES_HEADER + A)
    write(folder, "messages_2.csv", MESSAGES_HEADER + B)
    write(folder, "orders.csv", ORDERS)
    return folder


def stored(ws: Path) -> list[str]:
    """Every file under the workspace except the lock and the key."""
    return sorted(p.relative_to(ws).as_posix() for p in ws.rglob("*")
                  if p.is_file() and p.name not in (".kefu-lock", ".kefu-key"))


def contents(ws: Path) -> list[str]:
    return sorted(Workspace(ws).load().dataset.messages.column("content").to_pylist())


def test_a_full_disk_on_the_second_file_stores_nothing(
    tmp_path: Path, exports: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = tmp_path / "ws"
    Workspace(ws).import_files([exports / "agents.csv", exports / "messages.csv"])
    before = stored(ws)
    real = workspace.write_rows
    calls: list[Path] = []

    def disk_full(rows: pa.Table, path: Path) -> None:
        calls.append(path)
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        real(rows, path)

    monkeypatch.setattr(workspace, "write_rows", disk_full)
    with pytest.raises(IngestError, match="No space left on device.*nothing of this import"):
        Workspace(ws).import_files([exports / "messages_2.csv", exports / "orders.csv"])
    assert len(calls) == 2
    assert stored(ws) == before  # the first file of the batch is gone too
    assert contents(ws) == ["在吗"]


KILL = textwrap.dedent("""
    import os, sys
    from pathlib import Path
    from kefu.store import Workspace, workspace
    point, ws, *files = sys.argv[1:]
    if point == "second-write":
        real, count = workspace.write_rows, []
        def write(rows, path):
            count.append(path)
            if len(count) == 2:
                os._exit(9)
            real(rows, path)
        workspace.write_rows = write
    elif point == "before-switch":
        workspace.write_manifest = lambda folder, manifest: os._exit(9)
    elif point == "during-switch":
        real_replace = os.replace
        def replace(src, dst):
            if str(dst).endswith("kefu-manifest.json"):
                os._exit(9)
            real_replace(src, dst)
        workspace.os.replace = replace
        import kefu.ingest.manifest as manifest
        manifest.os.replace = replace
    Workspace(Path(ws)).import_files([Path(f) for f in files])
""")


@pytest.mark.parametrize("point", ["second-write", "before-switch", "during-switch"])
def test_a_killed_import_leaves_the_workspace_as_it_was(
    tmp_path: Path, exports: Path, point: str
) -> None:
    ws = tmp_path / "ws"
    Workspace(ws).import_files([exports / "agents.csv", exports / "messages.csv"])
    before = stored(ws)
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}"}
    done = subprocess.run(
        [sys.executable, "-c", KILL, point, str(ws), str(exports / "messages_2.csv"),
         str(exports / "orders.csv")], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 9, done.stderr
    assert stored(ws) != before  # the killed import left files behind …
    # … which kefu metrics never reads, and says so:
    result = load_dir(ws)
    assert sorted(result.dataset.messages.column("content").to_pylist()) == ["在吗"]
    assert result.dataset.orders is None
    in_table_folders = [p for p in set(stored(ws)) - set(before)
                        if p.split("/")[0] in ("messages", "orders")]
    if in_table_folders:
        assert any("manifest does not list" in w for w in result.warnings), result.warnings
    # The next load (or import) removes them, and a new import works.
    assert contents(ws) == ["在吗"]
    assert stored(ws) == before
    Workspace(ws).import_files([exports / "messages_2.csv", exports / "orders.csv"])
    assert contents(ws) == ["在吗", "退货"]


def test_a_changed_stored_file_is_refused(tmp_path: Path, exports: Path) -> None:
    ws = tmp_path / "ws"
    Workspace(ws).import_files([exports / "agents.csv", exports / "messages.csv"])
    manifest = json.loads((ws / MANIFEST_NAME).read_text())
    victim = ws / next(f["path"] for f in manifest["files"] if f["table"] == "messages")
    victim.write_bytes(victim.read_bytes()[:-10])  # cut short
    with pytest.raises(IngestError, match="imported from messages.csv.*cannot be vouched"):
        load_dir(ws)
    victim.unlink()
    with pytest.raises(IngestError, match="is missing"):
        Workspace(ws).load()


def test_a_damaged_manifest_is_refused(tmp_path: Path, exports: Path) -> None:
    ws = tmp_path / "ws"
    Workspace(ws).import_files([exports / "agents.csv", exports / "messages.csv"])
    (ws / MANIFEST_NAME).write_text('{"version": 1, "files": [')
    with pytest.raises(IngestError, match="manifest kefu-manifest.json is damaged"):
        load_dir(ws)


def test_a_workspace_from_before_manifests_is_adopted(tmp_path: Path, exports: Path) -> None:
    ws = tmp_path / "ws"
    Workspace(ws).import_files([exports / "agents.csv", exports / "messages.csv"])
    (ws / MANIFEST_NAME).unlink()
    (ws / "messages" / ("0" * 64 + ".parquet.partial")).write_bytes(b"half")
    assert contents(ws) == ["在吗"]  # adopted: the stored files were renamed into place whole
    assert (ws / MANIFEST_NAME).exists()
    assert not (ws / "messages" / ("0" * 64 + ".parquet.partial")).exists()
