"""The benchmark baselines are independent implementations of the core service
metrics of metrics.md: they must agree with a hand computation, with each other,
and with kefu's engine on a demo shop."""

from __future__ import annotations

import datetime as dt
import math
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from kefu.demo import DemoConfig, generate

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))

import baseline_duckdb  # noqa: E402
import baseline_pandas  # noqa: E402

CORE_KEYS = baseline_duckdb.CORE_KEYS
BASELINES = {"pandas": baseline_pandas.core_metrics, "duckdb": baseline_duckdb.core_metrics}
D1, D2 = dt.date(2024, 6, 1), dt.date(2024, 6, 2)

A, B, C, D = "店:甲", "店:乙", "店:丙", "店:丁"
# (agent, buyer, sender, local time, auto_reply, conversation_id), in file order.
ROWS: list[tuple[str, str, str, str, bool, str | None]] = [
    # u1 with 甲: bot greeting, auto-reply and a bot card inside one buyer turn
    (A, "u1", "bot", "06-01 10:00:00", False, None),
    (A, "u1", "buyer", "06-01 10:00:05", False, None),  # turn 1 starts
    (A, "u1", "agent", "06-01 10:00:06", True, None),  # auto-reply: no answer
    (A, "u1", "bot", "06-01 10:00:10", False, None),
    (A, "u1", "buyer", "06-01 10:00:20", False, None),  # same turn
    (A, "u1", "agent", "06-01 10:00:50", False, None),  # answers turn 1: 45 s
    (A, "u1", "buyer", "06-01 10:01:00", False, None),  # turn 2
    (A, "u1", "agent", "06-01 10:01:30", False, None),  # 30 s: on time (<=)
    (A, "u1", "buyer", "06-01 10:31:30", False, None),  # exactly 30:00 later: same conv
    (A, "u1", "agent", "06-01 11:01:31", False, None),  # 30:01 later: new conv, turn 3 unanswered
    # u2 with 甲: a turn across midnight, then an unanswered morning question
    (A, "u2", "buyer", "06-01 23:50:00", False, None),
    (A, "u2", "buyer", "06-01 23:59:59", False, None),
    (A, "u2", "agent", "06-02 00:00:30", False, None),  # 630 s, sent on the next day
    (A, "u2", "buyer", "06-02 09:00:00", False, None),
    # u3 with 甲: explicit conversation id (no split on the 1 h gap), ties in time
    (A, "u3", "buyer", "06-01 12:00:00", False, "X1"),
    (A, "u3", "agent", "06-01 13:00:00", False, "X1"),  # 3600 s
    (A, "u3", "buyer", "06-01 13:00:00", False, "X1"),  # same second, later in file: new turn
    (A, "u3", "agent", "06-01 13:00:10", False, "X1"),  # 10 s
    (A, "u3", "buyer", "06-01 14:00:00", False, "X1"),
    (A, "u3", "agent", "06-01 14:00:00", False, "X1"),  # same second, after in file: 0 s
    # u1 transferred to 乙
    (B, "u1", "buyer", "06-01 10:02:00", False, None),
    (B, "u1", "system", "06-01 10:02:03", False, None),
    (B, "u1", "agent", "06-01 10:02:40", True, None),
    (B, "u1", "agent", "06-01 10:03:00", False, None),  # 60 s
    # u4 with 丁: a conversation opened by a bot on 06-01 whose first buyer turn
    # starts on 06-02, then two more conversations split by > 30 min gaps
    (D, "u4", "bot", "06-01 23:59:50", False, None),
    (D, "u4", "buyer", "06-02 00:00:10", False, None),
    (D, "u4", "agent", "06-02 00:00:25", False, None),  # 15 s
    (D, "u4", "buyer", "06-02 00:40:00", False, None),  # new conv, never answered
    (D, "u4", "buyer", "06-02 01:15:00", False, None),  # new conv
    (D, "u4", "agent", "06-02 01:15:40", False, None),  # 40 s
    # u5 with 丁: the agent writes first
    (D, "u5", "agent", "06-01 09:00:00", False, None),
    (D, "u5", "buyer", "06-01 09:00:30", False, None),
    (D, "u5", "agent", "06-01 09:01:00", False, None),  # 30 s
]

