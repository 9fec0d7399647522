"""Service metrics, each rule of metrics.md with a hand-computed case."""

from __future__ import annotations

import datetime as dt

import pytest

from kefu.metrics import MetricParams, compute
from tests.metrics.conftest import dataset, msg, run

A, B, C = "s1:amy", "s1:bob", "s1:cat"


def test_turns_bot_and_auto_reply_neither_break_nor_answer() -> None:
    ds = dataset([
        msg(A, "u1", "buyer", "2024-06-01 10:00:00"),
        msg(A, "u1", "bot", "2024-06-01 10:00:01"),  # does not break the run
        msg(A, "u1", "buyer", "2024-06-01 10:00:05"),
        msg(A, "u1", "agent", "2024-06-01 10:00:10", auto=True),  # not an answer
        msg(A, "u1", "system", "2024-06-01 10:00:12"),
        msg(A, "u1", "agent", "2024-06-01 10:00:20"),  # answers the turn started 10:00:00
        msg(A, "u1", "buyer", "2024-06-01 10:01:00"),
        msg(A, "u1", "agent", "2024-06-01 10:01:45"),  # 45 s
        msg(A, "u1", "buyer", "2024-06-01 10:02:00"),  # never answered
        msg(A, "u1", "agent", "2024-06-01 10:02:05", auto=True),
    ])
    amy = run(ds).agents[A]
    assert amy["conversations"] == 1
    assert amy["unanswered_turns"] == 1
    assert amy["avg_response_s"] == pytest.approx((20 + 45) / 2)
    assert amy["first_response_s"] == pytest.approx(20)
    # 20 s on time, 45 s late, the unanswered turn counts as late
    assert amy["response_on_time_rate"] == pytest.approx(1 / 3)
    # human agent messages / buyer messages: 2 / 4 (bot, system, auto-replies excluded)
    assert amy["answer_question_ratio"] == pytest.approx(2 / 4)


def test_gap_of_exactly_30_minutes_stays_one_conversation_30_01_splits() -> None:
    ds = dataset([
        msg(A, "u1", "buyer", "2024-06-01 10:00:00"),
        msg(A, "u1", "agent", "2024-06-01 10:00:10"),
        msg(A, "u1", "buyer", "2024-06-01 10:30:10"),  # exactly 30:00 after: same conversation
        msg(A, "u1", "agent", "2024-06-01 10:30:40"),
        msg(A, "u1", "buyer", "2024-06-01 11:00:41"),  # 30:01 after: new conversation
        msg(A, "u1", "agent", "2024-06-01 11:01:41"),
    ])
    amy = run(ds).agents[A]
    assert amy["conversations"] == 2
    # first turns: 10 s (conversation 1) and 60 s (conversation 2)
    assert amy["first_response_s"] == pytest.approx(35)
    assert amy["avg_response_s"] == pytest.approx((10 + 30 + 60) / 3)


def test_session_gap_parameter_and_bot_messages_keep_a_conversation_open() -> None:
    rows = [
        msg(A, "u1", "buyer", "2024-06-01 10:00:00"),
        msg(A, "u1", "bot", "2024-06-01 10:20:00"),  # any sender keeps it going
        msg(A, "u1", "buyer", "2024-06-01 10:45:00"),
    ]
    assert run(dataset(rows)).agents[A]["conversations"] == 1
    # three conversations, but the bot-only one has no buyer message and does not count
    assert run(dataset(rows), session_gap_min=10).agents[A]["conversations"] == 2


def test_conversation_id_overrides_gap_splitting() -> None:
    ds = dataset([
        msg(A, "u1", "buyer", "2024-06-01 10:00:00", cid="c1"),
        msg(A, "u1", "agent", "2024-06-01 12:00:00", cid="c1"),  # 2 h later, same conversation
        msg(A, "u1", "buyer", "2024-06-01 12:00:30", cid="c2"),
    ])
    amy = run(ds).agents[A]
    assert amy["conversations"] == 2
    assert amy["first_response_s"] == pytest.approx(7200)
    assert amy["unanswered_turns"] == 1


