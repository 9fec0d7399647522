"""The only app code that calls the core (ingest, store, metrics, scoring, demo).

Routes and the CLI call these functions; they take and return plain values
(paths, text, JSON-ready dicts), so the app never holds core objects.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
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


@dataclass
class Computed:
    """What computing a run stores: the evaluation JSON, its manifest, the trend and the
    automatic-check hits of every agent (the QA page reads them, never recomputes them)."""

    result: dict[str, Any]
    manifest: dict[str, Any]
    trend: dict[str, Any]
    qa_hits: dict[str, Any] | None = None


def evaluate(
    workspace: Path, scheme_yaml: str, start: dt.date, end: dt.date, tz: str,
    progress: Progress,
) -> Computed:
    """`kefu evaluate` on the workspace, and the trend of the periods before it.

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
        progress(60, "trend")
        trend = _trend(analysis, scheme, start, end)
        progress(85, "QA hits")
        hits = _stored_hits(analysis, start, end)
    progress(90, "storing")
    result = evaluation.to_json_dict()
    manifest: dict[str, Any] = result.pop("manifest", None) or {}
    return Computed(result, manifest, trend, hits)


def trend_of(workspace: Path, scheme_yaml: str, start: dt.date, end: dt.date,
             tz: str) -> dict[str, Any]:
    """The stored trend of a run computed alone (tests, runs stored before trends)."""
    from kefu.analysis import Analysis, analysis_options
    from kefu.scoring.scheme import parse_scheme

    scheme = parse_scheme(yaml.safe_load(scheme_yaml))
    with Analysis(workspace, analysis_options(tz=tz)) as analysis:
        return _trend(analysis, scheme, start, end)


# ---------------------------------------------------------------------------- trends

TREND_PERIODS = 12
"""Periods a trend chart shows; one more (a year before the run's period) is kept for 同比."""


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def trend_periods(start: dt.date, end: dt.date, count: int) -> list[tuple[dt.date, dt.date]]:
    """``count`` periods ending with start..end, oldest first: calendar months when the
    run's period is one calendar month, otherwise periods of the same length."""
    if start.day == 1 and end == _add_months(start, 1) - dt.timedelta(days=1):
        firsts = [_add_months(start, -k) for k in range(count - 1, -1, -1)]
        return [(f, _add_months(f, 1) - dt.timedelta(days=1)) for f in firsts]
    length = (end - start).days + 1
    return [(start - dt.timedelta(days=length * k), end - dt.timedelta(days=length * k))
            for k in range(count - 1, -1, -1)]


def _data_days(analysis: Any) -> tuple[dt.date, dt.date] | None:
    import pyarrow.compute as pc

    if analysis.dataset is None or analysis.dataset.messages.num_rows == 0:
        return None
    span = pc.min_max(analysis.dataset.messages.column("sent_local")).as_py()
    return span["min"].date(), span["max"].date()


def _trend(analysis: Any, scheme: Any, start: dt.date, end: dt.date) -> dict[str, Any]:
    """Per period: every agent's total, grade and metrics, each team's and shop's metrics.

    Computed by the same analysis session as the run (the same facts), for the
    periods that hold data; a period without data is ``None`` in every series.
    """
    periods = trend_periods(start, end, TREND_PERIODS + 1)
    days = _data_days(analysis)
    size = len(periods)
    out: dict[str, Any] = {
        "periods": [{"start": s.isoformat(), "end": e.isoformat()} for s, e in periods],
        "agents": {}, "teams": {}, "shops": {},
    }

    def put(kind: str, key: str, index: int, value: dict[str, Any]) -> None:
        out[kind].setdefault(key, [None] * size)[index] = value

    for i, (s, e) in enumerate(periods):
        if days is not None and (e < days[0] or s > days[1]):
            continue
        metrics = analysis.metrics(s, e).to_json_dict()
        card = analysis.evaluate(scheme, s, e).to_json_dict()
        scored = {a["agent_id"]: a for a in card["agents"]}
        for agent_id, values in metrics["agents"].items():
            row = scored.get(agent_id, {})
            put("agents", agent_id, i, {"total": row.get("total"), "grade": row.get("grade"),
                                        "metrics": values})
        for team, values in metrics["teams"].items():
            info = card["teams"].get(team, {})
            put("teams", team, i, {"mean_total": info.get("mean_total"), "metrics": values})
        for shop, values in metrics["shops"].items():
            put("shops", shop, i, {"metrics": values})
    return out


