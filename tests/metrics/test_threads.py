"""The numpy thread columns (metrics/threads.py) equal facts.py's Ibis window definitions."""

from __future__ import annotations

import ibis
import numpy as np
import pyarrow as pa
import pytest

from kefu.metrics import threads
from kefu.metrics.facts import add_thread_order, build_messages

GAP_US = 30 * 60 * 1_000_000


def random_messages(seed: int, n: int = 400) -> pa.Table:
    rng = np.random.default_rng(seed)
    return pa.table({
        "thread": rng.integers(0, 12, n).astype(np.int64),
        # tags interleave inside threads; 0 = no conversation_id
        "conv_tag": rng.choice([0, 0, 0, 1, 2, 3], n).astype(np.int32),
        # coarse times: many ties, and gaps around the 30 minute session gap
        "sent_us": (rng.integers(0, 40, n) * 20 * 60 * 1_000_000).astype(np.int64),
        "ordinal": rng.permutation(n).astype(np.int64),
        "is_human": rng.random(n) < 0.4,
    })


def by_windows(table: pa.Table) -> dict[tuple[int, ...], tuple[int, int, int]]:
    """(thread, sent, ordinal) -> (seq rank in thread, conv_no, human_no), by facts.py."""
    con = ibis.duckdb.connect()
    con.con.register("m", table)
    m = build_messages(add_thread_order(con.table("m")), GAP_US).to_pyarrow()
    out = {}
    for row in m.to_pylist():
        out[(row["thread"], row["sent_us"], row["ordinal"])] = (row["conv_no"], row["human_no"])
    return out


@pytest.mark.parametrize("seed", range(8))
def test_numpy_running_counts_equal_the_window_definition(seed: int) -> None:
    table = random_messages(seed)
    th, sent, ordinal = (table.column(c).to_numpy() for c in ("thread", "sent_us", "ordinal"))
    order = threads.thread_sort(th, sent, ordinal)
    assert order is not None
    assert threads.thread_sort(th[order], sent[order], ordinal[order]) is None
    tag = table.column("conv_tag").to_numpy()[order]
    human = table.column("is_human").to_numpy(zero_copy_only=False)[order]
    counts = threads.running_counts(th[order], tag, sent[order], human, GAP_US)
    expected = by_windows(table)
    got = {(int(t), int(s), int(o)): (int(c), int(h)) for t, s, o, c, h in zip(
        th[order], sent[order], ordinal[order], counts["conv_no"], counts["human_no"],
        strict=True)}
    assert got == expected


def test_running_counts_by_hand() -> None:
    # one thread: untagged a(0) b(+10 min) | gap 40 min | c ; a tagged message in between
    minute = 60 * 1_000_000
    thread = np.array([7, 7, 7, 7])
    tag = np.array([0, 5, 0, 0])
    sent = np.array([0, 5, 10, 50]) * minute
    human = np.array([False, True, True, False])
    counts = threads.running_counts(thread, tag, sent, human, GAP_US)
    # untagged: a starts conversation 1, b (10 min later) stays in it, c (40 min) starts 2
    assert counts["conv_no"].tolist() == [1, 0, 1, 2]
    # human_no runs per (thread, tag): untagged segment sees b's human message only
    assert counts["human_no"].tolist() == [0, 1, 1, 1]


def test_multi_agent_buyers_marks_every_row_of_a_buyer_with_two_agents() -> None:
    n_agents, n_buyers = 3, 4

    def thread(shop: int, agent: int, buyer: int) -> int:
        return (shop * n_agents + agent) * n_buyers + buyer

    rows = np.array(sorted([thread(0, 0, 1), thread(0, 0, 1), thread(0, 2, 1),
                            thread(0, 1, 2), thread(1, 0, 1)]))
    multi = threads.multi_agent_buyers(rows, n_agents, n_buyers)
    # buyer 1 in shop 0 talks to agents 0 and 2; buyer 2 and shop 1's buyer 1 to one each
    expected = {thread(0, 0, 1): True, thread(0, 2, 1): True,
                thread(0, 1, 2): False, thread(1, 0, 1): False}
    assert [bool(x) for x in multi] == [expected[int(t)] for t in rows]