def test_transfer_to_another_agent_starts_another_conversation() -> None:
    ds = dataset([
        msg(A, "u1", "buyer", "2024-06-01 10:00:00"),
        msg(A, "u1", "agent", "2024-06-01 10:00:05"),
        msg(B, "u1", "buyer", "2024-06-01 10:00:30"),
        msg(B, "u1", "agent", "2024-06-01 10:00:45"),
    ])
    result = run(ds)
    assert result.agents[A]["conversations"] == 1
    assert result.agents[B]["conversations"] == 1
    assert result.agents[B]["first_response_s"] == pytest.approx(15)
    assert result.teams["presale-1"]["conversations"] == 2


def test_ties_in_sent_at_keep_file_order() -> None:
    ds = dataset([
        msg(A, "u1", "agent", "2024-06-01 10:00:00"),  # before the buyer in file order
        msg(A, "u1", "buyer", "2024-06-01 10:00:00"),
        msg(A, "u2", "buyer", "2024-06-01 10:00:00"),
        msg(A, "u2", "agent", "2024-06-01 10:00:00"),  # after the buyer: answers in 0 s
    ])
    amy = run(ds).agents[A]
    assert amy["unanswered_turns"] == 1  # u1's turn
    assert amy["avg_response_s"] == 0
    assert amy["replied"] == 1


def test_buyer_days_across_midnight() -> None:
    ds = dataset([
        msg(A, "u1", "buyer", "2024-06-01 23:58:00"),
        msg(A, "u1", "agent", "2024-06-02 00:01:00"),  # answered next day: not replied on 06-01
        msg(A, "u1", "buyer", "2024-06-02 00:05:00"),  # new buyer-day on 06-02
        msg(A, "u1", "agent", "2024-06-02 00:06:00"),
    ])
    day1 = run(ds, "2024-06-01").agents[A]
    assert day1["received"] == 1 and day1["replied"] == 0
    assert day1["reply_rate"] == 0
    # the conversation and its turn belong to 06-01, where they start
    assert day1["conversations"] == 1 and day1["first_response_s"] == pytest.approx(180)
    day2 = run(ds, "2024-06-02").agents[A]
    assert day2["received"] == 1 and day2["replied"] == 1
    assert day2["conversations"] == 0
    assert day2["avg_response_s"] == pytest.approx(60)
    both = run(ds, "2024-06-01", "2024-06-02").agents[A]
    assert both["received"] == 2 and both["replied"] == 1
    # 答问比 counts messages by the day they were sent
    assert day1["answer_question_ratio"] == 0
    assert day2["answer_question_ratio"] == pytest.approx(2 / 1)


def test_replied_needs_a_human_message_after_the_buyers_first_message() -> None:
    ds = dataset([
        msg(A, "u1", "agent", "2024-06-01 09:00:00"),  # before the buyer wrote: not a reply
        msg(A, "u1", "buyer", "2024-06-01 09:01:00"),
        msg(A, "u1", "agent", "2024-06-01 09:01:10", auto=True),  # auto-reply: not a reply
    ])
    amy = run(ds).agents[A]
    assert amy["received"] == 1 and amy["replied"] == 0


def test_time_zones_naive_is_shop_time_offset_is_converted() -> None:
    ds = dataset([
        msg(A, "u1", "buyer", "2024-06-01T23:30:00+08:00"),
        msg(A, "u1", "agent", "2024-06-01T15:30:20Z"),  # = 23:30:20 in Shanghai
        msg(A, "u2", "buyer", "2024-06-01 16:30:00+00:00"),  # = 06-02 00:30 in Shanghai
        msg(A, "u3", "buyer", "2024-06-01 23:59:59.500"),  # naive, fractional
        msg(A, "u3", "agent", "2024-06-02 00:00:00.250"),
    ])
    day1 = run(ds, "2024-06-01").agents[A]
    assert day1["received"] == 2  # u1 and u3
    assert day1["avg_response_s"] == pytest.approx((20 + 0.75) / 2)
    assert run(ds, "2024-06-02").agents[A]["received"] == 1  # u2
    # the same data read in UTC puts u2 on 06-01 and u1 too
    utc = dataset([
        msg(A, "u2", "buyer", "2024-06-01 16:30:00+00:00"),
        msg(A, "u1", "buyer", "2024-06-01T23:30:00+08:00"),
    ], tz="UTC")
    assert run(utc, "2024-06-01").agents[A]["received"] == 2


