"""The manifest of a workspace: the one file saying which stored files are its data.

A workspace folder holds ``kefu-manifest.json``; a file under the folder that the
manifest does not list is a leftover of an interrupted import and is never read.
An import writes its files first and then replaces the manifest in one
``os.replace``, so a reader sees the whole batch or none of it (kefu.store.workspace).

It lives in ingest because ``load_dir`` (``kefu metrics --data WORKSPACE``) reads it.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from kefu.ingest.errors import IngestError

MANIFEST_NAME = "kefu-manifest.json"
VERSION = 1


@dataclass(frozen=True)
class StoredFile:
    table: str
    path: str
    """Relative to the workspace, with '/' separators: messages/<sha256>.parquet."""
    source: str
    """Name of the imported export (for people)."""
    rows: int
    size: int
    """Bytes of the stored file: a different size means it was changed or cut."""


@dataclass
class Manifest:
    files: list[StoredFile] = field(default_factory=list)

    def paths(self) -> set[str]:
        return {f.path for f in self.files}


def manifest_path(folder: Path) -> Path:
    return folder / MANIFEST_NAME


def read_manifest(folder: Path) -> Manifest | None:
    """The folder's manifest, or None when it has none (a plain folder of exports)."""
    path = manifest_path(folder)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise IngestError([], f"cannot read the workspace manifest {path}: {exc}") from exc
    try:
        raw = json.loads(text)
        if raw.get("version") != VERSION:
            raise ValueError(f"unknown version {raw.get('version')!r}")
        return Manifest([StoredFile(**entry) for entry in raw["files"]])
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise IngestError([], (
            f"workspace {folder}: its manifest {MANIFEST_NAME} is damaged ({exc}); kefu cannot "
            "tell which stored files are complete. Re-import the exports into a new workspace"
        )) from exc


def write_manifest(folder: Path, manifest: Manifest) -> None:
    """Replace the manifest atomically: written beside it, flushed, then renamed over it."""
    path = manifest_path(folder)
    tmp = path.with_name(path.name + ".tmp")
    text = json.dumps({"version": VERSION, "files": [asdict(f) for f in manifest.files]},
                      ensure_ascii=False, indent=1)
    with open(tmp, "w", encoding="utf-8") as out:
        out.write(text)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)
    fsync_dir(folder)


def fsync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable (POSIX); a no-op where directories cannot sync."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def vouched_files(folder: Path, manifest: Manifest) -> dict[str, list[Path]]:
    """The manifest's files per table, in import order; refuses a missing or changed file."""
    found: dict[str, list[Path]] = {}
    for entry in manifest.files:
        path = folder / entry.path
        try:
            size = path.stat().st_size
        except OSError:
            size = -1
        if size != entry.size:
            state = "missing" if size < 0 else f"{size} bytes instead of {entry.size}"
            raise IngestError([], (
                f"workspace {folder}: {entry.path} (imported from {entry.source}) is {state}; "
                "the workspace was changed outside kefu and its numbers cannot be vouched for. "
                f"Re-import {entry.source}, or start a new workspace"
            ))
        found.setdefault(entry.table, []).append(path)
    return found


def unlisted_files(folder: Path, manifest: Manifest) -> list[Path]:
    """Files under the table folders that the manifest does not list (never read)."""
    from kefu.ingest.schema import TABLES

    listed = manifest.paths()
    found: list[Path] = []
    for name in TABLES:
        table_dir = folder / name
        if table_dir.is_dir():
            found += [p for p in sorted(table_dir.iterdir())
                      if p.relative_to(folder).as_posix() not in listed]
    return found
