"""Thread order and running counts of the messages fact, computed with numpy on DuckDB.

facts.py defines ``seq``, ``conv_no`` and ``human_no`` with Ibis windows (the
definition Spark runs).  On DuckDB the rows are sorted once in Python, and the
same columns are then a few vectorised passes over that order: far cheaper than
window functions, and the prepared Arrow table *is* the messages fact, so it is
never copied into DuckDB (tests/metrics/test_threads.py checks both definitions
agree row for row).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

IntArray = np.ndarray[Any, Any]


def thread_sort(thread: IntArray, sent_us: IntArray, ordinal: IntArray) -> IntArray | None:
    """Row order by (thread, sent_at, file order), or None when the rows are in it already.

    numpy's lexsort is stable, so when the rows come in file order two keys do;
    otherwise the ordinal is the third.
    """
    if in_thread_order(thread, sent_us, ordinal):
        return None
    if len(ordinal) < 2 or bool(np.all(ordinal[1:] > ordinal[:-1])):
        return np.lexsort((sent_us, thread))
    return np.lexsort((ordinal, sent_us, thread))


def in_thread_order(thread: IntArray, sent_us: IntArray, ordinal: IntArray) -> bool:
    """Rows sorted by (thread, sent_at, ordinal): one vectorised pass, no sort."""
    if len(thread) < 2:
        return True
    up = thread[1:] > thread[:-1]
    same = thread[1:] == thread[:-1]
    later = sent_us[1:] > sent_us[:-1]
    tie = sent_us[1:] == sent_us[:-1]
    return bool(np.all(up | (same & (later | (tie & (ordinal[1:] > ordinal[:-1]))))))


def running_counts(
    thread: IntArray, conv_tag: IntArray, sent_us: IntArray, is_human: IntArray, gap_us: int
) -> dict[str, IntArray]:
    """conv_no and human_no of facts.build_messages for rows in thread order.

    A segment is (thread, conv_tag).  conv_no counts the conversation starts so
    far in an untagged segment (a start: its first message, or a gap over
    ``gap_us`` to the previous message of the segment); tagged segments are one
    conversation (0).  human_no counts human agent messages so far in the
    segment, this row included.
    """
    n = len(thread)
    order = _segments_together(thread, conv_tag)
    th, tag = thread, conv_tag
    sent, human = sent_us, is_human
    if order is not None:
        th, tag, sent, human = th[order], tag[order], sent[order], human[order]
    starts = np.ones(n, dtype=bool)
    if n > 1:
        starts[1:] = (th[1:] != th[:-1]) | (tag[1:] != tag[:-1])
    gap = np.zeros(n, dtype=bool)
    if n > 1:
        gap[1:] = (sent[1:] - sent[:-1]) > gap_us
    new_conv = (tag == 0) & (starts | gap)
    conv_no = _segment_cumsum(new_conv, starts)
    human_no = _segment_cumsum(human, starts)
    if order is not None:
        conv_no, human_no = _unpermute(conv_no, order), _unpermute(human_no, order)
    return {"conv_no": conv_no, "human_no": human_no}


def multi_agent_buyers(thread: IntArray, n_agents: int, n_buyers: int) -> IntArray:
    """Per row: the buyer (in its shop) has threads with more than one agent.

    Only such buyers can be handed from one agent to another (transfers.py), so
    the transfer window needs to see only their rows (and transfer marks).
    """
    n = len(thread)
    if n == 0:
        return np.zeros(0, dtype=bool)
    run_start = np.flatnonzero(np.concatenate(([True], thread[1:] != thread[:-1])))
    run_length = np.diff(np.append(run_start, n))
    run_thread = thread[run_start]
    per_shop = n_agents * n_buyers
    shop_buyer = (run_thread // per_shop) * n_buyers + run_thread % n_buyers
    # rows are in thread order, so each thread is one run: runs per (shop, buyer)
    # are its agents
    keys, counts = np.unique(shop_buyer, return_counts=True)
    multi = np.isin(shop_buyer, keys[counts > 1])
    return np.repeat(multi, run_length)


TURN_INPUTS = ("thread", "conv_tag", "conv_no", "human_no", "agent_no", "seq", "sent_us",
               "sent_day", "clock", "is_buyer", "is_human")
"""The messages fact's columns buyer_turns reads (clock: sent_bus, else sent_us)."""