def test_empty_denominators_are_null_not_zero() -> None:
    ds = dataset([msg(A, "u1", "buyer", "2024-06-01 10:00:00")])
    result = run(ds)
    cat = result.agents[C]  # an agent with no activity still appears
    for key in ("reply_rate", "first_response_s", "avg_response_s", "avg_response_s_p50",
                "response_on_time_rate", "answer_question_ratio", "repeat_contact_rate",
                "first_contact_resolution"):
        assert cat[key] is None, key
    assert cat["received"] == 0 and cat["conversations"] == 0 and cat["unanswered_turns"] == 0
    amy = result.agents[A]
    assert amy["first_response_s"] is None  # one turn, never answered
    assert amy["reply_rate"] == 0
    assert amy["response_on_time_rate"] == 0
    assert amy["online_hours"] is None  # no sessions data given at all


def test_percentiles_interpolate_linearly_between_closest_ranks() -> None:
    rows = []
    for i, seconds in enumerate([10, 20, 30, 40, 100]):
        rows += [
            msg(A, f"u{i}", "buyer", "2024-06-01 10:00:00"),
            msg(A, f"u{i}", "agent", f"2024-06-01 10:{seconds // 60:02d}:{seconds % 60:02d}"),
        ]
    amy = run(dataset(rows)).agents[A]
    assert amy["avg_response_s_p50"] == pytest.approx(30)
    # rank 0.9 * (5 - 1) = 3.6 -> 40 + 0.6 * (100 - 40)
    assert amy["avg_response_s_p90"] == pytest.approx(76)
    assert amy["first_response_s_p90"] == pytest.approx(76)
    assert amy["avg_response_s"] == pytest.approx(40)


def test_response_target_parameter() -> None:
    ds = dataset([
        msg(A, "u1", "buyer", "2024-06-01 10:00:00"),
        msg(A, "u1", "agent", "2024-06-01 10:00:30"),  # exactly 30 s: on time
        msg(A, "u2", "buyer", "2024-06-01 10:00:00"),
        msg(A, "u2", "agent", "2024-06-01 10:00:31"),
    ])
    assert run(ds).agents[A]["response_on_time_rate"] == pytest.approx(0.5)
    assert run(ds, response_target_s=60).agents[A]["response_on_time_rate"] == 1


def test_online_hours_union_of_online_and_busy_clipped_to_period() -> None:
    sessions = [
        {"agent_id": A, "started_at": "2024-06-01 09:00:00", "ended_at": "2024-06-01 12:00:00",
         "status": "online"},
        {"agent_id": A, "started_at": "2024-06-01 11:00:00", "ended_at": "2024-06-01 13:00:00",
         "status": "busy"},  # overlaps: union 09-13
        {"agent_id": A, "started_at": "2024-06-01 12:30:00", "ended_at": "2024-06-01 14:00:00",
         "status": "away"},  # ignored, does not subtract
        {"agent_id": A, "started_at": "2024-06-01 23:00:00", "ended_at": "2024-06-02 01:30:00",
         "status": "online"},  # 1 h inside 06-01
        {"agent_id": B, "started_at": "2024-06-01 10:00:00", "ended_at": "2024-06-01 10:30:00",
         "status": "online"},
        {"agent_id": B, "started_at": "2024-06-01 10:00:00", "ended_at": "2024-06-01 10:15:00",
         "status": "online"},  # contained
    ]
    ds = dataset([msg(A, "u1", "buyer", "2024-06-01 10:00:00")], sessions=sessions)
    result = run(ds)
    assert result.agents[A]["online_hours"] == pytest.approx(5)
    assert result.agents[B]["online_hours"] == pytest.approx(0.5)
    assert result.agents[C]["online_hours"] == 0  # sessions given, none for Cat
    assert result.teams["presale-1"]["online_hours"] == pytest.approx(5.5)
    assert run(ds, "2024-06-02").agents[A]["online_hours"] == pytest.approx(1.5)


