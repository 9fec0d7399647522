"""Sales, satisfaction/resolution and after-sales metrics, hand-computed."""

from __future__ import annotations

import pytest

from tests.metrics.conftest import dataset, msg, run

A, B, C = "s1:amy", "s1:bob", "s1:cat"


def order(oid: str, buyer: str, created: str, paid: str | None, amount: float,
          refund: float = 0) -> dict[str, object]:
    return {"order_id": oid, "shop_id": "s1", "buyer_id": buyer, "created_at": created,
            "paid_at": paid, "amount": amount, "refund_amount": refund}


def test_conversion_window_edges() -> None:
    chats = [msg(A, f"u{i}", "buyer", "2024-06-01 10:00:00") for i in range(1, 6)]
    orders = [
        order("o1", "u1", "2024-06-01 10:00:00", "2024-06-01 10:05:00", 100),  # not strictly after
        order("o2", "u2", "2024-06-02 23:59:59", "2024-06-09 08:00", 200),  # last second
        order("o3", "u3", "2024-06-03 00:00:00", "2024-06-03 00:01:00", 300),  # 00:00 day+2: out
        order("o4", "u4", "2024-06-01 10:00:01", None, 400),  # never paid
        order("o5", "u5", "2024-06-01 09:00:00", "2024-06-01 09:01:00", 500),  # before the chat
    ]
    ds = dataset(chats, orders=orders)
    amy = run(ds).agents[A]
    assert amy["inquiries"] == 5
    assert amy["converted"] == 1  # u2
    assert amy["conversion_rate"] == pytest.approx(0.2)
    assert amy["sales_amount"] == pytest.approx(200)
    assert amy["orders"] == 1
    wider = run(ds, conversion_window_days=2).agents[A]
    assert wider["converted"] == 2  # u3's order now inside


def test_aftersale_agents_have_no_inquiries() -> None:
    ds = dataset([msg(C, "u1", "buyer", "2024-06-01 10:00:00")],
                 orders=[order("o1", "u1", "2024-06-01 11:00:00", "2024-06-01 11:00:00", 9)])
    cat = run(ds).agents[C]
    assert cat["inquiries"] == 0 and cat["converted"] == 0 and cat["sales_amount"] == 0
    assert cat["conversion_rate"] is None and cat["avg_order_value"] is None
    assert cat["refund_rate"] is None


def test_last_touch_credit_latest_inquiry_then_smallest_agent_id() -> None:
    ds = dataset(
        [
            msg(A, "u1", "buyer", "2024-06-01 10:00:00"),
            msg(B, "u1", "buyer", "2024-06-01 11:00:00"),  # later: gets the credit
            msg(A, "u2", "buyer", "2024-06-01 12:00:00"),
            msg(B, "u2", "buyer", "2024-06-01 12:00:00"),  # tie: "s1:amy" < "s1:bob"
        ],
        orders=[
            order("o1", "u1", "2024-06-01 13:00:00", "2024-06-01 13:00:00", 100, refund=30),
            order("o2", "u2", "2024-06-01 13:00:00", "2024-06-01 13:00:00", 50),
            order("o3", "u2", "2024-06-02 09:00:00", "2024-06-02 09:00:00", 70),
        ],
    )
    result = run(ds)
    amy, bob = result.agents[A], result.agents[B]
    assert amy["converted"] == 2 and bob["converted"] == 2  # an order converts several
    assert bob["orders"] == 1 and bob["sales_amount"] == pytest.approx(100)
    assert bob["refund_rate"] == pytest.approx(0.3)
    assert amy["orders"] == 2 and amy["sales_amount"] == pytest.approx(120)
    assert amy["avg_order_value"] == pytest.approx(120)  # one distinct buyer
    team = result.teams["presale-1"]
    assert team["sales_amount"] == pytest.approx(220) and team["orders"] == 3
    assert team["avg_order_value"] == pytest.approx(110)  # 220 / 2 distinct buyers


def test_credit_can_go_to_an_inquiry_before_the_period_and_counts_there() -> None:
    ds = dataset(
        [msg(A, "u1", "buyer", "2024-06-01 22:00:00")],
        orders=[order("o1", "u1", "2024-06-02 08:00:00", "2024-06-02 08:00:00", 80)],
    )
    assert run(ds, "2024-06-02").agents[A]["sales_amount"] == 0
    assert run(ds, "2024-06-01").agents[A]["sales_amount"] == pytest.approx(80)


