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
import pyarrow.compute as pc

from kefu.qa.checks import Hit, find_hits
from kefu.qa.lexicons import AGENT_CHECKS, BUYER_CHECKS, Lexicons, load_lexicons
from kefu.qa.normalize import normalise
from kefu.qa.rules import agent_rules, buyer_rules, closes_without_answer
from kefu.qa.sentiment import sentiment_scores

CHECKS_BY_ROLE = {
    "agent": frozenset(AGENT_CHECKS) | {"pii"},
    "buyer": frozenset(BUYER_CHECKS) | {"pii"},
}
_AGENT_CHECKS, _BUYER_CHECKS = CHECKS_BY_ROLE["agent"], CHECKS_BY_ROLE["buyer"]

# Neither buyer_upset nor agent_negative uses the sentiment model: on the
# labelled chats (docs/qa.md) "sentiment < 0" is right on about 1 buyer turn in
# 8 and 1 agent turn in 20, and the old "buyer message at or below -0.95" path
# fired on plain questions ("现在能不能退货"); no threshold reached a useful
# precision on the tune half, so the chat verdicts are rules only.

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
    "policy_refusal",
    "brush_off",
    "chat_negative",
)
# Which flag a hit of each check sets (a brush-off is also forbidden; an urgent
# buyer is upset; chat_negative is decided in _chat_negative).
CHECK_FLAGS = {
    "polite": ("polite",),
    "greeting": ("greeting",),
    "closing": ("closing",),
    "forbidden": ("forbidden",),
    "brush_off": ("brush_off", "forbidden"),
    "policy_refusal": ("policy_refusal",),
    "offsite": ("offsite",),
    "pii": ("pii",),
    "agent_negative": ("negative",),
    "buyer_upset": ("upset",),
    "buyer_waiting": ("upset",),
    "buyer_urgent": ("upset",),
    "empathy": ("empathy",),
}
UPSET_CHECKS = frozenset(c for c, flags in CHECK_FLAGS.items() if "upset" in flags)
NEGATIVE_CHECKS = {
    "agent": frozenset({"forbidden", "brush_off", "agent_negative"}),
    "buyer": frozenset({"buyer_upset"}),
}
"""The chat-grade negativity verdict (chat_negative) of a message without context:
a hit of one of these checks. Rules only: no sentiment threshold reached the
precision floor on the labelled chats (docs/qa.md)."""


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
    """The checks of one message, with its sentiment score (reported, not used by a check)."""

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
    """Lexicon/PII hits of ``role``'s checks after the message-level rules (rules.py)."""
    if role not in CHECKS_BY_ROLE:
        raise ValueError(f"role must be agent or buyer, not {role!r}")
    if not text:
        return Judged(sentiment, [])
    norm = normalise(text) if normalised is None else normalised
    return Judged(sentiment, message_hits(text, role == "agent", lexicons, norm))