# ---------------------------------------------------------------------------- drill-down

_SESSIONS: dict[tuple[str, str], tuple[tuple[Any, ...], Any]] = {}
_SESSION_LOCK = threading.Lock()
"""One analysis session per workspace, shared by all requests: DuckDB serves one query at a
time on a connection, so drill-down queries take turns (the facts are built once). A
cursor per request would not see the facts: they are views and temporary tables of the
session's own connection."""

EVIDENCE_CACHE_BYTES = 256 * 1024 * 1024
"""Evidence tables kept per process (Arrow, by size): the rows behind one agent's metric
for one period are the same facts until the workspace changes, and building the query
costs far more than reading it again (the page, its chats, its export)."""
_EVIDENCE: OrderedDict[tuple[Any, ...], Any] = OrderedDict()


def _stamp(workspace: Path) -> tuple[Any, ...]:
    """Cheap identity of the workspace's files: an import makes a new session."""
    return tuple(sorted((str(p), p.stat().st_size, p.stat().st_mtime_ns)
                        for p in workspace.glob("*/*.parquet")))


def workspace_generation(workspace: Path) -> tuple[Any, ...]:
    """Which files the workspace holds now (names, sizes, times): an import is a new
    generation, so kept drill-down pages of the old files are never served again."""
    return _stamp(workspace)


def _session(workspace: Path, tz: str) -> Any:
    """The open session over the workspace (call with _SESSION_LOCK held)."""
    from kefu.analysis import Analysis, analysis_options

    key, stamp = (str(workspace), tz), _stamp(workspace)
    cached = _SESSIONS.get(key)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    if cached is not None:
        cached[1].close()
        _CHAT_INDEX.pop(key, None)
        _EVIDENCE.clear()  # the rows of the old files
        _TOO_BIG.clear()
    analysis = Analysis(workspace, analysis_options(tz=tz))
    _SESSIONS[key] = (stamp, analysis)
    return analysis


def open_facts(workspace: Path, tz: str) -> None:
    """Build the drill-down session ahead of the first request (app start)."""
    if not any(workspace.glob("messages/*.parquet")):
        return
    with _SESSION_LOCK:
        _session(workspace, tz)


CHAT_ROWS = ("conversations", "avg_response_s")
"""Metrics whose rows every chat page reads (its conversations and their turns)."""


def warm_drill_down(workspace: Path, tz: str, periods: list[tuple[dt.date, dt.date]]) -> None:
    """Read the rows every chat page of these periods needs, for all agents at once, and
    load the QA checks (lexicons, model): the first chat view then only slices."""
    if not any(workspace.glob("messages/*.parquet")):
        return
    for start, end in periods:
        for metric in CHAT_ROWS:
            # a workspace without these rows: the page says so when opened
            with _SESSION_LOCK, contextlib.suppress(ValueError):
                _whole(_session(workspace, tz), workspace, tz, metric, start, end)
    with _SESSION_LOCK:
        _chat_index(workspace, tz)
    _scan_pieces([{"sender": "agent", "content": "您好"}])  # loads lexicons and model


def close_facts() -> None:
    with _SESSION_LOCK:
        for _, analysis in _SESSIONS.values():
            analysis.close()
        _SESSIONS.clear()
        _CHAT_INDEX.clear()
        _EVIDENCE.clear()
        _TOO_BIG.clear()


