"""The only app code that calls the core (ingest, store, metrics, scoring, demo).

Routes and the CLI call these functions; they take and return plain values
(paths, text, JSON-ready dicts), so the app never holds core objects.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

Progress = Callable[[int, str], None]


# ---------------------------------------------------------------------------- uploads


@dataclass(frozen=True)
class BadRow:
    file: str
    line: int
    column: str
    value: str
    reason: str


class UploadRejected(Exception):
    """The upload was refused; nothing was imported.

    ``message`` is the reason when it is not bad rows (e.g. a file of no known table).
    """

    def __init__(self, message: str, rows: list[BadRow]) -> None:
        super().__init__(message)
        self.message = message
        self.rows = rows


@dataclass(frozen=True)
class ImportedFile:
    file: str
    table: str
    rows: int
    already_imported: bool


def import_uploads(workspace: Path, files: list[Path], tz: str) -> list[ImportedFile]:
    """`kefu import` for uploaded files: all validated before any is written."""
    from kefu.ingest import IngestError
    from kefu.store import Workspace

    try:
        reports = Workspace(workspace).import_files(files, tz=tz)
    except IngestError as exc:
        rows = [BadRow(Path(e.file).name, e.line, e.column, str(e.value), e.reason)
                for e in exc.errors]
        raise UploadRejected(exc.message or "", rows) from None
    return [ImportedFile(r.source.name, r.table, r.rows, r.already_imported) for r in reports]


def workspace_agents(workspace: Path) -> list[dict[str, str]]:
    """The imported agents (id, name, shop, team, role), for linking users to them."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from kefu.store import Workspace

    files = sorted(Workspace(workspace).table_dir("agents").glob("*.parquet"))
    if not files:
        return []
    table = pa.concat_tables([pq.read_table(f) for f in files])
    seen: dict[str, dict[str, str]] = {}
    for row in table.to_pylist():  # a later file's row wins, as the loader merges them
        seen[str(row["agent_id"])] = {
            "agent_id": str(row["agent_id"]),
            "name": str(row.get("name") or ""),
            "shop_id": str(row.get("shop_id") or ""),
            "team": str(row.get("team") or ""),
            "role": str(row.get("role") or ""),
        }
    return sorted(seen.values(), key=lambda r: r["agent_id"])


# ---------------------------------------------------------------------------- schemes


@dataclass(frozen=True)
class SchemeProblem:
    line: int | None
    where: str
    message: str


def templates() -> dict[str, str]:
    """Built-in scheme templates: name → YAML text."""
    from kefu.scoring.scheme import TEMPLATES_DIR

    return {p.stem: p.read_text(encoding="utf-8") for p in sorted(TEMPLATES_DIR.glob("*.yaml"))}


def _line_of(root: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """1-based line of the YAML node at a validation error's location (deepest found)."""
    node, line = root, None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            nxt = next((v for k, v in node.value if k.value == part), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            nxt = node.value[part] if part < len(node.value) else None
        else:
            nxt = None
        if nxt is None:
            break
        node = nxt
        line = node.start_mark.line + 1
    if line is None and root is not None:
        line = root.start_mark.line + 1
    return line


def check_scheme(text: str) -> tuple[str | None, list[SchemeProblem]]:
    """(scheme name, problems): validation as `kefu evaluate` does it, each at its line."""
    from pydantic import ValidationError

    from kefu.scoring.scheme import Scheme, SchemeError, parse_scheme

    try:
        root = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        return None, [SchemeProblem(line, "", f"not valid YAML: {getattr(exc, 'problem', exc)}")]
    try:
        scheme = parse_scheme(data)
    except SchemeError as exc:
        if not isinstance(data, dict):
            return None, [SchemeProblem(1, "", str(exc))]
        try:
            Scheme.model_validate(data)
        except ValidationError as detail:
            return None, [
                SchemeProblem(
                    _line_of(root, tuple(e["loc"])),
                    ".".join(str(p) for p in e["loc"]),
                    str(e["msg"]).removeprefix("Value error, "),
                )
                for e in detail.errors()
            ]
        return None, [SchemeProblem(None, "", str(exc))]
    return scheme.name, []


# ---------------------------------------------------------------------------- evaluation


def evaluate(
    workspace: Path, scheme_yaml: str, start: dt.date, end: dt.date, tz: str,
    progress: Progress,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """`kefu evaluate` on the workspace: (the evaluation's JSON, its manifest).

    The manifest (kefu version, options, input fingerprints, the scheme itself) is
    enough to re-derive the stored numbers (kefu.analysis.rederive).
    """
    from kefu.analysis import Analysis, analysis_options
    from kefu.scoring.scheme import parse_scheme

    scheme = parse_scheme(yaml.safe_load(scheme_yaml))
    progress(5, "loading")
    shown = [5]

    def loading(done: int, total: int, label: str) -> None:
        # reading the workspace is 5 → 40 %; written only when the percent moves
        pct = 5 + (35 * done // total if total else 0)
        if pct != shown[0]:
            shown[0] = pct
            progress(pct, f"loading {label}")

    with Analysis(workspace, analysis_options(tz=tz), progress=loading) as analysis:
        progress(40, "computing")
        evaluation = analysis.evaluate(scheme, start, end)
    progress(90, "storing")
    result = evaluation.to_json_dict()
    manifest: dict[str, Any] = result.pop("manifest", None) or {}
    return result, manifest


# ---------------------------------------------------------------------------- labels, demo


def metric_label(key: str, lang: str) -> str:
    from kefu.metrics.registry import BY_KEY

    metric = BY_KEY.get(key)
    if metric is None:
        return key
    return metric.label_en if lang == "en" else metric.label_zh


def metric_unit(key: str) -> str:
    from kefu.metrics.registry import BY_KEY

    metric = BY_KEY.get(key)
    return metric.unit if metric else ""


def metric_keys() -> list[str]:
    """Every metric key in the registry's order (the order pages list metrics in)."""
    from kefu.metrics.registry import METRICS

    return [m.key for m in METRICS]


def make_demo_shop(out: Path, messages: int = 20_000, agents: int = 12) -> str:
    from kefu.demo import DemoConfig, generate

    return generate(out, DemoConfig(messages=messages, agents=agents))
