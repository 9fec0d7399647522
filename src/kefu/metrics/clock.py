"""The shop's clock settings: business hours (营业时间) and the business-day cut (业务天分割点).

Both are applied to the inputs before the facts are built, so every metric,
every period and every evidence row follows them, on every engine:

- business hours give each message ``sent_bus``: the business microseconds
  elapsed since 1970-01-01 on the shop's wall clock.  A response time is the
  difference of two such values, so the clock pauses outside the hours;
- a day cut-off moves every local time back by the cut before its day is
  taken, so with 03:00 a message at 02:59 belongs to the previous day, one
  at 03:00 to its own day; periods run from the cut to the cut.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from kefu.config import MetricParams, split_list
from kefu.ingest.dataset import Dataset
from kefu.metrics.facts import US_PER_DAY


def business_us(local_us: np.ndarray, window: tuple[int, int]) -> np.ndarray:
    """Business microseconds from 1970-01-01 00:00 up to each wall-clock instant.

    The hours are [open, close) every day; close < open is a window over
    midnight ([00:00, close) and [open, 24:00)).  Nulls stay nulls (masked).
    """
    opens, closes = window
    day, tod = np.divmod(local_us, US_PER_DAY)
    if opens < closes:
        per_day = closes - opens
        return np.asarray(day * per_day + np.clip(tod - opens, 0, per_day))
    per_day = closes + US_PER_DAY - opens
    return np.asarray(day * per_day + np.minimum(tod, closes) + np.maximum(tod - opens, 0))


def _local_us(column: pa.ChunkedArray) -> np.ndarray:
    return np.asarray(pc.cast(column, pa.int64()).to_numpy(zero_copy_only=False))


def transfer_marks(messages: pa.Table, params: MetricParams) -> pa.ChunkedArray | None:
    """System messages naming a transfer (转接 …), or None when the text is not there."""
    markers = split_list(params.transfer_markers)
    if not markers or "content" not in messages.column_names:
        return None
    # only system messages are read: they are few, the text of all is large
    system = pc.indices_nonzero(pc.fill_null(pc.equal(messages.column("sender"), "system"),
                                             False))
    content = pc.fill_null(pc.take(messages.column("content"), system), "")
    named = pc.match_substring(content, markers[0])
    for marker in markers[1:]:
        named = pc.or_(named, pc.match_substring(content, marker))
    marks = np.zeros(messages.num_rows, dtype=bool)
    marks[np.asarray(system)[np.asarray(named, dtype=bool)]] = True
    return pa.chunked_array([pa.array(marks)])


def option_columns(messages: pa.Table, params: MetricParams) -> dict[str, pa.ChunkedArray]:
    """Per-message columns the options need: sent_bus, is_transfer_mark (when they apply)."""
    out: dict[str, pa.ChunkedArray] = {}
    window = params.business_window_us
    if window is not None:
        local = _local_us(messages.column("sent_local"))
        out["sent_bus"] = pa.chunked_array([pa.array(business_us(local, window))])
    marks = transfer_marks(messages, params)
    if marks is not None:
        out["is_transfer_mark"] = marks
    return out


def with_option_columns(
    extra: pa.Table | None, messages: pa.Table, params: MetricParams
) -> pa.Table | None:
    """``extra`` (the checks' flags) plus the option columns it does not hold yet."""
    have = set(extra.column_names) if extra is not None else set()
    wanted = {k: v for k, v in option_columns(messages, params).items() if k not in have}
    if not wanted:
        return extra
    if extra is None:
        return pa.table(wanted)
    for name, column in wanted.items():
        extra = extra.append_column(name, column)
    return extra


def message_columns(
    flags: pa.Table | None, messages: pa.Table, params: MetricParams, qa: bool
) -> pa.Table | None:
    """Every extra per-message column of a run: the checks' qa_* flags (computed here when
    ``qa`` and not given) and the options' columns."""
    extra = with_option_columns(flags, messages, params)
    if qa and (extra is None or "qa_polite" not in extra.column_names):
        from kefu.metrics.quality import message_flags

        checks = message_flags(messages)
        if extra is not None:
            for name in extra.column_names:
                checks = checks.append_column(name, extra.column(name))
        extra = checks
    return extra


def shift_local(table: pa.Table, cutoff_us: int) -> pa.Table:
    """Every ``*_local`` column moved back by the cut, so its date is the business day."""
    delta = pa.scalar(cutoff_us, pa.duration("us"))
    for i, name in enumerate(table.column_names):
        if name.endswith("_local"):
            table = table.set_column(i, name, pc.subtract(table.column(name), delta))
    return table


def with_day_cutoff(dataset: Dataset, params: MetricParams) -> Dataset:
    """The dataset whose local times (hence days) follow the business-day cut.

    Only the preparation reads the shifted copy; evidence shows the original times.
    """
    cutoff = params.day_cutoff_us
    if cutoff == 0:
        return dataset
    shifted = {
        name: shift_local(table, cutoff)
        for name in ("messages", "orders", "ratings", "cases", "sessions")
        if (table := dataset.table(name)) is not None
    }
    return replace(dataset, **shifted)