NONE_METRICS: dict[str, Any] = {
    "received": 0, "replied": 0, "reply_rate": None, "conversations": 0,
    "first_response_s": None, "first_response_s_p50": None, "first_response_s_p90": None,
    "avg_response_s": None, "avg_response_s_p50": None, "avg_response_s_p90": None,
    "response_on_time_rate": None, "unanswered_turns": 0, "answer_question_ratio": None,
}  # fmt: skip

# Worked out by hand from ROWS (see the comments there).
EXPECTED_JUNE_1: dict[str, dict[str, Any]] = {
    A: {
        "received": 3,  # u1, u2, u3 on 06-01
        "replied": 2,  # u2's answer came on 06-02
        "reply_rate": 2 / 3,
        "conversations": 3,  # u1 10:00, u2 23:50, u3 X1 (u1 11:01:31 has no buyer line)
        "first_response_s": (45 + 630 + 3600) / 3,
        "first_response_s_p50": 630.0,
        "first_response_s_p90": 630 + 0.8 * (3600 - 630),
        "avg_response_s": (45 + 30 + 630 + 3600 + 10 + 0) / 6,
        "avg_response_s_p50": (30 + 45) / 2,
        "avg_response_s_p90": 630 + 0.5 * (3600 - 630),
        "response_on_time_rate": 3 / 7,  # 30, 10, 0 of 7 turns
        "unanswered_turns": 1,
        "answer_question_ratio": 6 / 9,  # human lines / buyer lines sent on 06-01
    },
    B: {
        "received": 1,
        "replied": 1,
        "reply_rate": 1.0,
        "conversations": 1,
        "first_response_s": 60.0,
        "first_response_s_p50": 60.0,
        "first_response_s_p90": 60.0,
        "avg_response_s": 60.0,
        "avg_response_s_p50": 60.0,
        "avg_response_s_p90": 60.0,
        "response_on_time_rate": 0.0,
        "unanswered_turns": 0,
        "answer_question_ratio": 1.0,
    },  # fmt: skip
    C: NONE_METRICS,
    D: {
        "received": 1,  # u5 (u4 wrote nothing on 06-01)
        "replied": 1,
        "reply_rate": 1.0,
        "conversations": 2,  # u5, and u4's bot-opened one: it began on 06-01
        "first_response_s": 22.5,  # 30 (u5) and 15 (u4, a turn of 06-02)
        "first_response_s_p50": 22.5,
        "first_response_s_p90": 15 + 0.9 * 15,
        "avg_response_s": 30.0,  # turns starting on 06-01: u5's only
        "avg_response_s_p50": 30.0,
        "avg_response_s_p90": 30.0,
        "response_on_time_rate": 1.0,
        "unanswered_turns": 0,
        "answer_question_ratio": 2.0,
    },
}
EXPECTED_JUNE_2_A: dict[str, Any] = {
    **NONE_METRICS,
    "received": 1,  # u2 at 09:00; the 00:00:30 answer came before it
    "reply_rate": 0.0,
    "conversations": 1,
    "response_on_time_rate": 0.0,
    "unanswered_turns": 1,
    "answer_question_ratio": 1.0,
}
EXPECTED_JUNE_2_D: dict[str, Any] = {
    "received": 1, "replied": 1, "reply_rate": 1.0,
    "conversations": 2,  # 00:40 and 01:15
    "first_response_s": 40.0, "first_response_s_p50": 40.0, "first_response_s_p90": 40.0,
    "avg_response_s": 27.5, "avg_response_s_p50": 27.5, "avg_response_s_p90": 15 + 0.9 * 25,
    "response_on_time_rate": 1 / 3, "unanswered_turns": 1, "answer_question_ratio": 2 / 3,
}  # fmt: skip


