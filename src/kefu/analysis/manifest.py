"""The manifest on every result: what it was computed from, enough to compute it again.

kefu version, the analysis options (engine included), the period, a sha256 of
each input file, the lexicon version of the automatic checks, and for an
evaluation the scheme (name, version, fingerprint and its full content), the
manual scores and the history folder. ``rederive`` (session.py) reads it back.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import kefu
from kefu.ingest import discover
from kefu.options import AnalysisOptions
from kefu.scoring.scheme import Scheme, parse_scheme, scheme_fingerprint
from kefu.scoring.sources import Manual

Inputs = dict[str, list[dict[str, Any]]]
"""table → [{file, sha256, bytes}] in load order."""


def file_sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def input_fingerprints(folder: Path) -> Inputs:
    """A sha256 of every file the folder's tables are read from."""
    if not folder.is_dir():
        return {}
    found = discover(folder)
    # platforms' KPI reports imported into a workspace (kefu.store.platform_import)
    found["reports"] = sorted((folder / "reports").glob("*.parquet"))
    return {
        table: [{"file": str(p.relative_to(folder)), "sha256": file_sha256(p),
                 "bytes": p.stat().st_size} for p in paths]
        for table, paths in found.items() if paths
    }


@dataclass
class Manifest:
    kefu_version: str
    start: dt.date
    end: dt.date
    options: dict[str, Any]
    engine: str
    inputs: Inputs
    lexicon_version: str | None = None
    scheme: dict[str, Any] | None = None
    """name, version, sha256 and content (the scheme itself, so it can be re-read)."""
    manual: Manual | None = None
    history: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(
        cls,
        options: AnalysisOptions,
        start: dt.date,
        end: dt.date,
        inputs: Inputs,
        lexicon_version: str | None,
        scheme: Scheme | None = None,
        manual: Manual | None = None,
        history: Path | None = None,
    ) -> Manifest:
        described = None
        if scheme is not None:
            described = {**scheme.describe(), "sha256": scheme_fingerprint(scheme)}
        return cls(
            kefu_version=kefu.__version__,
            start=start,
            end=end,
            options=options.to_manifest(),
            engine=options.engine,
            inputs=inputs,
            lexicon_version=lexicon_version,
            scheme=described,
            manual=manual or None,
            history=str(history) if history is not None else None,
        )

    def to_json_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["start"], data["end"] = self.start.isoformat(), self.end.isoformat()
        return data

    @classmethod
    def from_json_dict(cls, data: dict[str, Any]) -> Manifest:
        try:
            values = {**data, "start": dt.date.fromisoformat(data["start"]),
                      "end": dt.date.fromisoformat(data["end"])}
            return cls(**values)
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"not a kefu manifest: {exc}") from None

    def scheme_object(self) -> Scheme:
        if self.scheme is None:
            raise ValueError("the manifest names no scheme")
        scheme = parse_scheme(self.scheme["content"], f"manifest scheme {self.scheme['name']}")
        if scheme_fingerprint(scheme) != self.scheme["sha256"]:
            raise ValueError("the manifest's scheme content does not match its fingerprint")
        return scheme

    def check_same_inputs(self, inputs: Inputs, lexicon_version: str | None) -> None:
        """ValueError naming the first input (or the lexicons) that differs."""
        for table in sorted(set(self.inputs) | set(inputs)):
            was = [(f["file"], f["sha256"]) for f in self.inputs.get(table, [])]
            now = [(f["file"], f["sha256"]) for f in inputs.get(table, [])]
            if was != now:
                raise ValueError(f"input {table} differs from the manifest: {was} → {now}")
        if self.lexicon_version != lexicon_version:
            raise ValueError(
                f"lexicons differ from the manifest: {self.lexicon_version} → {lexicon_version}"
            )