def test_ratings_csat_praise_coverage() -> None:
    chats = [msg(A, f"u{i}", "buyer", "2024-06-01 10:00:00") for i in range(4)]
    ratings = [
        {"agent_id": A, "rated_at": "2024-06-01 12:00:00", "score": 5},
        {"agent_id": A, "rated_at": "2024-06-01 12:00:00", "score": 4},
        {"agent_id": A, "rated_at": "2024-06-01 12:00:00", "score": 2},
        {"agent_id": A, "rated_at": "2024-06-02 00:00:00", "score": 1},  # next day
    ]
    ds = dataset(chats, ratings=ratings)
    amy = run(ds).agents[A]
    assert amy["ratings"] == 3
    assert amy["csat_avg"] == pytest.approx(11 / 3)
    assert amy["satisfaction_rate"] == pytest.approx(2 / 3)
    assert amy["dissatisfied"] == 1
    assert amy["praise_rate"] == pytest.approx(1 / 4)
    assert amy["rating_coverage"] == pytest.approx(3 / 4)
    bob = run(ds).agents[B]
    assert bob["ratings"] == 0 and bob["csat_avg"] is None and bob["praise_rate"] is None


def test_repeat_contact_window_inclusive_strictly_after_any_agent() -> None:
    ds = dataset([
        # u1: back 48 h after the end exactly, with another agent -> repeat
        msg(A, "u1", "buyer", "2024-06-01 10:00:00"),
        msg(A, "u1", "agent", "2024-06-01 10:05:00"),
        msg(B, "u1", "buyer", "2024-06-03 10:05:00"),
        # u2: back 48 h + 1 s later -> not a repeat
        msg(A, "u2", "buyer", "2024-06-01 10:00:00"),
        msg(A, "u2", "agent", "2024-06-01 10:05:00"),
        msg(A, "u2", "buyer", "2024-06-03 10:05:01"),
        # u3: a bot-only later conversation has no buyer message -> not a repeat
        msg(A, "u3", "buyer", "2024-06-01 10:00:00"),
        msg(A, "u3", "bot", "2024-06-01 12:00:00"),
    ])
    amy = run(ds).agents[A]
    # Amy's conversations on 06-01 with a buyer message: u1, u2, u3 (the bot one has none)
    assert amy["conversations"] == 3
    assert amy["repeat_contact_rate"] == pytest.approx(1 / 3)
    assert amy["first_contact_resolution"] == pytest.approx(2 / 3)
    assert run(ds, repeat_window_h=49).agents[A]["repeat_contact_rate"] == pytest.approx(2 / 3)


def test_cases_close_time_disputes_complaints() -> None:
    chats = [msg(C, f"u{i}", "buyer", "2024-06-01 10:00:00") for i in range(2)]
    cases = [
        {"case_id": "k1", "agent_id": C, "kind": "refund", "opened_at": "2024-06-01 10:00:00",
         "closed_at": "2024-06-01 16:00:00", "platform_intervened": "false"},
        {"case_id": "k2", "agent_id": C, "kind": "complaint", "opened_at": "2024-06-01 11:00:00",
         "closed_at": "2024-06-03 11:00:00", "platform_intervened": "true",
         "outcome": "seller_won"},  # closed after the period: still counted
        {"case_id": "k3", "agent_id": C, "kind": "dispute", "opened_at": "2024-06-01 12:00:00",
         "closed_at": None, "platform_intervened": "是"},  # open
        {"case_id": "k4", "agent_id": C, "kind": "return", "opened_at": "2024-06-02 12:00:00"},
    ]
    cat = run(dataset(chats, cases=cases)).agents[C]
    assert cat["cases"] == 3
    assert cat["case_close_h"] == pytest.approx((6 + 48) / 2)
    assert cat["dispute_rate"] == pytest.approx(2 / 3)
    assert cat["complaint_rate"] == pytest.approx(1 / 2)


def test_tables_not_given_make_their_metrics_null() -> None:
    amy = run(dataset([msg(A, "u1", "buyer", "2024-06-01 10:00:00")])).agents[A]
    for key in ("converted", "sales_amount", "ratings", "csat_avg", "cases", "online_hours"):
        assert amy[key] is None, key
    assert amy["inquiries"] == 1