def write_case(out: Path, zoned: bool = False) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    pq.write_table(
        pa.table(
            {
                "agent_id": [A, B, C, D],
                "name": ["甲", "乙", "丙", "丁"],
                "shop_id": ["店"] * 4,
                "team": ["售前一组"] * 4,
                "role": ["presale", "aftersale", "presale", "both"],
            }
        ),
        out / "agents.parquet",
    )
    local = [dt.datetime.fromisoformat(f"2024-{r[3]}") for r in ROWS]
    if zoned:  # the same instants as UTC: readers must convert to the shop's zone
        utc = [(t - dt.timedelta(hours=8)).replace(tzinfo=dt.UTC) for t in local]
        sent = pa.array(utc, pa.timestamp("ms", tz="UTC"))
    else:
        sent = pa.array(local, pa.timestamp("ms"))
    pq.write_table(
        pa.table(
            {
                "shop_id": ["店"] * len(ROWS),
                "agent_id": [r[0] for r in ROWS],
                "buyer_id": [r[1] for r in ROWS],
                "sender": [r[2] for r in ROWS],
                "sent_at": sent,
                "content": ["" for _ in ROWS],
                "auto_reply": [r[4] for r in ROWS],
                "conversation_id": pa.array([r[5] for r in ROWS], pa.string()),
            }
        ),
        out / "messages.parquet",
    )
    return out


def assert_same(got: dict[str, dict[str, Any]], want: dict[str, dict[str, Any]], who: str) -> None:
    problems = []
    for agent, metrics in want.items():
        for key in CORE_KEYS:
            x, y = got[agent].get(key, "missing"), metrics[key]
            same = (x is None and y is None) or (
                isinstance(x, int | float)
                and y is not None
                and math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-9)
            )
            if not same:
                problems.append(f"{who}: {agent} {key}: got {x!r}, expected {y!r}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name", BASELINES)
@pytest.mark.parametrize("zoned", [False, True])
def test_hand_computed_case(tmp_path: Path, name: str, zoned: bool) -> None:
    data = write_case(tmp_path, zoned=zoned)
    core = BASELINES[name]
    assert_same(core(data, D1, D1), EXPECTED_JUNE_1, name)
    assert_same(core(data, D2, D2), {A: EXPECTED_JUNE_2_A, D: EXPECTED_JUNE_2_D}, name)


@pytest.mark.parametrize("name", BASELINES)
def test_optional_columns_may_be_missing(tmp_path: Path, name: str) -> None:
    data = write_case(tmp_path)
    messages = pq.read_table(data / "messages.parquet")
    keep = [
        c for c in messages.column_names if c not in ("shop_id", "auto_reply", "conversation_id")
    ]
    pq.write_table(messages.select(keep), data / "messages.parquet")
    got = BASELINES[name](data, D1, D1)
    # the auto-replies now count as human answers, and u3's lines split on the 1 h gap
    assert got[A]["received"] == 3 and got[B]["first_response_s"] == 40.0
    assert got[A]["conversations"] == 5


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    generate(out, DemoConfig(messages=30_000, agents=24, seed=5, file_format="parquet"))
    return out


PERIODS = [
    (dt.date(2024, 6, 1), dt.date(2024, 6, 30)),
    (dt.date(2024, 6, 10), dt.date(2024, 6, 16)),
]


@pytest.mark.parametrize("period", PERIODS)
def test_baselines_agree_on_demo_shop(demo_dir: Path, period: tuple[dt.date, dt.date]) -> None:
    pandas_result = baseline_pandas.core_metrics(demo_dir, *period)
    duckdb_result = baseline_duckdb.core_metrics(demo_dir, *period)
    assert set(pandas_result) == set(duckdb_result)
    assert_same(pandas_result, duckdb_result, "pandas vs duckdb")
    active = [a for a, r in duckdb_result.items() if r["received"] > 0]
    assert len(active) >= 20
    assert any(r["unanswered_turns"] > 0 for r in duckdb_result.values())


def kefu_core(data: Path, start: dt.date, end: dt.date) -> dict[str, dict[str, Any]]:
    from kefu.ingest import load_dir
    from kefu.metrics import MetricParams, compute

    res = compute(load_dir(data, tz="Asia/Shanghai").dataset, start, end, MetricParams(), qa=False)
    return {agent: dict(metrics) for agent, metrics in res.agents.items()}


def engine_importable() -> bool:
    try:
        import kefu.metrics.engine  # noqa: F401
    except ImportError:
        return False
    return True


needs_engine = pytest.mark.skipif(
    not engine_importable(),
    reason="kefu.metrics.engine is not importable (not written yet?): nothing to cross-check",
)