def message_hits(text: str, agent: bool, lexicons: Lexicons, norm: str) -> list[Hit]:
    """The hits of one non-empty message (``norm`` = ``normalise(text)``)."""
    if agent:
        return agent_rules(norm, find_hits(text, _AGENT_CHECKS, lexicons, norm))
    return buyer_rules(norm, find_hits(text, _BUYER_CHECKS, lexicons, norm))


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
    *,
    conversation: Sequence[object] | pa.Array | pa.ChunkedArray | None = None,
) -> pa.Table:
    """One row of boolean flags (and ``sentiment``) per message, in input order.

    ``texts`` and ``is_agent`` may be lists, numpy/pandas or pyarrow arrays;
    None texts are empty messages and None is_agent values count as False.

    Agent rows: polite, greeting, closing, forbidden (a forbidden phrase, a
    bare refusal or a brush-off), brush_off, policy_refusal, offsite, pii,
    empathy, and ``negative`` = an ``agent_negative`` hit (a hostile phrase).
    Buyer rows: ``upset`` (a buyer_upset or buyer_urgent hit), ``pii``.
    ``chat_negative`` is the chat-grade negativity verdict for both roles
    (NEGATIVE_CHECKS, plus the context rule below). A flag that does not apply
    to the row's role is False; ``sentiment`` is the model score in [-1, 1].

    ``conversation`` (one key per row; rows of a conversation in chat order,
    not necessarily next to each other) turns on the context rule: an agent
    reply that says goodbye right after a negative buyer turn closes the chat
    on a complaint, a brush-off (forbidden, brush_off and chat_negative).
    """
    codes, dictionary = _text_codes(texts)
    agent_flags = _bool_array(is_agent)
    if len(agent_flags) != len(codes):
        raise ValueError(f"{len(codes)} texts but {len(agent_flags)} is_agent values")
    lexicons = lexicons or load_lexicons()
    unique, index = _distinct(codes, dictionary, agent_flags)
    # Normalise each distinct text once, for both the matcher and the model.
    norms = [normalise(text) for text, _ in unique]
    scores = sentiment_scores([text for text, _ in unique], normalised=norms)
    rows = _unique_flags(unique, norms, lexicons)[index]
    if conversation is not None:
        marked = closing_on_complaint(
            _CodedTexts(codes, dictionary), agent_flags, rows[:, _COLUMN["chat_negative"]],
            conversation,
        )
        columns = np.array([_COLUMN[f] for f in CONTEXT_FLAGS], dtype=np.int64)
        rows[np.ix_(np.flatnonzero(marked), columns)] = True
    arrays = [pa.array(rows[:, i]) for i in range(len(FLAG_COLUMNS))]
    arrays.append(pa.array(scores[index], type=pa.float64()))
    return pa.Table.from_arrays(arrays, names=[*FLAG_COLUMNS, "sentiment"])


_COLUMN = {name: i for i, name in enumerate(FLAG_COLUMNS)}


def _text_codes(texts: object) -> tuple[np.ndarray, list[str]]:
    """Each row's index into the list of its distinct texts (None counts as "").

    Arrow input is dictionary-encoded in C; a Python list goes through a dict,
    which is faster than building an Arrow array from a million str objects.
    """
    if isinstance(texts, pa.ChunkedArray):
        texts = texts.combine_chunks()
    if isinstance(texts, pa.Array) and (
        pa.types.is_string(texts.type) or pa.types.is_large_string(texts.type)
    ):
        encoded = pc.dictionary_encode(pc.fill_null(texts, ""))
        codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
        return codes, encoded.dictionary.to_pylist()
    seen: dict[str, int] = {}
    remember = seen.setdefault
    codes = np.fromiter(
        (remember(text or "", len(seen)) for text in as_text_list(texts)), dtype=np.int64
    )
    return codes, list(seen)


def _bool_array(values: object) -> np.ndarray:
    if isinstance(values, pa.ChunkedArray | pa.Array):
        return pc.fill_null(values, False).to_numpy(zero_copy_only=False).astype(bool)
    return np.array([bool(v) for v in _as_list(values)], dtype=bool)


def _distinct(
    codes: np.ndarray, dictionary: list[str], agent: np.ndarray
) -> tuple[list[tuple[str, bool]], np.ndarray]:
    """Distinct (text, is_agent) pairs and each row's position among them: chats
    repeat canned phrases, so a million rows hold far fewer distinct texts."""
    keys, index = np.unique(codes * 2 + agent, return_inverse=True)
    unique = [(dictionary[key >> 1], bool(key & 1)) for key in keys.tolist()]
    return unique, index.reshape(-1)