@dataclass(frozen=True)
class _Whole:
    """The rows behind a metric for every agent of a period (sorted by agent), and where
    each agent's rows are: an agent's rows are a slice, no query."""

    table: Any
    spans: dict[str, tuple[int, int]] | None
    """None when the rows name no agent (they cannot be cut by agent)."""

    @classmethod
    def of(cls, table: Any) -> _Whole:
        if "agent_id" not in table.column_names:
            return cls(table, None)
        spans: dict[str, tuple[int, int]] = {}
        at = 0
        for run in _runs(table.column("agent_id")):
            spans[run[0]] = (at, run[1])
            at += run[1]
        return cls(table, spans)

    def agent(self, agent_id: str) -> Any:
        assert self.spans is not None
        start, length = self.spans.get(agent_id, (0, 0))
        return self.table.slice(start, length)


def _runs(column: Any) -> list[tuple[str, int]]:
    """(value, count) of each run of equal values of a sorted column."""
    import pyarrow.compute as pc

    encoded = pc.run_end_encode(column.combine_chunks())
    ends = encoded.run_ends.to_pylist()
    return [(v, e - s) for v, s, e in zip(encoded.values.to_pylist(), [0, *ends[:-1]], ends,
                                          strict=True)]


def _relation(metric: str) -> tuple[str, str | None]:
    """What a metric's rows are: metrics on the same relation share their rows."""
    from kefu.metrics.registry import BY_KEY

    found = BY_KEY.get(metric)
    return (found.evidence or metric, found.table) if found else (metric, None)


def _rows_behind(workspace: Path, tz: str, metric: str, start: dt.date, end: dt.date,
                 agent_id: str | None) -> Any:
    """analysis.evidence on the shared session, kept (Arrow tables, never changed).

    The rows of every agent are queried once per relation and period and each agent's
    rows sliced from them (building the query costs as much for one agent as for all);
    when those rows would take more than a quarter of the cache, each agent's rows are
    queried and kept alone, as before."""
    from kefu.metrics.registry import BY_KEY

    with _SESSION_LOCK:
        analysis = _session(workspace, tz)
        found = BY_KEY.get(metric)
        if agent_id is not None and found is not None and found.shop_only:
            raise ValueError(f"{metric} is a value of the shop, never of an agent")
        whole = _whole(analysis, workspace, tz, metric, start, end)
        if agent_id is None:
            return whole.table if whole is not None else analysis.evidence(metric, start, end)
        if whole is not None and whole.spans is not None:
            return whole.agent(agent_id)
        alone = _kept((str(workspace), tz, metric, start, end, agent_id),
                      lambda: analysis.evidence(metric, start, end, agent_id))
        return alone if alone is not None else analysis.evidence(metric, start, end, agent_id)


def _whole(analysis: Any, workspace: Path, tz: str, metric: str, start: dt.date,
           end: dt.date) -> _Whole | None:
    """Every agent's rows behind ``metric``, kept; None when too big to keep."""
    found: _Whole | None = _kept((str(workspace), tz, _relation(metric), start, end),
                                 lambda: _Whole.of(analysis.evidence(metric, start, end)))
    return found


_TOO_BIG: set[tuple[Any, ...]] = set()
"""Keys whose rows were over a quarter of the cache (not queried for all agents again)."""


def _kept(key: tuple[Any, ...], make: Callable[[], Any]) -> Any:
    """The kept value of ``key`` (a table or _Whole) or make it and keep it when it fits
    in a quarter of EVIDENCE_CACHE_BYTES; None when it does not (call with the lock)."""
    if key in _TOO_BIG:
        return None
    found = _EVIDENCE.get(key)
    if found is not None:
        _EVIDENCE.move_to_end(key)
        return found
    made = make()
    if _nbytes(made) > EVIDENCE_CACHE_BYTES // 4:
        _TOO_BIG.add(key)
        return None
    _EVIDENCE[key] = made
    held = sum(_nbytes(t) for t in _EVIDENCE.values())
    while held > EVIDENCE_CACHE_BYTES and len(_EVIDENCE) > 1:
        held -= _nbytes(_EVIDENCE.popitem(last=False)[1])
    return made


def _nbytes(kept: Any) -> int:
    return int((kept.table if isinstance(kept, _Whole) else kept).nbytes)