@needs_engine
@pytest.mark.parametrize("period", PERIODS)
def test_kefu_agrees_with_baselines_on_demo_shop(
    demo_dir: Path, period: tuple[dt.date, dt.date]
) -> None:
    assert_same(
        kefu_core(demo_dir, *period),
        baseline_duckdb.core_metrics(demo_dir, *period),
        "kefu vs duckdb",
    )


@needs_engine
@pytest.mark.parametrize("zoned", [False, True])
def test_kefu_agrees_with_hand_computed_case(tmp_path: Path, zoned: bool) -> None:
    data = write_case(tmp_path, zoned=zoned)
    assert_same(kefu_core(data, D1, D1), EXPECTED_JUNE_1, "kefu")
    assert_same(kefu_core(data, D2, D2), {A: EXPECTED_JUNE_2_A, D: EXPECTED_JUNE_2_D}, "kefu")


@pytest.mark.parametrize("name", BASELINES)
def test_thread_mixing_rows_with_and_without_conversation_id(tmp_path: Path, name: str) -> None:
    # rows without an id are split among themselves; the id rows between them
    # form their own conversation and do not cut the others' one
    data = write_case(tmp_path)
    t = [dt.datetime.fromisoformat(f"2024-06-01 {s}") for s in
         ("10:00:00", "10:05:00", "10:10:00", "10:20:00", "10:21:00")]  # fmt: skip
    pq.write_table(
        pa.table(
            {
                "shop_id": ["店"] * 5,
                "agent_id": [A] * 5,
                "buyer_id": ["u"] * 5,
                "sender": ["buyer", "buyer", "agent", "buyer", "agent"],
                "sent_at": pa.array(t, pa.timestamp("ms")),
                "content": [""] * 5,
                "auto_reply": [False] * 5,
                "conversation_id": pa.array([None, "X", None, "X", "X"], pa.string()),
            }
        ),
        data / "messages.parquet",
    )
    got = BASELINES[name](data, D1, D1)[A]
    assert got["conversations"] == 2
    assert got["avg_response_s"] == (600 + 960) / 2 and got["unanswered_turns"] == 0


def write_probe(out: Path) -> Path:
    """Two more edges: a tie broken by file order counts as a reply, and a gap
    of 30:00.5 (sub-second precision) splits the conversation."""
    write_case(out)
    rows = [
        (A, "u1", "buyer", "09:00:00"),
        (A, "u1", "agent", "09:00:00"),  # same second, after in file: replied, 0 s
        (B, "u2", "buyer", "10:00:00"),
        (B, "u2", "agent", "10:00:10"),  # 10 s
        (B, "u2", "buyer", "10:30:10.500"),  # 30:00.5 later: a new conversation
        (B, "u2", "agent", "10:30:20"),  # 9.5 s
    ]
    t = [dt.datetime.fromisoformat(f"2024-06-01 {r[3]}") for r in rows]
    pq.write_table(
        pa.table(
            {
                "shop_id": ["店"] * len(rows),
                "agent_id": [r[0] for r in rows],
                "buyer_id": [r[1] for r in rows],
                "sender": [r[2] for r in rows],
                "sent_at": pa.array(t, pa.timestamp("ms")),
                "content": [""] * len(rows),
                "auto_reply": [False] * len(rows),
            }
        ),
        out / "messages.parquet",
    )
    return out


PROBE_EXPECTED = {
    A: {"received": 1, "replied": 1, "conversations": 1, "avg_response_s": 0.0},
    B: {"received": 1, "replied": 1, "conversations": 2, "avg_response_s": 9.75},
}


def check_probe(got: dict[str, dict[str, Any]]) -> None:
    for agent, want in PROBE_EXPECTED.items():
        assert {k: got[agent][k] for k in want} == want, agent


@pytest.mark.parametrize("name", BASELINES)
def test_probe_ties_and_subsecond_gap(tmp_path: Path, name: str) -> None:
    check_probe(BASELINES[name](write_probe(tmp_path), D1, D1))


@needs_engine
def test_kefu_probe_ties_and_subsecond_gap(tmp_path: Path) -> None:
    check_probe(kefu_core(write_probe(tmp_path), D1, D1))
