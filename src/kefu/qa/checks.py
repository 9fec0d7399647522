"""The automatic checks of qa.md on one message: lexicon phrases, negation, quotes, PII.

A hit is kept only when it is the speaker's own words: phrases inside quotation
marks (“…” 「…」 『…』 ‘…’ "…") are someone else's words being quoted, and a
negator right before a phrase ("不是不知道", "请勿加微信") turns it off.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

from kefu.qa.lexicons import EXCEPTION, HIT, NEGATOR, Lexicons
from kefu.qa.normalize import normalise
from kefu.qa.pii import find_pii

NEGATABLE_CHECKS = frozenset({
    "forbidden", "offsite", "agent_negative", "buyer_upset", "buyer_waiting", "buyer_urgent",
    "empathy",
    "policy_refusal", "brush_off",
})
NEGATION_GAP = 2
"""At most this many characters between a negator and the phrase it negates."""
CLAUSE_NEGATED_CHECKS = frozenset({"offsite"})
"""Checks where a negator covers the rest of its clause: "请勿加微信私下交易" warns
against both, while "不要急我也不知道" must still count 不知道."""

_QUOTED = re.compile(r"“[^”]*”|「[^」]*」|『[^』]*』|‘[^’]*’|\"[^\"\n]*\"")
_QUOTE_CHARS = frozenset('“「『‘"')
# Clause boundaries after normalisation (full-width punctuation is ASCII by then);
# chat agents also separate sentences with spaces.
_CLAUSE_BREAKS = frozenset(",.!?;:。、~…\n\r\t ")
_QUESTION_ENDINGS = ("吗", "么", "嘛")
# Characters slipped between letters to dodge off-platform filters ("加 微 信").
_FILLERS = frozenset(" \t-_*.·/|~+")
# Spaces are fillers, not clause ends, where a negator covers its clause: "不要 加 微 信".
_OFFSITE_BREAKS = _CLAUSE_BREAKS - _FILLERS


@dataclass(frozen=True, order=True)
class Hit:
    """One check that fired: the phrase (or rule) and its span in the original text."""

    start: int
    end: int
    check: str
    phrase: str

    def to_dict(self) -> dict[str, object]:
        return {"check": self.check, "phrase": self.phrase, "start": self.start, "end": self.end}


def _rhetorical(norm: str, end: int) -> bool:
    """True when the clause that holds the phrase ends as a question ("不是…吗")."""
    stop = end
    while stop < len(norm) and norm[stop] not in _CLAUSE_BREAKS:
        stop += 1
    return norm[stop - 1] in _QUESTION_ENDINGS


def _a_not_a(norm: str, neg_start: int) -> bool:
    """True for an A-not-A question (是不是, 能不能, 会不会): it asks, it does not negate."""
    return (
        norm[neg_start] == "不"
        and 0 < neg_start < len(norm) - 1
        and norm[neg_start - 1] == norm[neg_start + 1]
    )


def _negated(
    norm: str, start: int, end: int, negators: list[tuple[int, int, str]], whole_clause: bool
) -> bool:
    for neg_start, neg_end, negator in negators:
        if neg_start >= start or neg_end > start:
            continue
        if not whole_clause and neg_end < start - NEGATION_GAP:
            continue
        breaks = _OFFSITE_BREAKS if whole_clause else _CLAUSE_BREAKS
        if any(char in breaks for char in norm[neg_end:start]):
            continue
        if _a_not_a(norm, neg_start):
            continue
        if negator.endswith("不是") and _rhetorical(norm, end):
            continue
        return True
    return False


def _add_spaced_out(
    norm: str,
    lexicons: Lexicons,
    found: dict[str, list[tuple[int, int, str]]],
    excepted: dict[str, list[tuple[int, int]]],
) -> None:
    """Offsite phrases written with fillers to dodge filters ("加 微 信", "q-q联系").

    Matches on the text without filler characters and maps each span back to
    the original; only spans that really skip a filler are added (the rest were
    found by the main pass).
    """
    positions = [i for i, char in enumerate(norm) if char not in _FILLERS]
    compact = "".join(norm[i] for i in positions)
    for last, (length, entries) in lexicons.automaton.iter(compact):
        start, end = positions[last - length + 1], positions[last] + 1
        if end - start == length:
            continue
        for entry in entries:
            if entry.check != "offsite":
                continue
            if entry.kind == HIT:
                found.setdefault("offsite", []).append((start, end, entry.phrase))
            elif entry.kind == EXCEPTION:
                excepted.setdefault("offsite", []).append((start, end))


def find_hits(
    text: str | None,
    checks: Collection[str],
    lexicons: Lexicons,
    normalised: str | None = None,
) -> list[Hit]:
    """Every hit of ``checks`` (lexicon checks and ``pii``) in ``text``, by position.

    Within one check, overlapping hits are resolved leftmost-longest
    (我不知道, not also 不知道), so each stretch of text is counted once.
    ``normalised`` (``normalise(text)``) may be passed by a caller that has it.
    """
    if not text:
        return []
    norm = normalise(text) if normalised is None else normalised
    found: dict[str, list[tuple[int, int, str]]] = {}
    excepted: dict[str, list[tuple[int, int]]] = {}
    negators: list[tuple[int, int, str]] = []
    for last, (length, entries) in lexicons.automaton.iter(norm):
        end = last + 1
        start = end - length
        for entry in entries:
            if entry.kind == NEGATOR:
                negators.append((start, end, norm[start:end]))
            elif entry.check in checks:
                if entry.kind == HIT:
                    found.setdefault(entry.check, []).append((start, end, entry.phrase))
                elif entry.kind == EXCEPTION:
                    excepted.setdefault(entry.check, []).append((start, end))
    if "offsite" in checks and not _FILLERS.isdisjoint(norm):
        _add_spaced_out(norm, lexicons, found, excepted)
    quotes: list[tuple[int, int]] = []
    if found and not _QUOTE_CHARS.isdisjoint(norm):
        quotes = [(m.start(), m.end()) for m in _QUOTED.finditer(norm)]
    hits: list[Hit] = []
    for check, spans in found.items():
        kept: dict[tuple[int, int], str] = {}
        for start, end, phrase in spans:
            if (start, end) in kept:
                continue
            if any(q_start <= start and end <= q_end for q_start, q_end in quotes):
                continue
            if any(e_start <= start and end <= e_end for e_start, e_end in excepted.get(check, ())):
                continue
            if (
                check in NEGATABLE_CHECKS
                and negators
                and _negated(norm, start, end, negators, check in CLAUSE_NEGATED_CHECKS)
            ):
                continue
            kept[(start, end)] = phrase
        # Leftmost-longest, non-overlapping: each stretch of text counts once per check.
        taken_until = -1
        for (start, end), phrase in sorted(kept.items(), key=lambda kv: (kv[0][0], -kv[0][1])):
            if start >= taken_until:
                hits.append(Hit(start, end, check, phrase))
                taken_until = end
    if "pii" in checks:
        hits.extend(Hit(s.start, s.end, "pii", s.kind) for s in find_pii(text, norm))
    hits.sort()
    return hits
