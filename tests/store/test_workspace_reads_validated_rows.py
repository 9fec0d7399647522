"""A workspace validates once, at import: later runs read its stored rows as they are."""

from __future__ import annotations

from pathlib import Path

import pytest

import kefu.ingest.load as load
from kefu.demo import DemoConfig, generate
from kefu.ingest import load_dir
from kefu.ingest.schema import TABLES
from kefu.store import Workspace


def test_a_workspace_loads_without_validating_again_and_equals_the_exports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    exports = tmp_path / "exports"
    generate(exports, DemoConfig(messages=3000, agents=5, days=7, seed=4))
    Workspace(tmp_path / "ws").import_files(sorted(exports.glob("*.csv")))
    raw = load_dir(exports).dataset

    def no_second_validation(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("a stored, validated row was validated again")

    monkeypatch.setattr(load, "type_file", no_second_validation)
    stored = load_dir(tmp_path / "ws").dataset
    for name in TABLES:
        a, b = stored.table(name), raw.table(name)
        assert a is not None and b is not None
        assert a.drop_columns(["ordinal"]).equals(b.drop_columns(["ordinal"])), name
    # another time zone reads the same stored instants on another wall clock
    berlin = load_dir(tmp_path / "ws", tz="Europe/Berlin").dataset
    assert berlin.messages.column("sent_at").equals(stored.messages.column("sent_at"))
    assert not berlin.messages.column("sent_local").equals(stored.messages.column("sent_local"))