@dataclass(frozen=True)
class Rows:
    """The rows behind a number: column names, the rows, how many there are in all."""

    columns: list[str]
    rows: list[dict[str, Any]]
    total: int


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None).isoformat(sep=" ", timespec="seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def evidence(workspace: Path, tz: str, metric: str, start: dt.date, end: dt.date,
             agent_id: str | None, limit: int | None = None) -> Rows:
    """`kefu evidence`: the rows that make ``metric`` (analysis.evidence, same facts)."""
    table = _rows_behind(workspace, tz, metric, start, end, agent_id)
    shown = table if limit is None else table.slice(0, limit)  # only these become Python
    return Rows(list(table.column_names), evidence_rows_of(shown), table.num_rows)


def evidence_rows_of(table: Any) -> list[dict[str, Any]]:
    """An evidence table's rows as the pages show them (times as plain text)."""
    return [{k: _plain(v) for k, v in r.items()} for r in table.to_pylist()]


def _spans(text: str, hits: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The text cut into pieces, each with the automatic check that hit it (or None)."""
    pieces, at = [], 0
    for hit in sorted(hits, key=lambda h: (h["start"], -h["end"])):
        if hit["start"] < at:
            continue  # overlapping hits: the first one is shown
        if hit["start"] > at:
            pieces.append({"text": text[at:hit["start"]], "check": None})
        pieces.append({"text": text[hit["start"]:hit["end"]], "check": hit["check"]})
        at = hit["end"]
    if at < len(text):
        pieces.append({"text": text[at:], "check": None})
    return pieces


def _scan_pieces(messages: list[dict[str, Any]]) -> None:
    """Each message's ``pieces``: buyers' and agents' texts scanned by the checks, all of
    one role at once (one pass of the sentiment model, not one per message)."""
    from kefu.qa.api import scan_texts

    for role in ("buyer", "agent"):
        mine = [m for m in messages if m["sender"] == role and m["content"]]
        for m, record in zip(mine, scan_texts([m["content"] for m in mine], role) if mine
                             else [], strict=True):
            m["pieces"] = _spans(m["content"], record["hits"])
    for m in messages:
        m.setdefault("pieces", [{"text": m["content"], "check": None}])


@dataclass(frozen=True)
class _ChatIndex:
    """The session's messages in (agent_id, buyer_id) order: one buyer's messages with one
    agent are a slice found by binary search. Filtering the whole messages table for an
    agent and a buyer took ~100 ms of CPU at 10M messages on every first view of a chat
    (each worker pays it for each chat); the index costs a sort once per session and
    ~20 bytes a message (row numbers and the buyer ids in that order)."""

    messages: Any
    """The table indexed (the index serves no other)."""
    order: Any
    """Row numbers of ``messages`` in (agent_id, buyer_id) order (nulls last, stable)."""
    buyers: Any
    """buyer_id in that order."""
    agents: dict[str, tuple[int, int]]
    """Each agent's span in ``order``."""
    batches: tuple[Any, ...]
    """``messages`` as record batches (a take from a chunked table copies all of it)."""
    starts: Any
    """The first row number of each batch (numpy)."""

    @classmethod
    def of(cls, messages: Any) -> _ChatIndex:
        import numpy as np
        import pyarrow.compute as pc

        order = pc.sort_indices(messages, sort_keys=[("agent_id", "ascending"),
                                                     ("buyer_id", "ascending")])
        agents: dict[str, tuple[int, int]] = {}
        at = 0
        for agent, count in _runs(messages.column("agent_id").take(order)):
            if agent is not None:
                agents[str(agent)] = (at, at + count)
            at += count
        buyers = messages.column("buyer_id").take(order).combine_chunks()
        batches = tuple(messages.to_batches())
        starts = np.cumsum([0, *(b.num_rows for b in batches)])[:-1]
        return cls(messages, order, buyers, agents, batches, starts)

    def rows(self, agent_id: str, buyer_id: str) -> Any:
        """The agent's messages with the buyer, in the table's order (as a filter keeps)."""
        import numpy as np
        import pyarrow as pa

        low, high = self.agents.get(agent_id, (0, 0))
        first = _bisect(self.buyers, buyer_id, low, high, after=False)
        end = _bisect(self.buyers, buyer_id, first, high, after=True)
        # ascending row numbers: the sort is stable, so equal keys keep the table's order
        wanted = self.order.slice(first, end - first).to_numpy().astype(np.int64)
        batch = np.searchsorted(self.starts, wanted, side="right") - 1
        parts = [self.batches[b].take(pa.array(wanted[batch == b] - self.starts[b]))
                 for b in np.unique(batch)]
        return pa.Table.from_batches(parts, schema=self.messages.schema)


def _bisect(values: Any, key: str, low: int, high: int, after: bool) -> int:
    """The first position in values[low:high] (sorted, nulls last) whose value is
    greater than ``key`` (after) or not less than it."""
    while low < high:
        middle = (low + high) // 2
        value = values[middle].as_py()
        if value is not None and (value <= key if after else value < key):
            low = middle + 1
        else:
            high = middle
    return low


_CHAT_INDEX: dict[tuple[str, str], _ChatIndex] = {}
"""The chat index of each open session (dropped with the session)."""


def _chat_index(workspace: Path, tz: str) -> _ChatIndex:
    """The index of the open session's messages (call with _SESSION_LOCK held)."""
    messages = _session(workspace, tz).dataset.messages
    key = (str(workspace), tz)
    found = _CHAT_INDEX.get(key)
    if found is None or found.messages is not messages:
        found = _CHAT_INDEX[key] = _ChatIndex.of(messages)
    return found


def conversations(workspace: Path, tz: str, agent_id: str, buyer_id: str, start: dt.date,
                  end: dt.date, conv_no: int | None = None) -> list[dict[str, Any]]:
    """An agent's conversations with a buyer in start..end: every message (bots and
    auto-replies too), each answer's response time and every check span."""
    import pyarrow.compute as pc

    convs = _rows_behind(workspace, tz, CHAT_ROWS[0], start, end, agent_id)
    turns = _rows_behind(workspace, tz, CHAT_ROWS[1], start, end, agent_id)
    if conv_no is not None and not _has_conversation(convs, buyer_id, conv_no):
        # a conversation a hit of the period links to may have started before it
        start, convs = _started_before(workspace, tz, agent_id, buyer_id, conv_no, start)
        turns = _rows_behind(workspace, tz, CHAT_ROWS[1], start, end, agent_id)
    with _SESSION_LOCK:
        index = _chat_index(workspace, tz)  # immutable: read outside the lock
    said = index.rows(agent_id, buyer_id).sort_by("sent_local").to_pylist()
    convs = convs.filter(pc.equal(convs.column("buyer_id"), buyer_id))
    turns = turns.filter(pc.equal(turns.column("buyer_id"), buyer_id))
    answered = {(t["conv_no"], t["answer_at"].replace(tzinfo=None)): t["response_s"]
                for t in turns.to_pylist() if t["buyer_id"] == buyer_id and t["answered"]}
    out = []
    for conv in convs.to_pylist():
        if conv["buyer_id"] != buyer_id or (conv_no is not None and conv["conv_no"] != conv_no):
            continue
        first, last = conv["first_at"].replace(tzinfo=None), conv["last_at"].replace(tzinfo=None)
        messages = []
        for m in said:
            if not first <= m["sent_local"] <= last:
                continue
            messages.append({
                "sender": m["sender"], "auto_reply": bool(m["auto_reply"]),
                "at": _plain(m["sent_local"]), "content": m["content"] or "",
                "response_s": answered.get((conv["conv_no"], m["sent_local"]))
                if m["sender"] == "agent" else None,
            })
        out.append({**{k: _plain(v) for k, v in conv.items()}, "messages": messages})
    _scan_pieces([m for c in out for m in c["messages"]])
    return out


LOOK_BACK_DAYS = 7
"""How far before a period the chat page looks for a conversation that runs into it."""


def _has_conversation(convs: Any, buyer_id: str, conv_no: int) -> bool:
    import pyarrow.compute as pc

    return bool(pc.any(pc.and_(pc.equal(convs.column("buyer_id"), buyer_id),
                               pc.equal(convs.column("conv_no"), conv_no))).as_py())


def _started_before(workspace: Path, tz: str, agent_id: str, buyer_id: str, conv_no: int,
                    start: dt.date) -> tuple[dt.date, Any]:
    """(the day, its conversations) before ``start`` (at most LOOK_BACK_DAYS, nearest
    first) on which the buyer's conversation conv_no began; else the furthest day."""
    day, convs = start, None
    for _ in range(LOOK_BACK_DAYS):
        day -= dt.timedelta(days=1)
        convs = _rows_behind(workspace, tz, CHAT_ROWS[0], day, day, agent_id)
        if _has_conversation(convs, buyer_id, conv_no):
            break
    return day, convs


HIT_CHECKS = ("forbidden", "offsite", "negative", "upset_no_empathy")
"""The automatic-check hits the QA inspector's page lists."""


def qa_hits(workspace: Path, tz: str, start: dt.date, end: dt.date,
            agent_ids: set[str]) -> list[dict[str, Any]]:
    """Forbidden words, off-site leads and negative tone in agents' messages, and upset
    buyers whose conversation got no empathy, for the given agents only (computed now:
    runs stored before their hits were; a run stores them, see ``Computed.qa_hits``)."""
    with _SESSION_LOCK:
        analysis = _session(workspace, tz)
        stored = _stored_hits(analysis, start, end)
    return hits_of(stored or {}, agent_ids)


def hits_of(stored: dict[str, Any], agent_ids: set[str]) -> list[dict[str, Any]]:
    """The stored hits of the given agents only (a new list; the stored one is shared)."""
    return [h for h in stored.get("hits") or [] if h["agent_id"] in agent_ids]


def _stored_hits(analysis: Any, start: dt.date, end: dt.date) -> dict[str, Any] | None:
    """Every agent's automatic-check hits in start..end, as stored with the run (None
    when the analysis ran without the QA checks)."""
    import pyarrow.compute as pc

    try:
        messages = analysis.evidence("forbidden_hits", start, end)
        convs = analysis.evidence("qa_score", start, end)
    except ValueError:  # no QA checks (or a platform's report only): nothing to list
        return None
    # only the flagged rows become Python objects (the period may hold millions)
    flagged = pc.or_(pc.or_(messages.column("qa_forbidden"), messages.column("qa_offsite")),
                     messages.column("qa_negative"))
    messages = messages.filter(pc.and_(flagged, pc.equal(messages.column("sender"), "agent")))
    convs = convs.filter(pc.and_(pc.fill_null(convs.column("upset"), False),
                                 pc.invert(pc.fill_null(convs.column("empathic"), False))))
    hits = []
    for m in messages.to_pylist():
        for check, flag in (("forbidden", "qa_forbidden"), ("offsite", "qa_offsite"),
                            ("negative", "qa_negative")):
            if m.get(flag):
                hits.append({"check": check, "agent_id": m["agent_id"],
                             "buyer_id": m["buyer_id"], "conv_no": m["conv_no"],
                             "at": _plain(m["sent_at"]), "content": m["content"]})
    for c in convs.to_pylist():
        hits.append({"check": "upset_no_empathy", "agent_id": c["agent_id"],
                     "buyer_id": c["buyer_id"], "conv_no": c["conv_no"],
                     "at": _plain(c["first_at"]), "content": ""})
    hits.sort(key=lambda h: (h["at"], h["agent_id"], h["check"]))
    return {"hits": hits}


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


def make_demo_shop(out: Path, messages: int = 20_000, agents: int = 12,
                   start: dt.date = dt.date(2024, 6, 1), days: int = 30) -> str:
    from kefu.demo import DemoConfig, generate

    return generate(out, DemoConfig(messages=messages, agents=agents, start=start, days=days))