def buyer_turns(rows: dict[str, IntArray]) -> dict[str, IntArray | np.ma.MaskedArray[Any, Any]]:
    """facts.turn_rows for rows in thread order (every buyer and human message at least).

    A turn is the buyer messages of one (thread, conv_tag, conv_no, human_no); in
    segment order they are one run, so the group-by is a run split, and the answer
    (the segment's human message number human_no + 1, in the same conversation) is
    the first human row after the turn's first row: no hash group-by, no join.
    answer_us and answer_clock are masked where the turn has no answer.
    """
    order = _segments_together(rows["thread"], rows["conv_tag"])
    if order is not None:
        rows = {name: values[order] for name, values in rows.items()}
    th, tag, conv, human_no = rows["thread"], rows["conv_tag"], rows["conv_no"], rows["human_no"]
    n = len(th)
    new_segment = np.ones(n, dtype=bool)
    new_segment[1:] = (th[1:] != th[:-1]) | (tag[1:] != tag[:-1])
    segment = np.cumsum(new_segment)
    buyer = np.flatnonzero(rows["is_buyer"])
    human = np.flatnonzero(rows["is_human"])
    b_seg, b_conv, b_no = segment[buyer], conv[buyer], human_no[buyer]
    first = np.ones(len(buyer), dtype=bool)
    first[1:] = (b_seg[1:] != b_seg[:-1]) | (b_conv[1:] != b_conv[:-1]) | (b_no[1:] != b_no[:-1])
    runs = np.flatnonzero(first)
    start = buyer[runs]
    out: dict[str, Any] = {"thread": th[start], "conv_tag": tag[start], "conv_no": conv[start],
                           "human_no": human_no[start]}
    for name, column in (("agent_no", "agent_no"), ("start_seq", "seq"),
                         ("start_us", "sent_us"), ("start_day", "sent_day"),
                         ("start_clock", "clock")):
        values = rows[column][buyer]
        out[name] = (np.minimum.reduceat(values, runs) if len(runs)
                     else values[:0])
    following = np.searchsorted(human, start)
    answer = human[np.minimum(following, max(len(human) - 1, 0))] if len(human) else start
    answered = ((following < len(human)) & (segment[answer] == segment[start])
                & (conv[answer] == conv[start]))
    for name, column in (("answer_us", "sent_us"), ("answer_clock", "clock")):
        out[name] = np.ma.MaskedArray(rows[column][answer], mask=~answered)
    return out


def _segments_together(thread: IntArray, conv_tag: IntArray) -> IntArray | None:
    """None when each (thread, conv_tag) segment is contiguous (the usual case), else the
    stable order that brings each segment together, keeping thread order inside it."""
    n = len(thread)
    if n < 2:
        return None
    starts = np.flatnonzero(np.concatenate(
        ([True], (thread[1:] != thread[:-1]) | (conv_tag[1:] != conv_tag[:-1]))))
    run_thread, run_tag = thread[starts], conv_tag[starts]
    by_segment = np.lexsort((run_tag, run_thread))
    t, g = run_thread[by_segment], run_tag[by_segment]
    if not bool(np.any((t[1:] == t[:-1]) & (g[1:] == g[:-1]))):
        return None
    return np.lexsort((conv_tag, thread))


def row_dtype(n: int) -> type[np.signedinteger[Any]]:
    """The narrowest of int32/int64 that holds any row position or count of n rows:
    the facts' seq, conv_no and human_no in half the memory below 2^31 rows."""
    return np.int32 if n < 2**31 else np.int64


def _segment_cumsum(values: IntArray, starts: IntArray) -> IntArray:
    """Inclusive running sum of ``values`` that restarts where ``starts`` is True."""
    total = np.cumsum(values, dtype=row_dtype(len(values)))
    first = np.flatnonzero(starts)
    before = total[first] - values[first]
    return total - np.repeat(before, np.diff(np.append(first, len(values))))


def _unpermute(values: IntArray, order: IntArray) -> IntArray:
    out = np.empty_like(values)
    out[order] = values
    return out


def as_arrow(columns: dict[str, IntArray]) -> dict[str, pa.Array]:
    return {name: pa.array(values) for name, values in columns.items()}
