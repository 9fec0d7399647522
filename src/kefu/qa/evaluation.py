"""Measuring the checks on a labelled set of real chat messages.

See docs/qa.md, "Measured on real chats".

The set is references plus labels (``tests/qa/data/jddc_labels.csv``, halves
``tune`` and ``held_out``, the fresh batch ``jddc_labels_test.csv``, half
``test``, and the third batch ``jddc_labels_test2.csv``, half ``test2``); the
texts are read at run time from the JDDC sample, which may not be copied.
Every labelled message carries the design weight of its stratum (inverse
inclusion probability), so weighted precision and recall estimate the figures
over *all* messages of the file, not over the over-sampled ones. Intervals
are 95 % percentile intervals of a bootstrap over sessions (the sessions of
each stratum are resampled with replacement, because messages of one chat are
not independent).
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

LABELS = ("upset", "negative", "rude", "policy_refusal", "polite", "empathy")
"""upset and negative apply to buyer rows; negative, rude, policy_refusal,
polite and empathy to agent rows (docs/qa.md has the labelling guide)."""
SESSION_HALVES = ("tune", "held_out")
"""The two halves of the first set, by a hash of the session id (half_of)."""
HALVES = (*SESSION_HALVES, "test", "test2")
"""Every half a labelled row may carry; ``test`` is the fresh batch, labelled
blind and measured once (docs/qa.md, "The fresh test batch"); ``test2`` the
third batch, labelled blind for the next measurement (docs/qa.md, "The third
batch")."""
HONEST_HALF = "test"
"""The fresh batch, drawn apart from the first set (its strata are its own).
It was the honest half until the third round of rules (2026-12-01) read its
errors: since then it is tuning data like tune and held_out, and which verdicts
feed the metrics (kefu.qa.floors.MEETS_FLOOR) waits for a measurement on a
the third batch, test2 (docs/qa.md)."""
BOOTSTRAP_ROUNDS = 1000
BOOTSTRAP_SEED = 20261201


@dataclass(frozen=True)
class ChatMessage:
    """One line of a JDDC chat file (``line`` is 1-based)."""

    line: int
    session_id: str
    is_agent: bool
    text: str


@dataclass(frozen=True)
class LabelledMessage:
    """One row of the labelled set: a reference into the chat file plus labels."""

    line: int
    session_id: str
    role: str
    stratum: str
    half: str
    weight: float
    labels: dict[str, bool]


@dataclass(frozen=True)
class Score:
    """Weighted precision, recall and F1 of one check, with 95 % bootstrap intervals."""

    check: str
    half: str
    n: int
    positives: int
    flagged: int
    precision: float
    recall: float
    f1: float
    precision_ci: tuple[float, float]
    recall_ci: tuple[float, float]
    f1_ci: tuple[float, float]
    true_positives: int
    precision_wilson: tuple[float, float]
    recall_wilson: tuple[float, float]


def read_jddc(path: Path) -> list[ChatMessage]:
    """Every message of a JDDC chat file (tab-separated: session, user, is_agent, …, content)."""
    messages = []
    with Path(path).open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            fields = line.rstrip("\n").split("\t")
            if len(fields) < 7:
                raise ValueError(f"{path}, line {number}: expected 7 tab-separated fields")
            text = "\t".join(fields[6:])
            messages.append(ChatMessage(number, fields[0], fields[2] == "1", text))
    return messages


def half_of(session_id: str) -> str:
    """The half of the first set a session belongs to (``tune`` or ``held_out``)."""
    return SESSION_HALVES[int(hashlib.md5(session_id.encode()).hexdigest()[:8], 16) % 2]


def read_labels(*paths: Path) -> list[LabelledMessage]:
    """The labelled rows of one or more files (a message may be in only one).

    An empty label cell means "does not apply to this role"; ``half`` must be
    one of HALVES.
    """
    rows: list[LabelledMessage] = []
    seen: set[int] = set()
    for path in paths:
        with Path(path).open(encoding="utf-8", newline="") as handle:
            for number, row in enumerate(csv.DictReader(handle), start=2):
                try:
                    labels = {name: row[name] == "1" for name in LABELS if row[name] != ""}
                    message = LabelledMessage(
                        int(row["line"]), row["session_id"], row["role"], row["stratum"],
                        row["half"], float(row["weight"]), labels,
                    )
                except (KeyError, ValueError) as exc:
                    raise ValueError(f"{path}, line {number}: {exc}") from exc
                where = f"{path}, line {number}"
                if message.half not in HALVES:
                    raise ValueError(f"{where}: half {message.half!r} not in {HALVES}")
                if message.line in seen:
                    raise ValueError(f"{where}: chat line {message.line} labelled twice")
                seen.add(message.line)
                rows.append(message)
    return rows


def _ratio(num: npt.NDArray[np.float64], den: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)


def _prf(
    tp: npt.NDArray[np.float64], fp: npt.NDArray[np.float64], fn: npt.NDArray[np.float64]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    precision = _ratio(tp, tp + fp)
    recall = _ratio(tp, tp + fn)
    f1 = _ratio(2 * tp, 2 * tp + fp + fn)
    return precision, recall, f1


def score(
    check: str,
    half: str,
    rows: Sequence[LabelledMessage],
    label: str,
    predicted: Sequence[bool],
    rounds: int = BOOTSTRAP_ROUNDS,
) -> Score:
    """Weighted precision/recall/F1 of ``predicted`` against ``label`` on ``rows``."""
    truth = np.array([r.labels[label] for r in rows], dtype=bool)
    pred = np.asarray(predicted, dtype=bool)
    weight = np.array([r.weight for r in rows], dtype=float)
    kinds = np.stack([pred & truth, pred & ~truth, ~pred & truth]).astype(float) * weight
    # per (stratum, session) cluster sums, resampled within each stratum; the
    # fresh batch was drawn apart from the first set, so its strata are its own
    clusters: dict[tuple[str, str], int] = {}
    cluster = np.array(
        [clusters.setdefault((_design_stratum(r), r.session_id), len(clusters)) for r in rows],
        dtype=np.int64,
    )
    sums = np.zeros((3, len(clusters)))
    for kind in range(3):  # per-cluster sums of each kind
        sums[kind] = np.bincount(cluster, weights=kinds[kind], minlength=len(clusters))
    stratum_of = np.array([s for s, _ in clusters])
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    totals = np.zeros((3, rounds))
    for name in np.unique(stratum_of):
        members = np.flatnonzero(stratum_of == name)
        draws = rng.integers(0, len(members), size=(rounds, len(members)))
        totals += sums[:, members[draws]].sum(axis=2)
    point = _prf(*(kinds.sum(axis=1)[:, None]))
    boot = _prf(*totals)

    def interval(values: npt.NDArray[np.float64]) -> tuple[float, float]:
        finite = values[~np.isnan(values)]
        if not len(finite):
            return (float("nan"), float("nan"))
        low, high = np.percentile(finite, [2.5, 97.5])
        return (float(low), float(high))

    hits = int((pred & truth).sum())
    return Score(
        check, half, len(rows), int(truth.sum()), int(pred.sum()),
        float(point[0][0]), float(point[1][0]), float(point[2][0]),
        interval(boot[0]), interval(boot[1]), interval(boot[2]),
        hits, wilson(hits, int(pred.sum())), wilson(hits, int(truth.sum())),
    )


def _design_stratum(row: LabelledMessage) -> str:
    # Each later batch was drawn apart from the first set, with its own n per stratum.
    return row.stratum if row.half in SESSION_HALVES else f"{row.stratum} ({row.half})"


def wilson(successes: int, trials: int, z: float = 1.959964) -> tuple[float, float]:
    """The 95 % Wilson score interval of a proportion (unweighted counts).

    Shown beside the bootstrap interval because a bootstrap of 8 right out of 8
    is [1, 1], while Wilson says the precision could be as low as 0.68.
    """
    if trials == 0:
        return (float("nan"), float("nan"))
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    margin = z * np.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    return (float(centre - margin), float(centre + margin))


Predictor = Callable[[Sequence[ChatMessage]], dict[str, npt.NDArray[np.bool_]]]


@dataclass(frozen=True)
class Check:
    """A verdict column of flag_messages measured against one label on one role."""

    name: str
    role: str
    label: str
    column: str


CHECKS = (
    Check("buyer_upset", "buyer", "upset", "upset"),
    Check("chat_negative (buyer)", "buyer", "negative", "chat_negative"),
    Check("forbidden", "agent", "rude", "forbidden"),
    Check("chat_negative (agent)", "agent", "negative", "chat_negative"),
    Check("policy_refusal", "agent", "policy_refusal", "policy_refusal"),
    Check("polite", "agent", "polite", "polite"),
    Check("empathy", "agent", "empathy", "empathy"),
    # the scan contract's `negative` (sentiment < 0), for comparison only
    Check("sentiment < 0 (buyer)", "buyer", "negative", "sentiment_negative"),
    Check("sentiment < 0 (agent)", "agent", "negative", "sentiment_negative"),
)


def predict(messages: Sequence[ChatMessage]) -> dict[str, npt.NDArray[np.bool_]]:
    """Every verdict column of flag_messages for the whole file, with conversation context."""
    from kefu.qa.api import flag_messages

    table = flag_messages(
        [m.text for m in messages],
        [m.is_agent for m in messages],
        conversation=[m.session_id for m in messages],
    )
    columns = {
        name: table.column(name).to_numpy(zero_copy_only=False).astype(bool)
        for name in table.column_names
        if name != "sentiment"
    }
    sentiment = table.column("sentiment").to_numpy(zero_copy_only=False)
    columns["sentiment_negative"] = np.round(sentiment, 4) < 0
    return columns


def evaluate(
    messages: Sequence[ChatMessage],
    rows: Sequence[LabelledMessage],
    verdicts: dict[str, npt.NDArray[np.bool_]] | None = None,
    rounds: int = BOOTSTRAP_ROUNDS,
) -> list[Score]:
    """Scores of every check on each half present in ``rows`` and on all rows."""
    verdicts = predict(messages) if verdicts is None else verdicts
    index = {m.line: i for i, m in enumerate(messages)}
    missing = [r.line for r in rows if r.line not in index]
    if missing:
        raise ValueError(f"labelled lines not in the chat file: {missing[:5]}")
    scores = []
    for check in CHECKS:
        if check.column not in verdicts:
            continue
        for half in (*(h for h in HALVES if any(r.half == h for r in rows)), "all"):
            chosen = [
                r for r in rows
                if r.role == check.role and check.label in r.labels and half in ("all", r.half)
            ]
            predicted = [bool(verdicts[check.column][index[r.line]]) for r in chosen]
            scores.append(score(check.name, half, chosen, check.label, predicted, rounds))
    return scores


def format_table(scores: Sequence[Score]) -> str:
    """A Markdown table of the scores (as in docs/qa.md)."""

    def cell(value: float, ci: tuple[float, float]) -> str:
        if np.isnan(value):
            return "–"
        return f"{value:.2f} [{ci[0]:.2f}, {ci[1]:.2f}]"

    def span(ci: tuple[float, float]) -> str:
        return "–" if np.isnan(ci[0]) else f"{ci[0]:.2f}–{ci[1]:.2f}"

    lines = [
        "| check | half | n | labelled + | flagged | right | precision [bootstrap] "
        "| recall [bootstrap] | F1 [bootstrap] | Wilson P / R (unweighted) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for s in scores:
        lines.append(
            f"| {s.check} | {s.half} | {s.n} | {s.positives} | {s.flagged} | "
            f"{s.true_positives} | {cell(s.precision, s.precision_ci)} | "
            f"{cell(s.recall, s.recall_ci)} | {cell(s.f1, s.f1_ci)} | "
            f"{span(s.precision_wilson)} / {span(s.recall_wilson)} |"
        )
    return "\n".join(lines)


FLOORS = {
    ("buyer_upset", "f1"): 0.6,
    ("forbidden", "precision"): 0.7,
    ("forbidden", "recall"): 0.5,
    ("chat_negative (buyer)", "precision"): 0.5,
    ("chat_negative (agent)", "precision"): 0.5,
    ("empathy", "precision"): 0.8,
    ("polite", "f1"): 0.95,
}
"""The floors of kefu issue 12 (point estimates). Met on a batch whose errors
were not read, a verdict may feed a quality metric; docs/qa.md says which do."""


FLOOR_VERDICT = {
    "buyer_upset": "upset",
    "forbidden": "forbidden",
    "chat_negative (buyer)": "buyer_chat_negative",
    "chat_negative (agent)": "agent_chat_negative",
    "empathy": "empathy",
    "polite": "polite",
}
"""The verdict of kefu.qa.floors.MEETS_FLOOR that each floored check stands for."""


def verdicts_meeting_floors(scores: Sequence[Score], half: str = HONEST_HALF) -> dict[str, bool]:
    """verdict -> every floor of it met on ``half`` (an undefined figure, e.g. the
    precision of a check that never fired, is not met)."""
    met: dict[str, bool] = {}
    for check, _measure, at, value, _floor, ok in floor_report(scores):
        if at == half:
            verdict = FLOOR_VERDICT[check]
            met[verdict] = met.get(verdict, True) and ok and not np.isnan(value)
    return met


def floor_report(scores: Sequence[Score]) -> list[tuple[str, str, str, float, float, bool]]:
    """(check, measure, half, value, floor, met) for every floor and half."""
    report = []
    for (check, measure), floor in FLOORS.items():
        for s in scores:
            if s.check == check:
                value = float(getattr(s, measure))
                report.append((check, measure, s.half, value, floor, value >= floor))
    return report
