"""The editable phrase lists (lexicons) and their Aho-Corasick automaton.

Each check has one plain-text file in ``lexicons/`` (one phrase a line, ``#``
comments, ``!phrase`` for an exception: a hit lying inside it does not count).
A shop overrides them with a folder of files of the same names: each line adds
a phrase, ``-phrase`` removes a built-in one (``-!phrase`` an exception).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from typing import Any

import ahocorasick

from kefu.qa.normalize import normalise

LEXICON_DIR = Path(__file__).parent / "lexicons"
AGENT_CHECKS = (
    "polite",
    "greeting",
    "closing",
    "forbidden",
    "offsite",
    "agent_negative",
    "empathy",
    "policy_refusal",
    "brush_off",
)
BUYER_CHECKS = ("buyer_upset", "buyer_waiting", "buyer_urgent")
PHRASE_CHECKS = AGENT_CHECKS + BUYER_CHECKS
NEGATION = "negation"
LEXICON_NAMES = PHRASE_CHECKS + (NEGATION,)

# What an automaton value says about a normalised key.
HIT, EXCEPTION, NEGATOR = "hit", "exception", "negator"


@dataclass(frozen=True)
class Entry:
    """One lexicon line behind an automaton key."""

    kind: str
    check: str
    phrase: str


@dataclass(frozen=True)
class Lexicons:
    """Phrases and exceptions per check, plus the negators; immutable once loaded."""

    phrases: Mapping[str, tuple[str, ...]]
    exceptions: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @cached_property
    def automaton(self) -> Any:
        """One Aho-Corasick automaton over every phrase of every lexicon (normalised)."""
        entries: dict[str, list[Entry]] = {}
        for check, phrases in self.phrases.items():
            kind = NEGATOR if check == NEGATION else HIT
            for phrase in phrases:
                entries.setdefault(normalise(phrase), []).append(Entry(kind, check, phrase))
        for check, phrases in self.exceptions.items():
            for phrase in phrases:
                entries.setdefault(normalise(phrase), []).append(Entry(EXCEPTION, check, phrase))
        automaton = ahocorasick.Automaton()
        for key, values in entries.items():
            if key:
                automaton.add_word(key, (len(key), tuple(values)))
        automaton.make_automaton()
        return automaton

    def phrase_count(self) -> int:
        return sum(len(p) for c, p in self.phrases.items() if c != NEGATION)


def _read_lines(path: Path) -> list[str]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"lexicon {path} is not UTF-8 text: {exc}") from exc
    lines = []
    for raw in text.splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            lines.append(line)
    return lines


def _split(lines: list[str]) -> tuple[list[str], list[str]]:
    phrases = [line for line in lines if not line.startswith("!")]
    exceptions = [line[1:].strip() for line in lines if line.startswith("!")]
    return phrases, [e for e in exceptions if e]


def _merge(base: list[str], override: list[str]) -> list[str]:
    """Apply an override file's lines: ``-x`` removes x, any other line adds it."""
    merged = list(base)
    for line in override:
        if line.startswith("-"):
            target = line[1:].strip()
            merged = [item for item in merged if item != target]
        elif line not in merged:
            merged.append(line)
    return merged


@cache
def _builtin() -> Lexicons:
    return _load(None)


def load_lexicons(override_dir: Path | None = None) -> Lexicons:
    """The built-in lexicons, with a shop's override folder applied when given.

    Raises ValueError for a missing folder or a file name that is no lexicon
    (a typo would otherwise be ignored silently).
    """
    if override_dir is None:
        return _builtin()
    return _load(Path(override_dir))


def _load(override_dir: Path | None) -> Lexicons:
    if override_dir is not None:
        if not override_dir.is_dir():
            raise ValueError(f"lexicon folder {override_dir} does not exist")
        unknown = sorted(p.name for p in override_dir.glob("*.txt") if p.stem not in LEXICON_NAMES)
        if unknown:
            known = ", ".join(f"{n}.txt" for n in LEXICON_NAMES)
            raise ValueError(f"unknown lexicon file(s) {', '.join(unknown)}; expected {known}")
    phrases: dict[str, tuple[str, ...]] = {}
    exceptions: dict[str, tuple[str, ...]] = {}
    for name in LEXICON_NAMES:
        lines = _read_lines(LEXICON_DIR / f"{name}.txt")
        if override_dir is not None and (override_dir / f"{name}.txt").is_file():
            lines = _merge(lines, _read_lines(override_dir / f"{name}.txt"))
        found, excepted = _split(lines)
        phrases[name] = tuple(dict.fromkeys(found))
        exceptions[name] = tuple(dict.fromkeys(excepted))
    return Lexicons(phrases=phrases, exceptions=exceptions)
