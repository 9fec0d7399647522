"""Arrow helpers of loading: masks, and local times of UTC instants.

Typing raw cells (text, times, amounts, enums) is declared in kefu.ingest.rules and
runs as SQL (rules_sql) or Spark (rules_spark); what remains here works on typed
columns.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

TIMESTAMP_US = pa.timestamp("us")
UTC_US = pa.timestamp("us", "UTC")


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
