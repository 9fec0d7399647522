"""Vectorized conversion of raw columns to the canonical types.

Each converter takes a raw column (any Arrow type, as a reader found it) and
returns the typed column plus a mask of the cells that could not be converted.
Values are parsed by Arrow compute kernels, and lookups (enums, booleans,
scores) translate the *distinct* values only, so cost does not grow with Python
work per row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

TIMESTAMP_US = pa.timestamp("us")
UTC_US = pa.timestamp("us", "UTC")

# Accepted as is by Arrow's ISO 8601 cast.
CANONICAL_TS = r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:?\d{2})?$"
# What Chinese exports also write: 2024/6/1 9:05 (slashes, one digit, no seconds),
# 2024年6月1日 10:00.
LOOSE_TS = (
    r"^(?P<y>\d{4})[-/.年](?P<mo>\d{1,2})[-/.月](?P<d>\d{1,2})(?:日\s*|[ T]+)"
    r"(?P<h>\d{1,2}):(?P<mi>\d{1,2})"
    r"(?::(?P<s>\d{1,2}))?(?P<f>\.\d{1,9})?\s*(?P<z>[Zz]|[+-]\d{2}:?\d{2})?$"
)
DATE_ONLY = r"^\d{4}[-/.年]\d{1,2}[-/.月]\d{1,2}日?$"
NUMERIC_TS = r"^\d+(\.\d+)?$"
OFFSET_TS = r"(Z|[+-]\d{2}:?\d{2})$"
# Excel serial days (1900 date system) of 2000-01-01 and 2100-01-01, and its epoch.
EXCEL_SERIAL_RANGE = (36526, 73051)
EXCEL_EPOCH_US = -2209161600 * 1_000_000  # 1899-12-30 00:00 as µs since 1970
# Timestamps outside these years are refused (a typo, 9999-12-31 placeholders …).
FIRST_YEAR, LAST_YEAR = 2000, 2099

# Money: digits with an optional decimal point; a comma only as a thousands separator
# between groups of exactly three digits (1,299.00); an exponent only without commas.
MONEY = (
    r"^-?((\d{1,3}([,，]\d{3})+|\d+)(\.\d*)?|\.\d+)$"
    r"|^-?(\d+(\.\d*)?|\.\d+)[eE][-+]?\d+$"
)
DECIMAL_COMMA = r"^-?\d[\d.]*[,，]\d{1,2}$|^-?\d[\d,，]*[,，]\d{1,2}$|^-?\d{1,3}(\.\d{3})+,\d+$"
MAX_AMOUNT = 1e9
"""Larger amounts (one order, one refund) are refused as out of range (CNY)."""


@dataclass
class Converted:
    values: pa.ChunkedArray
    bad: np.ndarray
    """True where the cell is not empty but could not be converted."""


def as_array(values: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray:
    return values if isinstance(values, pa.ChunkedArray) else pa.chunked_array([values])


def mask(values: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """A boolean Arrow column as a numpy mask (null = False)."""
    filled = pc.fill_null(values, False)
    if isinstance(filled, pa.ChunkedArray):
        if filled.num_chunks == 0:
            return np.zeros(0, dtype=bool)
        return np.asarray(filled.to_numpy(), dtype=bool)
    return np.asarray(filled.to_numpy(zero_copy_only=False), dtype=bool)


def is_string(values: pa.ChunkedArray) -> bool:
    return pa.types.is_string(values.type) or pa.types.is_large_string(values.type)


def to_text(values: pa.ChunkedArray) -> pa.ChunkedArray:
    """Any column as text; integral floats lose '.0' so numeric ids read as written."""
    kind = values.type
    if pa.types.is_dictionary(kind):
        values = values.cast(kind.value_type)
        kind = values.type
    if pa.types.is_string(kind):
        return values
    if pa.types.is_large_string(kind):
        return values.cast(pa.string())
    if pa.types.is_boolean(kind):
        return pc.if_else(values, "true", "false")
    if pa.types.is_floating(kind):
        # Spreadsheets and pandas store ids as floats: 123456789012.0 is the id 123456789012.
        whole = pc.and_(pc.equal(pc.floor(values), values), pc.less(pc.abs(values), 2.0**62))
        as_int = pc.cast(pc.if_else(whole, values, 0.0), pa.int64())
        text = pc.if_else(whole, pc.cast(as_int, pa.string()), pc.cast(values, pa.string()))
        return as_array(pc.if_else(pc.is_nan(values), pa.scalar(None, pa.string()), text))
    return values.cast(pa.string())


def empty_mask(values: pa.ChunkedArray) -> np.ndarray:
    """Null, NaN or empty text (text is trimmed before, see ``text``)."""
    if is_string(values):
        return mask(pc.or_kleene(pc.is_null(values), pc.equal(values, "")))
    if pa.types.is_floating(values.type):
        return mask(pc.is_null(values, nan_is_null=True))
    return mask(pc.is_null(values))


def text(values: pa.ChunkedArray, trim: bool) -> pa.ChunkedArray:
    out = to_text(values)
    return pc.utf8_trim_whitespace(out) if trim else out


def lookup(
    values: pa.ChunkedArray, translate: Callable[[str], object | None], out_type: pa.DataType
) -> Converted:
    """Translate each distinct text value once, then map every row by index."""
    keys = to_text(values)
    distinct = pc.unique(keys).drop_null()
    source: list[str] = []
    target: list[object] = []
    for key in distinct.to_pylist():
        result = translate(key) if key != "" else None
        if result is not None:
            source.append(key)
            target.append(result)
    index = pc.index_in(keys, value_set=pa.array(source, pa.string()))
    out = as_array(pa.array(target, out_type).take(index))
    bad = mask(pc.is_null(out)) & ~empty_mask(keys)
    return Converted(out, bad)


def translate_with(mapping: Mapping[str, object]) -> Callable[[str], object | None]:
    def translate(key: str) -> object | None:
        return mapping.get(key.lower())

    return translate


def to_bool(values: pa.ChunkedArray, mapping: Mapping[str, bool]) -> Converted:
    if pa.types.is_boolean(values.type):
        return Converted(values, np.zeros(len(values), dtype=bool))
    return lookup(values, translate_with(mapping), pa.bool_())


def to_money(values: pa.ChunkedArray) -> Converted:
    """Amounts (text as MONEY describes); see ``money_out_of_range`` for the range."""
    empty = empty_mask(values)
    if pa.types.is_integer(values.type) or pa.types.is_floating(values.type):
        out = as_array(pc.cast(values, pa.float64()))
    else:
        raw = to_text(values)
        cleaned = pc.replace_substring_regex(raw, r"[¥￥\s元]|^CNY|^RMB", "")
        ok = pc.match_substring_regex(cleaned, MONEY)
        digits = pc.replace_substring_regex(cleaned, "[,，]", "")
        out = as_array(pc.cast(pc.if_else(ok, digits, pa.scalar(None, pa.string())),
                               pa.float64()))
    return Converted(out, mask(pc.is_null(out)) & ~empty)


def money_out_of_range(values: pa.ChunkedArray) -> np.ndarray:
    """Infinite amounts (1e309) and amounts above MAX_AMOUNT; NaN and null are not here."""
    return mask(pc.and_(pc.invert(pc.less_equal(pc.abs(values), MAX_AMOUNT)),
                        pc.invert(pc.is_nan(values))))


def decimal_comma(values: pa.ChunkedArray) -> np.ndarray:
    """Cells written with a decimal comma (299,00 or 1.299,00): refused, never guessed."""
    if not is_string(values):
        return np.zeros(len(values), dtype=bool)
    return mask(pc.match_substring_regex(pc.utf8_trim_whitespace(values), DECIMAL_COMMA))


def out_of_years(values: pa.ChunkedArray) -> np.ndarray:
    """Instants before FIRST_YEAR or from LAST_YEAR + 1 on."""
    low = pa.scalar(dt.datetime(FIRST_YEAR, 1, 1), TIMESTAMP_US)
    high = pa.scalar(dt.datetime(LAST_YEAR + 1, 1, 1), TIMESTAMP_US)
    return mask(pc.or_(pc.less(values, low), pc.greater_equal(values, high)))


def scatter(n: int, parts: list[tuple[np.ndarray, pa.Array]], kind: pa.DataType) -> pa.Array:
    """Rebuild a column of length n from (row indices, values) parts."""
    order = np.concatenate([idx for idx, _ in parts]) if parts else np.zeros(0, np.int64)
    if len(order) == 0:
        return pa.nulls(n, kind)
    values = pa.concat_arrays([vals.cast(kind) for _, vals in parts])
    if len(order) == n and np.array_equal(order, np.arange(n)):
        return values
    full = np.full(n, len(values), dtype=np.int64)  # points past the end → null
    full[order] = np.arange(len(order))
    padded = pa.concat_arrays([values, pa.nulls(1, kind)])
    return padded.take(pa.array(full))


def cast_rows(values: pa.Array, kind: pa.DataType) -> tuple[pa.Array, np.ndarray]:
    """Cast text to a timestamp type; cells Arrow rejects (2024-02-30, 25:00) become null + bad."""
    try:
        return values.cast(kind), np.zeros(len(values), dtype=bool)
    except pa.ArrowInvalid:
        pass
    outs: list[pa.Array] = []
    bad = np.zeros(len(values), dtype=bool)
    step = 4096
    for start in range(0, len(values), step):
        chunk = values.slice(start, step)
        try:
            outs.append(chunk.cast(kind))
            continue
        except pa.ArrowInvalid:
            pass
        # Only chunks holding a bad cell are cast cell by cell.
        cells: list[pa.Array] = []
        for i in range(len(chunk)):
            try:
                cells.append(chunk.slice(i, 1).cast(kind))
            except pa.ArrowInvalid:
                cells.append(pa.nulls(1, kind))
                bad[start + i] = True
        outs.append(pa.concat_arrays(cells))
    return pa.concat_arrays(outs), bad


def normalize_loose(values: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """Rewrite loose timestamps to ISO 8601; returns the text and a mask of unparsable cells."""
    parts = pc.extract_regex(values, LOOSE_TS)
    ok = mask(pc.is_valid(parts))
    if not ok.any():
        return values, ~ok

    def field(name: str, width: int, default: str = "") -> pa.Array:
        raw = pc.struct_field(parts, name)
        if default:
            raw = pc.if_else(pc.equal(raw, ""), default, raw)
        return pc.utf8_lpad(raw, width=width, padding="0")

    zone = pc.struct_field(parts, "z")
    zone = pc.if_else(pc.equal(zone, "z"), "Z", zone)
    rebuilt = pc.binary_join_element_wise(
        field("y", 4), "-", field("mo", 2), "-", field("d", 2), " ",
        field("h", 2), ":", field("mi", 2), ":", field("s", 2, "00"),
        pc.struct_field(parts, "f"), zone, "",
    )
    return pc.if_else(pa.array(ok), rebuilt, values), ~ok


def to_timestamp(values: pa.ChunkedArray, tz: str) -> Converted:
    """Parse to the UTC instant (naive timestamp[us]); naive input is wall-clock time in tz."""
    n = len(values)
    kind = values.type
    if pa.types.is_timestamp(kind):
        if kind.tz is None:
            local = pc.cast(values, TIMESTAMP_US, safe=False)
            aware = pc.assume_timezone(local, tz, ambiguous="earliest", nonexistent="earliest")
        else:
            aware = values
        out = pc.cast(pc.cast(aware, UTC_US, safe=False), TIMESTAMP_US)
        return Converted(as_array(out), np.zeros(n, dtype=bool))
    raw = to_text(values).combine_chunks()
    empty = empty_mask(as_array(raw))
    fast = naive_iso(raw, empty, tz)
    if fast is not None:
        return Converted(as_array(fast), np.zeros(n, dtype=bool))
    canonical = mask(pc.match_substring_regex(raw, CANONICAL_TS))
    bad = np.zeros(n, dtype=bool)
    numeric = ~canonical & ~empty & mask(pc.match_substring_regex(raw, NUMERIC_TS))
    parts: list[tuple[np.ndarray, pa.Array]] = []
    if numeric.any():
        idx = np.flatnonzero(numeric)
        instants, unparsable = numeric_instants(raw.take(pa.array(idx)), tz)
        parts.append((idx[~unparsable], instants.filter(pa.array(~unparsable))))
        bad[idx[unparsable]] = True
        empty = empty | numeric  # handled: the text paths below skip these rows
    loose = ~canonical & ~empty
    if loose.any():
        idx = np.flatnonzero(loose)
        fixed, unparsable = normalize_loose(raw.take(pa.array(idx)))
        bad[idx[unparsable]] = True
        raw = scatter(n, [(np.flatnonzero(~loose), raw.filter(pa.array(~loose))),
                          (idx, fixed)], pa.string())
    zoned = mask(pc.match_substring_regex(raw, OFFSET_TS))
    naive_rows = np.flatnonzero(~zoned & ~empty & ~bad)
    if len(naive_rows):
        taken = raw if len(naive_rows) == n else raw.take(pa.array(naive_rows))
        local, cast_bad = cast_rows(taken, TIMESTAMP_US)
        aware = pc.assume_timezone(local, tz, ambiguous="earliest", nonexistent="earliest")
        parts.append((naive_rows, pc.cast(pc.cast(aware, UTC_US), TIMESTAMP_US)))
        bad[naive_rows[cast_bad]] = True
    zoned_rows = np.flatnonzero(zoned & ~empty & ~bad)
    if len(zoned_rows):
        utc, cast_bad = cast_rows(raw.take(pa.array(zoned_rows)), UTC_US)
        parts.append((zoned_rows, pc.cast(utc, TIMESTAMP_US)))
        bad[zoned_rows[cast_bad]] = True
    out = scatter(n, parts, TIMESTAMP_US)
    if bad.any():
        out = pc.if_else(pa.array(bad), pa.scalar(None, TIMESTAMP_US), out)
    return Converted(as_array(out), bad)


def numeric_instants(values: pa.Array, tz: str) -> tuple[pa.Array, np.ndarray]:
    """Numbers in a time column: Excel serial days (shop time), epoch seconds or
    milliseconds (instants), told apart by size; other numbers are unparsable."""
    number = np.asarray(pc.cast(values, pa.float64()).to_numpy(zero_copy_only=False))
    serial = (number >= EXCEL_SERIAL_RANGE[0]) & (number < EXCEL_SERIAL_RANGE[1])
    seconds = (number >= 946_684_800) & (number < 4_102_444_800)
    millis = (number >= 946_684_800_000) & (number < 4_102_444_800_000)
    micros = np.zeros(len(number), dtype=np.int64)
    # Serials are rounded to the millisecond: Excel stores 10:00 as 45444.41666666666.
    micros[serial] = EXCEL_EPOCH_US + np.round(number[serial] * 86_400_000).astype(
        np.int64) * 1000
    micros[seconds] = np.round(number[seconds] * 1_000_000).astype(np.int64)
    micros[millis] = np.round(number[millis] * 1000).astype(np.int64)
    local = pa.array(micros, TIMESTAMP_US)
    aware = pc.assume_timezone(local, tz, ambiguous="earliest", nonexistent="earliest")
    from_serial = pc.cast(pc.cast(aware, UTC_US), TIMESTAMP_US)
    out = pc.if_else(pa.array(serial), from_serial, local)
    return out, ~(serial | seconds | millis)


def naive_iso(raw: pa.Array, empty: np.ndarray, tz: str) -> pa.Array | None:
    """The common case in one cast: every cell naive ISO 8601 with at least minutes."""
    cells = pc.if_else(pa.array(empty), pa.scalar(None, pa.string()), raw) if empty.any() else raw
    shortest = pc.min(pc.binary_length(cells)).as_py()
    # Arrow also reads 2024-06-01 and 2024-06-01 10 as times; those are errors here.
    if shortest is None or shortest < len("2024-06-01 10:00"):
        return None
    try:
        local = cells.cast(TIMESTAMP_US)
    except pa.ArrowInvalid:
        return None
    aware = pc.assume_timezone(local, tz, ambiguous="earliest", nonexistent="earliest")
    out: pa.Array = pc.cast(pc.cast(aware, UTC_US), TIMESTAMP_US)
    return out


def local_time(utc: pa.ChunkedArray, tz: str) -> pa.ChunkedArray:
    """Wall-clock time in tz of naive UTC instants."""
    offset = fixed_offset_us(utc, tz)
    if offset is not None:
        # one integer add instead of a time-zone lookup per value (same result)
        shifted = pc.add(pc.cast(utc, pa.int64()), offset)
        return as_array(pc.cast(shifted, utc.type))
    aware = pc.cast(pc.assume_timezone(utc, "UTC"), pa.timestamp("us", tz))
    return as_array(pc.local_timestamp(aware))


def fixed_offset_us(utc: pa.ChunkedArray, tz: str) -> int | None:
    """tz's UTC offset in microseconds when it is the same over all of ``utc``'s range.

    The offset is read every 30 minutes from the first instant to the last: a
    change would show in the next reading unless the zone changed back within
    30 minutes, which no zone does.  Ranges over two years are not checked
    (None: the caller converts value by value).  Asia/Shanghai has had one
    offset since 1991.
    """
    bounds = pc.min_max(utc)
    first, last = bounds["min"].as_py(), bounds["max"].as_py()
    if first is None or last is None:
        return None
    step = dt.timedelta(minutes=30)
    steps = (last - first) // step + 1
    if steps > 2 * 24 * 366 * 2:
        return None
    zone = ZoneInfo(tz)
    start = first.replace(tzinfo=dt.UTC)
    offset = start.astimezone(zone).utcoffset()
    for k in range(1, steps + 1):
        if (start + min(k * step, last - first)).astimezone(zone).utcoffset() != offset:
            return None
    return None if offset is None else offset // dt.timedelta(microseconds=1)
