"""The public QA functions: scan records (``kefu qa scan``) and per-message flags.

Both run on batches: sentiment is scored once per distinct text, and lexicon
checks run once per distinct (text, role), because chats repeat canned phrases.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TypedDict

import numpy as np
import pyarrow as pa

from kefu.qa.checks import Hit, find_hits
from kefu.qa.lexicons import AGENT_CHECKS, BUYER_CHECKS, Lexicons, load_lexicons
from kefu.qa.normalize import normalise
from kefu.qa.sentiment import sentiment_scores

CHECKS_BY_ROLE = {
    "agent": frozenset(AGENT_CHECKS) | {"pii"},
    "buyer": frozenset(BUYER_CHECKS) | {"pii"},
}

BUYER_UPSET_SENTIMENT = -0.95
"""A buyer message of at least BUYER_UPSET_MIN_CHARS characters at or below this
sentiment is upset even without an upset phrase."""
BUYER_UPSET_MIN_CHARS = 6
"""Short turns ("没有", "不是", "麻烦了") carry too little text for the model to judge."""
# agent_negative deliberately ignores sentiment: on real agent turns the most
# negative scores are courteous refusals ("不客气哟", "麻烦您了", "这个开不了"),
# never hostility (see docs/qa.md), so only hostile phrases count.

FLAG_COLUMNS = (
    "polite",
    "greeting",
    "closing",
    "forbidden",
    "offsite",
    "pii",
    "negative",
    "upset",
    "empathy",
)


class HitRecord(TypedDict):
    check: str
    phrase: str
    start: int
    end: int


class ScanRecord(TypedDict):
    """One ``kefu qa scan`` output line without ``row`` (see shared/spec/cli.md)."""

    negative: bool
    sentiment: float
    hits: list[HitRecord]


@dataclass(frozen=True)
class Judged:
    """The checks of one message with the sentiment rules applied."""

    sentiment: float
    hits: list[Hit]


def _rounded(score: float) -> float:
    # Four decimals keep the output stable and readable; 0.0 rather than -0.0.
    value = round(float(score), 4)
    return 0.0 if value == 0 else value


def judge(
    text: str | None,
    role: str,
    sentiment: float,
    lexicons: Lexicons,
    normalised: str | None = None,
) -> Judged:
    """Lexicon/PII hits of ``role``'s checks plus the sentiment-based hit, if any."""
    if role not in CHECKS_BY_ROLE:
        raise ValueError(f"role must be agent or buyer, not {role!r}")
    hits = find_hits(text, CHECKS_BY_ROLE[role], lexicons, normalised)
    if (
        role == "buyer"
        and sentiment <= BUYER_UPSET_SENTIMENT
        and text
        and len("".join(text.split())) >= BUYER_UPSET_MIN_CHARS
        and not any(hit.check == "buyer_upset" for hit in hits)
    ):
        hits.append(Hit(0, len(text), "buyer_upset", f"sentiment<={BUYER_UPSET_SENTIMENT}"))
        hits.sort()
    return Judged(sentiment, hits)


def _record(judged: Judged) -> ScanRecord:
    return {
        "negative": judged.sentiment < 0,
        "sentiment": judged.sentiment,
        "hits": [
            {"check": h.check, "phrase": h.phrase, "start": h.start, "end": h.end}
            for h in judged.hits
        ],
    }


def scan_texts(
    texts: Sequence[str | None], role: str = "agent", lexicons: Lexicons | None = None
) -> list[ScanRecord]:
    """Scan records (without ``row``) for many texts, in order."""
    if role not in CHECKS_BY_ROLE:
        raise ValueError(f"role must be agent or buyer, not {role!r}")
    lexicons = lexicons or load_lexicons()
    scores = sentiment_scores(texts)
    cache: dict[str, ScanRecord] = {}
    records: list[ScanRecord] = []
    for text, score in zip(texts, scores, strict=True):
        key = text or ""
        if key not in cache:
            cache[key] = _record(judge(key, role, _rounded(score), lexicons))
        records.append(_copy(cache[key]))
    return records


def _copy(record: ScanRecord) -> ScanRecord:
    # Callers may mutate their records; cached ones must stay intact.
    return {
        "negative": record["negative"],
        "sentiment": record["sentiment"],
        "hits": [hit.copy() for hit in record["hits"]],
    }


def scan_text(
    text: str | None, role: str = "agent", lexicons: Lexicons | None = None
) -> ScanRecord:
    """The ``kefu qa scan`` record for one text, without ``row``."""
    return scan_texts([text], role, lexicons)[0]


