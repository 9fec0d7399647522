"""Personal data typed into chat: mobile numbers, ID-card numbers, e-mail, street addresses.

Patterns run on the normalised text (full-width digits become ASCII), whose
offsets equal the original's. Reported hits carry the kind of data, never the
value, so QA output does not spread the personal data it found.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kefu.qa.normalize import normalise

# 1[3-9] + 9 digits, optionally grouped by spaces/dashes (138 1234 5678), not
# part of a longer digit run (order numbers, tracking numbers).
_MOBILE = re.compile(r"(?<![\d])(?:\+?86[ -]?)?1[3-9]\d(?:[ -]?\d){8}(?![ -]?\d)")
_ID_CARD = re.compile(r"(?<!\d)\d{17}[\dx](?![\dx])", re.IGNORECASE)
_EMAIL = re.compile(r"[a-z0-9._%+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}", re.IGNORECASE)

_HAN = "\u4e00-\u9fff"
_NUM = "0-9一二三四五六七八九十百零〇两"
_ADMIN = "省|自治区|市|区|县|旗|镇|乡|街道"
_STREET = "路|街|大道|大街|巷|弄|胡同|小区|花园|公寓|大厦|家园|新村|村|苑"
_UNIT = "号院|号楼|号|栋|幢|座|单元|层|楼|室|户"
_PART = rf"(?:[{_HAN}a-z]{{1,12}}?(?:{_ADMIN}|{_STREET})|[{_NUM}a-z-]{{1,6}}(?:{_UNIT}))"
_ADDRESS = re.compile(rf"(?:{_PART}){{2,}}", re.IGNORECASE)
_ADDRESS_HINT = re.compile(rf"(?:{_STREET}|{_UNIT})")
_STREET_END = re.compile(rf"(?:{_STREET})$")
_UNIT_PART = re.compile(rf"[{_NUM}a-z-]{{1,6}}(?:{_UNIT})", re.IGNORECASE)
_ADMIN_PART = re.compile(rf"[{_HAN}]{{1,12}}?(?:{_ADMIN})")
_STREET_PART = re.compile(rf"[{_HAN}a-z]{{1,12}}?(?:{_STREET})", re.IGNORECASE)
# Cheap tests first: most chat lines have no long digit run, no "@", no place word.
_LONG_DIGIT_RUN = re.compile(r"\d[\d -]{9,}")

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


@dataclass(frozen=True)
class PiiSpan:
    kind: str  # mobile | id_card | email | address
    start: int
    end: int


def valid_id_card(number: str) -> bool:
    """The GB 11643 checksum of an 18-character resident ID number."""
    if len(number) != 18 or not number[:17].isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(number[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == number[17].upper()


def _is_address(candidate: str) -> bool:
    """A street-level place plus a house/unit number, or two admin levels plus a street."""
    streets = len(_STREET_PART.findall(candidate))
    units = len(_UNIT_PART.findall(candidate))
    admins = len(_ADMIN_PART.findall(candidate))
    return (streets >= 1 and units >= 1) or (admins >= 2 and streets >= 1) or units >= 3


_LEAD_IN = re.compile(r"^.{0,8}?(?:住在|地址是|地址|寄到|送到|发到|改到|改成|改为|在|到|是)")


def _lead_in(candidate: str) -> int:
    """Length of words before the address proper ("我家住在…"), kept out of the span."""
    match = _LEAD_IN.match(candidate)
    if match and _is_address(candidate[match.end() :]):
        return match.end()
    return 0


def find_pii(text: str, normalised: str | None = None) -> list[PiiSpan]:
    """Every personal-data span in ``text`` (offsets into ``text``), sorted by position."""
    norm = normalise(text) if normalised is None else normalised
    digits = _LONG_DIGIT_RUN.search(norm) is not None
    at_sign = "@" in norm
    place = _ADDRESS_HINT.search(norm) is not None
    if not (digits or at_sign or place):
        return []
    spans: list[PiiSpan] = []
    taken: list[tuple[int, int]] = []

    def add(kind: str, start: int, end: int) -> None:
        if any(start < e and s < end for s, e in taken):
            return
        taken.append((start, end))
        spans.append(PiiSpan(kind, start, end))

    if digits:
        for match in _ID_CARD.finditer(norm):
            if valid_id_card(match.group()):
                add("id_card", match.start(), match.end())
    if at_sign:
        for match in _EMAIL.finditer(norm):
            add("email", match.start(), match.end())
    if digits:
        for match in _MOBILE.finditer(norm):
            add("mobile", match.start(), match.end())
    if place:
        for match in _ADDRESS.finditer(norm):
            if _is_address(match.group()):
                add("address", match.start() + _lead_in(match.group()), match.end())
    return sorted(spans, key=lambda s: (s.start, s.end))


def mask_pii(text: str) -> str:
    """``text`` with personal data replaced by ``*``, keeping its length.

    A mobile number keeps its first 3 and last 4 digits (138****5678), the
    usual way shops show it; everything else is masked whole. The length is
    kept so that offsets of other hits still point at the same characters.
    """
    if not text:
        return text
    chars = list(text)
    for span in find_pii(text):
        positions = range(span.start, span.end)
        if span.kind == "mobile":
            # The last 11 digits are the number itself (a +86 prefix is skipped).
            digits = [i for i in positions if chars[i].isdigit()][-11:]
            positions = range(0)
            for i in digits[3:-4]:
                chars[i] = "*"
        for i in positions:
            if not chars[i].isspace():
                chars[i] = "*"
    return "".join(chars)
