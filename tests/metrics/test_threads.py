"""The numpy thread columns (metrics/threads.py) equal facts.py's Ibis window definitions."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import ibis
import numpy as np
import pyarrow as pa
import pytest

from kefu.demo import DemoConfig, generate
from kefu.ingest import load_dir
from kefu.metrics import MetricParams, compute, engine, threads
from kefu.metrics.facts import add_thread_order, build_messages, turn_rows

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


def turn_messages(seed: int, n: int = 500) -> pa.Table:
    """Random messages with the columns facts.turn_rows reads: buyers, humans, bots."""
    rng = np.random.default_rng(seed)
    sender = rng.choice(["buyer", "buyer", "human", "bot"], n)
    sent = (rng.integers(0, 40, n) * 20 * 60 * 1_000_000).astype(np.int64)
    return pa.table({
        "thread": rng.integers(0, 9, n).astype(np.int64),
        "conv_tag": rng.choice([0, 0, 0, 1, 2], n).astype(np.int32),
        "sent_us": sent,
        "ordinal": rng.permutation(n).astype(np.int64),
        "is_buyer": sender == "buyer",
        "is_human": sender == "human",
        "agent_no": rng.integers(0, 3, n).astype(np.int32),
        "sent_day": (sent // (86_400 * 1_000_000)).astype(np.int32),
        # a clock that is not the time itself (as with business hours)
        "sent_bus": (sent // 3 + rng.integers(0, 5, n)).astype(np.int64),
    })


TURN_COLUMNS = ("thread", "conv_tag", "conv_no", "human_no", "agent_no", "start_seq",
                "start_us", "start_day", "start_clock", "answer_us", "answer_clock")


def turns_by_definition(table: pa.Table) -> set[tuple[object, ...]]:
    con = ibis.duckdb.connect()
    con.con.register("m", table)
    m = build_messages(add_thread_order(con.table("m")), GAP_US)
    rows = turn_rows(m).to_pyarrow().to_pylist()
    return {tuple(row[c] for c in TURN_COLUMNS) for row in rows}


@pytest.mark.parametrize("seed", range(8))
def test_numpy_buyer_turns_equal_the_turn_definition(seed: int) -> None:
    table = turn_messages(seed)
    th, sent, ordinal = (table.column(c).to_numpy() for c in ("thread", "sent_us", "ordinal"))
    order = threads.thread_sort(th, sent, ordinal)
    assert order is not None
    rows = {c: table.column(c).to_numpy(zero_copy_only=False)[order]
            for c in ("thread", "conv_tag", "sent_us", "is_buyer", "is_human", "agent_no",
                      "sent_day")}
    rows["clock"] = table.column("sent_bus").to_numpy()[order]
    counts = threads.running_counts(rows["thread"], rows["conv_tag"], rows["sent_us"],
                                    rows["is_human"], GAP_US)
    rows.update(counts)
    # seq as facts.add_thread_order numbers it: 0, 1, … along each thread
    new_thread = np.concatenate(([True], rows["thread"][1:] != rows["thread"][:-1]))
    starts = np.flatnonzero(new_thread)
    position = np.arange(len(order))
    rows["seq"] = position - np.repeat(starts, np.diff(np.append(starts, len(order))))
    turns = threads.buyer_turns(rows)
    got = set()
    for i in range(len(turns["thread"])):
        got.add(tuple(
            None if np.ma.is_masked(turns[c][i]) else int(turns[c][i]) for c in TURN_COLUMNS))
    expected = turns_by_definition(table)
    assert got == expected
    assert any(t[-1] is None for t in got) and any(t[-1] is not None for t in got)


def test_buyer_turns_by_hand() -> None:
    # one thread, untagged: buyer, buyer, bot, human, buyer, then a human 45 minutes on
    minute = 60 * 1_000_000
    sent = np.array([0, 1, 2, 3, 5, 50]) * minute
    rows = {
        "thread": np.zeros(6, dtype=np.int64), "conv_tag": np.zeros(6, dtype=np.int32),
        "sent_us": sent, "clock": sent, "sent_day": np.zeros(6, dtype=np.int32),
        "agent_no": np.zeros(6, dtype=np.int32), "seq": np.arange(6),
        "is_buyer": np.array([True, True, False, False, True, False]),
        "is_human": np.array([False, False, False, True, False, True]),
    }
    rows.update(threads.running_counts(rows["thread"], rows["conv_tag"], sent,
                                       rows["is_human"], GAP_US))
    turns = threads.buyer_turns(rows)
    # turn 1: messages 0-1 (human_no 0), answered by message 3 (2 minutes after the start)
    # turn 2: message 4 (human_no 1); the next human (message 5, 45 minutes on) opens
    # conversation 2, so the turn has no answer
    assert turns["start_seq"].tolist() == [0, 4]
    assert turns["human_no"].tolist() == [0, 1]
    assert turns["conv_no"].tolist() == [1, 1]
    assert turns["answer_us"].tolist() == [3 * minute, None]


@pytest.mark.parametrize("hours", [None, "09:00-18:00"])
def test_turns_read_back_in_small_steps_equal_the_definition(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hours: str | None
) -> None:
    """engine._turns_of reads the messages fact back a range at a time, cut at thread
    starts: with steps of a few rows, every metric is the Ibis definition's."""
    generate(tmp_path, DemoConfig(messages=3000, agents=5, days=4, seed=11))
    data = load_dir(tmp_path).dataset
    params = MetricParams(business_hours=hours)
    day = dt.date(2024, 6, 1)
    steps: list[int] = []
    counted = threads.buyer_turns

    def buyer_turns(rows: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        steps.append(len(rows["thread"]))
        return counted(rows)

    monkeypatch.setattr(threads, "buyer_turns", buyer_turns)
    monkeypatch.setattr(engine, "TURN_CHUNK_ROWS", 37)
    stepped = compute(data, day, day + dt.timedelta(days=3), params, qa=False)
    # many steps, each cut at a thread start (so some carry rows to the next)
    assert len(steps) == -(-data.messages.num_rows // 37) and len(set(steps)) > 2
    monkeypatch.setattr(engine, "_turns_of", lambda con: lambda m: None)
    defined = compute(data, day, day + dt.timedelta(days=3), params, qa=False)
    assert stepped.agents == defined.agents
    assert sum(a["avg_response_s"] is not None for a in stepped.agents.values()) == 5
