"""Text encodings of exports, decided once per file, with bad bytes named by line and column.

The rule (docs/data.md, "Encodings"):
- a UTF-16 byte order mark, or the NUL pattern of UTF-16 text without one → UTF-16;
- else UTF-8 (a UTF-8 BOM is dropped) when the bytes are valid UTF-8;
- else, if the file is mostly valid UTF-8 (it has a UTF-8 BOM, or at least
  ``UTF8_MAJORITY`` valid multibyte characters per invalid sequence), the invalid
  sequences are damage: each is reported with its line and column;
- else strict GB18030 (a superset of GBK and GB2312, the usual Chinese exports);
- else the file is refused, naming the first bytes that are neither.

Nothing is ever decoded with replacement characters: a damaged byte never turns
silently into another character.
"""

from __future__ import annotations

import codecs
import re

from kefu.ingest.errors import IngestError, RowError

UTF8_MAJORITY = 4
MAX_REPORTED = 20
SURROGATES = re.compile("[\udc80-\udcff]+")
VALID_MULTIBYTE = re.compile("[^\x00-\x7f\udc80-\udcff]")


def strip_bom(data: bytes) -> bytes:
    return data[len(codecs.BOM_UTF8):] if data.startswith(codecs.BOM_UTF8) else data


def is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def utf16_codec(data: bytes) -> str | None:
    """'utf-16' (with a BOM), 'utf-16-le' / 'utf-16-be' (by the NULs of ASCII), or None."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    sample = data[:4096]
    if len(sample) < 4:
        return None
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    # Commas and newlines of a CSV are ASCII, so UTF-16 text has NULs on one side only.
    half = len(sample) // 2
    # (A CJK character whose low byte is 0, U+4E00, puts a few on the other side.)
    if odd >= half * 0.05 and even * 4 <= odd:
        return "utf-16-le"
    if even >= half * 0.05 and odd * 4 <= even:
        return "utf-16-be"
    return None


def to_utf8(data: bytes, source: str) -> bytes:
    """The file's bytes as UTF-8, by the rule above; IngestError names every bad byte."""
    codec = utf16_codec(data)
    if codec is not None:
        return check_no_nul(decode_strict(data, codec, source).encode("utf-8"), source)
    check_no_nul(data, source)
    had_bom = data.startswith(codecs.BOM_UTF8)
    data = strip_bom(data)
    if is_utf8(data):
        return data
    text = data.decode("utf-8", errors="surrogateescape")
    bad = [(m.start(), m.end()) for m in SURROGATES.finditer(text)]
    multibyte = len(VALID_MULTIBYTE.findall(text))
    if had_bom or multibyte >= UTF8_MAJORITY * len(bad):
        errors = utf8_errors(text, bad, source)
        raise IngestError(errors, damaged_message(source, "UTF-8", errors))
    try:
        return data.decode("gb18030").encode("utf-8")
    except UnicodeDecodeError as exc:
        raise neither(data, text, exc, source) from exc


def decode_strict(data: bytes, codec: str, source: str) -> str:
    try:
        return data.decode(codec)
    except UnicodeDecodeError as exc:
        prefix = data[: exc.start].decode(codec, errors="replace")
        error = located(source, prefix, data[exc.start: exc.end],
                        f"bytes that are not valid {codec.upper()}")
        raise IngestError([error], damaged_message(source, codec.upper(), [error])) from exc


def located(source: str, prefix: str, raw: bytes, reason: str) -> RowError:
    """An error at the end of ``prefix`` (the decoded text before the bad bytes)."""
    line = prefix.count("\n") + 1
    column = len(prefix) - (prefix.rfind("\n") + 1) + 1
    return RowError(source, line, "", raw.hex(" "), f"character {column}: {reason}")


def utf8_errors(text: str, bad: list[tuple[int, int]], source: str) -> list[RowError]:
    errors: list[RowError] = []
    for start, end in bad[:MAX_REPORTED]:
        raw = text[start:end].encode("utf-8", errors="surrogateescape")
        reason = ("a multibyte character cut off at the end of the file"
                  if end == len(text) and raw[0] >= 0xC0 else "bytes that are not valid UTF-8")
        errors.append(located(source, text[:start], raw, reason))
    return errors


def damaged_message(source: str, codec: str, errors: list[RowError]) -> str:
    """Damaged text is fatal even with --skip-bad-rows: a row cannot be cut out of bytes."""
    lines = [f"cannot read {source}: {len(errors)} place(s) are not valid {codec} (the file "
             "is damaged or mixes encodings); nothing was loaded"]
    return "\n".join(lines + [str(e) for e in errors])


def neither(data: bytes, utf8_text: str, exc: UnicodeDecodeError, source: str) -> IngestError:
    """Neither UTF-8 nor GB18030: refuse, naming the first bytes that are neither."""
    first_bad = SURROGATES.search(utf8_text)
    utf8_start = len(utf8_text[: first_bad.start()].encode("utf-8", "surrogateescape")) if (
        first_bad) else len(data)
    # Name the encoding that read further before failing: it is the likelier one.
    if utf8_start >= exc.start:
        assert first_bad is not None
        error = utf8_errors(utf8_text, [first_bad.span()], source)[0]
    else:
        prefix = data[: exc.start].decode("gb18030", errors="replace")
        error = located(source, prefix, data[exc.start: exc.end],
                        "bytes that are neither UTF-8 nor GB18030")
    guess = guess_encoding(data)
    hint = f" (it may be {guess})" if guess else ""
    return IngestError([error], (
        f"cannot read {source}: it is neither UTF-8, GB18030 nor UTF-16{hint}; save it as "
        f"UTF-8. First bad bytes: {error}"
    ))


def guess_encoding(data: bytes) -> str | None:
    """charset-normalizer's guess, only to help the user: kefu never decodes with it."""
    from charset_normalizer import from_bytes

    best = from_bytes(data[:65536]).best()
    return None if best is None else str(best.encoding)


def check_no_nul(data: bytes, source: str) -> bytes:
    """A NUL byte is never text: it is damage (or a binary file named .csv)."""
    first = data.find(b"\x00")
    if first < 0:
        return data
    errors: list[RowError] = []
    while first >= 0 and len(errors) < MAX_REPORTED:
        prefix = data[:first].decode("utf-8", errors="replace")
        errors.append(located(source, prefix, b"\x00", "a NUL byte (the file is damaged)"))
        end = data.find(b"\n", first)
        first = -1 if end < 0 else data.find(b"\x00", end)
    raise IngestError(errors, damaged_message(source, "text", errors))