def _unique_flags(
    unique: list[tuple[str, bool]], norms: list[str], lexicons: Lexicons
) -> np.ndarray:
    """The flags of each distinct (text, is_agent)."""
    masks = np.zeros(len(unique), dtype=np.int64)
    for i, (text, agent) in enumerate(unique):
        if not text:
            continue
        hit_mask = _HIT_MASK["agent" if agent else "buyer"]
        mask = 0
        for hit in message_hits(text, agent, lexicons, norms[i]):
            mask |= hit_mask[hit.check]
        masks[i] = mask
    bits = 1 << np.arange(len(FLAG_COLUMNS), dtype=np.int64)
    return (masks[:, None] & bits) != 0


# One bit per flag column: the flags a hit of each check sets, per role.
_HIT_MASK = {
    role: {
        check: sum(1 << _COLUMN[f] for f in flags)
        | ((1 << _COLUMN["chat_negative"]) if check in NEGATIVE_CHECKS[role] else 0)
        for check, flags in CHECK_FLAGS.items()
    }
    for role in NEGATIVE_CHECKS
}


def closing_on_complaint(
    texts: Sequence[str | None] | pa.Array | pa.ChunkedArray,
    is_agent: np.ndarray,
    negative: np.ndarray,
    conversation: Sequence[object] | pa.Array | pa.ChunkedArray,
) -> np.ndarray:
    """Rows that are an agent goodbye sent right after a negative buyer turn.

    ``negative`` is each row's chat_negative flag; rows of one conversation
    must be in chat order (they need not be adjacent). Only the few candidate
    rows (an agent row after a negative buyer row) have their text read.
    """
    keys = conversation.combine_chunks() if isinstance(conversation, pa.ChunkedArray) else (
        conversation if isinstance(conversation, pa.Array) else pa.array(_as_list(conversation))
    )
    if len(keys) != len(is_agent):
        raise ValueError(f"{len(is_agent)} texts but {len(keys)} conversation keys")
    codes = keys.dictionary_encode().indices.to_numpy(zero_copy_only=False)
    order = np.argsort(codes, kind="stable")  # each conversation together, chat order kept
    same = codes[order][1:] == codes[order][:-1]
    return farewells_after_negative(texts, is_agent, negative, order[:-1][same], order[1:][same])


def farewells_after_negative(
    texts: Sequence[str | None] | pa.Array | pa.ChunkedArray,
    is_agent: np.ndarray,
    negative: np.ndarray,
    previous: np.ndarray,
    current: np.ndarray,
) -> np.ndarray:
    """closing_on_complaint for given (previous, current) row pairs of one conversation."""
    candidates = current[is_agent[current] & ~is_agent[previous] & negative[previous]]
    marked = np.zeros(len(is_agent), dtype=bool)
    for row in candidates.tolist():
        text = texts[row]
        text = text.as_py() if isinstance(text, pa.Scalar) else text
        marked[row] = bool(text) and closes_without_answer(normalise(str(text)))
    return marked


class _CodedTexts(Sequence[str]):
    """Row texts as codes into the distinct texts, read one at a time."""

    def __init__(self, codes: np.ndarray, dictionary: list[str]) -> None:
        self._codes, self._dictionary = codes, dictionary

    def __len__(self) -> int:
        return len(self._codes)

    def __getitem__(self, row):  # type: ignore[no-untyped-def]
        return self._dictionary[int(self._codes[row])]


CONTEXT_FLAGS = ("forbidden", "brush_off", "chat_negative")
"""The flags closing_on_complaint sets."""


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
    a buyer message is upset when it has a buyer_upset, buyer_waiting or
    buyer_urgent hit (the ``upset`` flag); empathy is
    expressed when one of the next 2 human agent messages after any upset buyer
    message has an ``empathy`` hit. Roles other than ``buyer`` and ``agent``
    (``bot``, ``system``) are skipped: only human agent messages count.
    """
    lexicons = load_lexicons()
    roles = [role for role, _ in messages]
    upset = [
        role == "buyer"
        and any(h["check"] in UPSET_CHECKS for h in _hits(text, "buyer", lexicons))
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