def flag_messages(
    texts: Sequence[str | None] | pa.Array | pa.ChunkedArray,
    is_agent: Sequence[bool] | Iterable[bool] | pa.Array | pa.ChunkedArray,
    lexicons: Lexicons | None = None,
) -> pa.Table:
    """One row of boolean flags (and ``sentiment``) per message, in input order.

    ``texts`` and ``is_agent`` may be lists, numpy/pandas or pyarrow arrays;
    None texts are empty messages and None is_agent values count as False.

    Agent rows: polite, greeting, closing, forbidden, offsite, pii, empathy, and
    ``negative`` = the message has an ``agent_negative`` hit (a hostile phrase of
    the agent's own, not negated or quoted); ``upset`` is False. Buyer rows:
    ``upset`` = a ``buyer_upset`` hit (an upset phrase, or a message of 6+
    characters with sentiment at or below BUYER_UPSET_SENTIMENT), ``pii``; the
    agent flags are False. ``sentiment`` is the model score in [-1, 1] for every row.
    """
    texts = as_text_list(texts)
    agent_flags = np.array([bool(a) for a in _as_list(is_agent)], dtype=bool)
    if len(agent_flags) != len(texts):
        raise ValueError(f"{len(texts)} texts but {len(agent_flags)} is_agent values")
    lexicons = lexicons or load_lexicons()
    keys: dict[tuple[str, bool], int] = {}
    index = np.empty(len(texts), dtype=np.int64)
    for row, (text, agent) in enumerate(zip(texts, agent_flags.tolist(), strict=True)):
        index[row] = keys.setdefault((text or "", agent), len(keys))
    unique = list(keys)
    # Normalise each distinct text once, for both the matcher and the model.
    norms = [normalise(text) for text, _ in unique]
    scores = sentiment_scores([text for text, _ in unique], normalised=norms)
    flags = np.zeros((len(unique), len(FLAG_COLUMNS)), dtype=bool)
    column = {name: i for i, name in enumerate(FLAG_COLUMNS)}
    check_column = {
        "polite": "polite",
        "greeting": "greeting",
        "closing": "closing",
        "forbidden": "forbidden",
        "offsite": "offsite",
        "pii": "pii",
        "agent_negative": "negative",
        "buyer_upset": "upset",
        "empathy": "empathy",
    }
    for i, ((text, agent), score) in enumerate(zip(unique, scores, strict=True)):
        if not text:
            continue
        # The rounded score, as in scan records, so both judge the same boundary.
        role = "agent" if agent else "buyer"
        judged = judge(text, role, _rounded(score), lexicons, norms[i])
        for hit in judged.hits:
            flags[i, column[check_column[hit.check]]] = True
    rows = flags[index]
    arrays = [pa.array(rows[:, i]) for i in range(len(FLAG_COLUMNS))]
    arrays.append(pa.array(scores[index], type=pa.float64()))
    return pa.Table.from_arrays(arrays, names=[*FLAG_COLUMNS, "sentiment"])


def _as_list(values: object) -> list[object]:
    """A plain list from a list, tuple, numpy/pandas/pyarrow array or iterable."""
    if isinstance(values, list):
        return values
    if isinstance(values, pa.ChunkedArray | pa.Array):
        return values.to_pylist()
    to_list = getattr(values, "tolist", None)
    if callable(to_list):
        result = to_list()
        assert isinstance(result, list)
        return result
    assert isinstance(values, Iterable)
    return list(values)


def as_text_list(texts: object) -> list[str | None]:
    """Texts as Python strings (None stays None; other values become their str)."""
    return [v if v is None or isinstance(v, str) else str(v) for v in _as_list(texts)]


def empathy_conversations(messages: list[tuple[str, str]]) -> tuple[bool, bool]:
    """(has_upset_buyer, empathy_expressed) for one conversation of (role, text) pairs.

    The reference rule of empathy_rate, for cross-checking the metrics engine:
    a buyer message is upset when it has a ``buyer_upset`` hit; empathy is
    expressed when one of the next 2 human agent messages after any upset buyer
    message has an ``empathy`` hit. Roles other than ``buyer`` and ``agent``
    (``bot``, ``system``) are skipped: only human agent messages count.
    """
    lexicons = load_lexicons()
    roles = [role for role, _ in messages]
    upset = [
        role == "buyer" and any(h["check"] == "buyer_upset" for h in _hits(text, "buyer", lexicons))
        for role, text in messages
    ]
    empathy = [
        role == "agent" and any(h["check"] == "empathy" for h in _hits(text, "agent", lexicons))
        for role, text in messages
    ]
    has_upset = False
    expressed = False
    for i, role in enumerate(roles):
        if role != "buyer" or not upset[i]:
            continue
        has_upset = True
        answered = 0
        for j in range(i + 1, len(roles)):
            if roles[j] != "agent":
                continue
            answered += 1
            if empathy[j]:
                expressed = True
            if answered == 2:
                break
    return has_upset, expressed


def _hits(text: str, role: str, lexicons: Lexicons) -> list[HitRecord]:
    return scan_text(text, role, lexicons)["hits"]