def test_team_and_shop_pool_events_not_agent_averages() -> None:
    ds = dataset([
        msg(A, "u1", "buyer", "2024-06-01 10:00:00"),
        msg(A, "u1", "agent", "2024-06-01 10:00:10"),
        msg(B, "u2", "buyer", "2024-06-01 10:00:00"),
        msg(B, "u2", "agent", "2024-06-01 10:00:20"),
        msg(B, "u3", "buyer", "2024-06-01 10:00:00"),
        msg(B, "u3", "agent", "2024-06-01 10:01:30"),
        msg(C, "u4", "buyer", "2024-06-01 10:00:00"),
    ])
    result = run(ds)
    team = result.teams["presale-1"]
    assert team["received"] == 3
    assert team["avg_response_s"] == pytest.approx((10 + 20 + 90) / 3)  # not mean of means
    assert team["avg_response_s_p50"] == pytest.approx(20)
    shop = result.shops["s1"]
    assert shop["received"] == 4 and shop["replied"] == 3
    assert shop["reply_rate"] == pytest.approx(3 / 4)
    assert shop["unanswered_turns"] == 1
    assert set(result.teams) == {"presale-1", "after"}


def test_a_run_in_another_zone_than_the_data_is_refused() -> None:
    ds = dataset([msg(A, "u1", "buyer", "2024-06-01 10:00:00")])  # loaded in Asia/Shanghai
    day = dt.date(2024, 6, 1)
    with pytest.raises(ValueError, match="loaded in Asia/Shanghai"):
        compute(ds, day, day, MetricParams(tz="UTC"))


def test_agents_without_shop_roll_up_to_the_shop_of_their_chats() -> None:
    agents = [{"agent_id": "amy", "name": "Amy", "team": "t", "role": "presale"},
              {"agent_id": "bob", "name": "Bob", "team": "t", "role": "presale"}]
    rows = [
        {"shop_id": "旗舰店", "agent_id": "amy", "buyer_id": "u1", "sender": "buyer",
         "sent_at": "2024-06-01 10:00:00"},
        {"shop_id": "旗舰店", "agent_id": "amy", "buyer_id": "u1", "sender": "agent",
         "sent_at": "2024-06-01 10:00:10"},
    ]
    result = run(dataset(rows, agents=agents))
    assert set(result.shops) == {"旗舰店"}
    assert result.shops["旗舰店"]["received"] == 1
    assert result.shops["旗舰店"]["avg_response_s_p50"] == 10
    assert result.agent_info["bob"]["shop_id"] == ""  # no chats, no shop to infer


def test_daylight_saving_time_durations_are_real_elapsed_time() -> None:
    # New York springs forward at 02:00 on 2024-03-10: 01:59 EST to 03:01 EDT is 2 minutes
    agents = [{"agent_id": "ny", "name": "NY", "shop_id": "us", "team": "t", "role": "presale"}]
    rows = [
        {"agent_id": "ny", "buyer_id": "u1", "sender": "buyer", "sent_at": "2024-03-10 01:59:00"},
        {"agent_id": "ny", "buyer_id": "u1", "sender": "agent", "sent_at": "2024-03-10 03:01:00"},
    ]
    sessions = [{"agent_id": "ny", "started_at": "2024-03-10 00:00:00",
                 "ended_at": "2024-03-11 00:00:00"}]
    ds = dataset(rows, agents=agents, tz="America/New_York", sessions=sessions)
    ny = run(ds, "2024-03-10").agents["ny"]
    assert ny["avg_response_s"] == 120
    assert ny["conversations"] == 1  # 2 real minutes apart, not 62
    assert ny["online_hours"] == 23  # that day has 23 hours
