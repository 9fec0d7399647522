"""Properties: results do not depend on row order, and re-imported data changes nothing."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kefu.ingest import load_dir
from kefu.metrics import MetricParams, compute
from tests.metrics.conftest import AGENTS, dataset, msg, run

SENDERS = st.sampled_from(["buyer", "buyer", "agent", "agent", "bot"])


@st.composite
def chats(draw: st.DrawFn) -> list[dict[str, object]]:
    """Up to 40 messages of 2 agents and 3 buyers over two days, times unique per thread."""
    n = draw(st.integers(1, 40))
    seconds = draw(st.lists(st.integers(0, 2 * 86_400 - 1), min_size=n, max_size=n, unique=True))
    rows = []
    base = dt.datetime(2024, 6, 1)
    for s in seconds:
        agent = draw(st.sampled_from(["s1:amy", "s1:bob"]))
        buyer = draw(st.sampled_from(["u1", "u2", "u3"]))
        sender = draw(SENDERS)
        auto = sender == "agent" and draw(st.booleans())
        at = (base + dt.timedelta(seconds=s)).isoformat(sep=" ")
        rows.append(msg(agent, buyer, sender, at, auto=auto))
    return rows


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=chats(), data=st.data())
def test_results_do_not_depend_on_row_order(
    rows: list[dict[str, object]], data: st.DataObject
) -> None:
    shuffled = data.draw(st.permutations(rows))
    first = run(dataset(rows), "2024-06-01", "2024-06-02")
    second = run(dataset(list(shuffled)), "2024-06-01", "2024-06-02")
    assert first.agents == second.agents
    assert first.teams == second.teams


def _write(path: Path, rows: list[dict[str, object]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def test_overlapping_exports_give_the_same_metrics_as_one(tmp_path: Path) -> None:
    rows = [
        msg("s1:amy", "u1", "buyer", "2024-06-01 10:00:00", content="在吗"),
        msg("s1:amy", "u1", "buyer", "2024-06-01 10:00:00", content="在吗"),  # sent twice
        msg("s1:amy", "u1", "agent", "2024-06-01 10:00:20", content="亲，在的"),
        msg("s1:amy", "u2", "buyer", "2024-06-02 09:00:00", content="发货了吗"),
        msg("s1:amy", "u2", "agent", "2024-06-02 09:00:45", content="今天发"),
    ]
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir()
    two.mkdir()
    for folder in (one, two):
        _write(folder / "agents.csv", AGENTS)
    _write(one / "messages.csv", rows)
    _write(two / "messages_0601.csv", rows[:3])  # two exports that overlap on 06-01
    _write(two / "messages_0602.csv", rows)
    params = MetricParams()
    day1, day2 = dt.date(2024, 6, 1), dt.date(2024, 6, 2)
    a = compute(load_dir(one).dataset, day1, day2, params, qa=False)
    b = compute(load_dir(two).dataset, day1, day2, params, qa=False)
    assert a.agents == b.agents
    assert a.agents["s1:amy"]["answer_question_ratio"] == 2 / 3  # the double 在吗 is kept


def test_thread_order_breaks_time_ties_by_file_order_even_when_rows_are_shuffled() -> None:

    import numpy as np

    from kefu.metrics.threads import thread_sort

    thread, sent = np.array([1, 1, 1, 0]), np.array([5, 5, 3, 9])
    assert thread_sort(thread, sent, np.array([0, 1, 2, 3])).tolist() == [3, 2, 0, 1]
    assert thread_sort(thread, sent, np.array([2, 1, 0, 3])).tolist() == [3, 2, 1, 0]
    # already in order: nothing to sort
    assert thread_sort(thread[[3, 2, 0, 1]], sent[[3, 2, 0, 1]], np.array([3, 2, 0, 1])) is None
