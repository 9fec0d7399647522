"""The settings shops expect (issue 10), each with hand-computed cases at its edges.

Business hours, the business-day cut, the per-turn cap, order vs payment
conversion, the final-payment window, silent sales, transfers and their credit
rule. The defaults leave every other test in tests/metrics unchanged.
"""

from __future__ import annotations

from typing import Any

import pytest

from kefu.metrics.clock import business_us
from tests.metrics.conftest import dataset, msg, run

A, B, C = "s1:amy", "s1:bob", "s1:cat"
US = 1_000_000
HOUR = 3600 * US


def order(oid: str, buyer: str, created: str, paid: str | None, amount: float = 100) -> dict[
        str, Any]:
    return {"order_id": oid, "shop_id": "s1", "buyer_id": buyer, "created_at": created,
            "paid_at": paid, "amount": amount}


# --- business hours ---------------------------------------------------------


def test_business_clock_formula_over_the_day_and_over_midnight() -> None:
    import numpy as np

    day = 24 * HOUR
    t = np.array([0, 7 * HOUR, 8 * HOUR + 30 * US, 23 * HOUR, day + 8 * HOUR + 30 * US])
    assert business_us(t, (8 * HOUR, 23 * HOUR)).tolist() == [
        0, 0, 30 * US, 15 * HOUR, 15 * HOUR + 30 * US]
    # 20:00-02:00: [00:00, 02:00) and [20:00, 24:00) each day
    night = business_us(np.array([HOUR, 3 * HOUR, 21 * HOUR]), (20 * HOUR, 2 * HOUR))
    assert night.tolist() == [HOUR, 2 * HOUR, 3 * HOUR]


def _hours_shop() -> Any:
    return dataset([
        # across the closing time: 22:59:30 → 08:00:30 next day is 30 s + 30 s
        msg(A, "u1", "buyer", "2024-06-01 22:59:30", cid="k1"),
        msg(A, "u1", "agent", "2024-06-02 08:00:30", cid="k1"),
        # before opening: 07:00 → 08:00:10 is 10 s
        msg(A, "u2", "buyer", "2024-06-01 07:00:00", cid="k2"),
        msg(A, "u2", "agent", "2024-06-01 08:00:10", cid="k2"),
        # inside: 20 s
        msg(A, "u3", "buyer", "2024-06-01 10:00:00"),
        msg(A, "u3", "agent", "2024-06-01 10:00:20"),
    ])


def test_business_hours_pause_the_response_clock_at_the_boundary() -> None:
    ds = _hours_shop()
    amy = run(ds, business_hours="08:00-23:00").agents[A]
    assert amy["avg_response_s"] == pytest.approx((60 + 10 + 20) / 3)
    assert amy["first_response_s"] == pytest.approx((60 + 10 + 20) / 3)
    assert amy["avg_response_s_p50"] == pytest.approx(20)
    # on time (≤ 30 s) is judged on the business clock: 10 s and 20 s
    assert amy["response_on_time_rate"] == pytest.approx(2 / 3)
    plain = run(ds).agents[A]  # default: the wall clock, all day
    assert plain["avg_response_s"] == pytest.approx((9 * 3600 + 60 + 3610 + 20) / 3)


def test_business_hours_over_midnight() -> None:
    ds = dataset([
        msg(A, "u1", "buyer", "2024-06-01 01:59:50", cid="k"),
        msg(A, "u1", "agent", "2024-06-01 20:00:05", cid="k"),
    ])
    assert run(ds, business_hours="20:00-02:00").agents[A]["avg_response_s"] == 15


def test_bad_business_hours_and_cutoff_are_refused() -> None:
    from pydantic import ValidationError

    from kefu.metrics import MetricParams

    for bad in ({"business_hours": "8-23"}, {"business_hours": "08:00-08:00"},
                {"day_cutoff": "25:00"}, {"day_cutoff": "3"}):
        with pytest.raises(ValidationError):
            MetricParams(**bad)


# --- business-day cut -------------------------------------------------------


def _cut_shop() -> Any:
    rows = [
        msg(A, "u1", "buyer", "2024-06-02 02:59:00"),  # business day 06-01 with a 03:00 cut
        msg(A, "u2", "buyer", "2024-06-02 03:00:00"),  # business day 06-02
    ]
    orders = [
        order("o1", "u1", "2024-06-03 02:59:59", "2024-06-03 02:59:59"),  # before 06-03 03:00
        order("o2", "u1", "2024-06-03 03:00:00", "2024-06-03 03:00:00", 50),  # too late
    ]
    sessions = [{"agent_id": A, "started_at": "2024-06-02 02:00:00",
                 "ended_at": "2024-06-02 04:00:00"}]
    return dataset(rows, orders=orders, sessions=sessions)


def test_day_cut_at_03_00_moves_02_59_to_the_previous_day() -> None:
    ds = _cut_shop()
    june1 = run(ds, "2024-06-01", day_cutoff="03:00").agents[A]
    june2 = run(ds, "2024-06-02", day_cutoff="03:00").agents[A]
    assert (june1["received"], june2["received"]) == (1, 1)
    # sessions are clipped to [06-01 03:00, 06-02 03:00) and [06-02 03:00, 06-03 03:00)
    assert (june1["online_hours"], june2["online_hours"]) == (1, 1)
    # the conversion window (1 day) ends at 06-03 03:00: o1 converts, o2 does not
    assert june1["converted"] == 1
    assert june1["sales_amount"] == 100
    default = run(ds, "2024-06-02").agents[A]
    assert default["received"] == 2 and default["online_hours"] == 2
    assert run(ds, "2024-06-01").agents[A]["received"] == 0


# --- per-turn cap -----------------------------------------------------------


def _cap_shop() -> Any:
    return dataset([
        msg(A, "u1", "buyer", "2024-06-01 10:00:00"),
        msg(A, "u1", "agent", "2024-06-01 10:00:20"),  # 20 s
        msg(A, "u1", "buyer", "2024-06-01 10:01:00"),
        msg(A, "u1", "agent", "2024-06-01 10:02:40"),  # 100 s → 60 s
        msg(A, "u1", "buyer", "2024-06-01 10:03:00"),  # never answered
        msg(A, "u2", "buyer", "2024-06-01 11:00:00"),  # never answered: a first turn
    ])


def test_turn_cap_counts_a_turn_at_most_n_seconds_unanswered_excluded() -> None:
    amy = run(_cap_shop(), turn_cap_s=60).agents[A]
    assert amy["avg_response_s"] == pytest.approx((20 + 60) / 2)
    assert amy["avg_response_s_p90"] == pytest.approx(20 + 0.9 * 40)
    assert amy["first_response_s"] == 20
    assert amy["unanswered_turns"] == 2
    assert amy["response_on_time_rate"] == pytest.approx(1 / 4)


def test_turn_cap_with_unanswered_turns_counted_as_the_cap() -> None:
    amy = run(_cap_shop(), turn_cap_s=60, unanswered_turns="cap").agents[A]
    assert amy["avg_response_s"] == pytest.approx((20 + 60 + 60 + 60) / 4)
    assert amy["avg_response_s_p50"] == 60
    assert amy["first_response_s"] == pytest.approx((20 + 60) / 2)  # u2's first turn = cap
    assert amy["unanswered_turns"] == 2  # still counted as unanswered
    assert run(_cap_shop()).agents[A]["avg_response_s"] == pytest.approx((20 + 100) / 2)


# --- order vs payment, final payment, silent sales ----------------------------


def _sales_shop() -> Any:
    rows = [msg(A, b, "buyer", "2024-06-01 10:00:00") for b in ("u1", "u2", "u3", "u4")]
    orders = [
        # created before the chat, paid after it: a payment conversion only
        order("o1", "u1", "2024-06-01 09:00:00", "2024-06-01 11:00:00", 10),
        # created in the window, paid after it (06-04): an order conversion only
        order("o2", "u2", "2024-06-01 12:00:00", "2024-06-04 12:00:00", 20),
        # pre-sale deposit: created 06-01, final payment on day 7 (06-08)
        order("o3", "u3", "2024-06-01 12:00:00", "2024-06-08 23:59:00", 30),
        # … and on day 8 (06-09)
        order("o4", "u4", "2024-06-01 12:00:00", "2024-06-09 00:00:00", 40),
        # a buyer who never chatted: silent
        order("o5", "u9", "2024-06-01 12:00:00", "2024-06-01 12:05:00", 50),
        order("o6", "u9", "2024-06-02 12:00:00", None, 60),  # never paid: not a sale
    ]
    return dataset(rows, orders=orders)


def test_order_basis_is_the_default() -> None:
    amy = run(_sales_shop()).agents[A]
    assert amy["converted"] == 3  # o2, o3, o4 (paid at any time)
    assert amy["sales_amount"] == 90


def test_payment_basis_counts_payments_in_the_window() -> None:
    amy = run(_sales_shop(), conversion_basis="payment").agents[A]
    assert amy["converted"] == 1  # o1 only (paid 06-01)
    assert amy["sales_amount"] == 10


def test_final_payment_window_day_7_counts_day_8_does_not() -> None:
    ds = _sales_shop()
    amy = run(ds, final_payment_days=7).agents[A]
    assert amy["converted"] == 2 and amy["sales_amount"] == 20 + 30  # o2 (day 3), o3 (day 7)
    paid = run(ds, conversion_basis="payment", final_payment_days=7).agents[A]
    assert paid["sales_amount"] == 10 + 20 + 30  # paid in the window, or a deposit by day 7
    assert run(ds, final_payment_days=2).agents[A]["sales_amount"] == 0


def test_silent_sales_are_the_shops_never_an_agents() -> None:
    result = run(_sales_shop(), "2024-06-01", "2024-06-02")
    # o5: the buyer never chatted; o1: ordered at 09:00, before the chat (下单判定)
    assert result.shops["s1"]["silent_orders"] == 2
    assert result.shops["s1"]["silent_sales_amount"] == 10 + 50
    assert result.agents[A]["silent_sales_amount"] is None
    assert result.teams["presale-1"]["silent_orders"] is None
    # 付款判定: o1 was paid after the chat, so it converts; o2, o3, o4 were paid after the
    # window and are silent on their payment days
    paid = run(_sales_shop(), "2024-06-01", "2024-06-30", conversion_basis="payment")
    assert paid.shops["s1"]["silent_orders"] == 4
    assert paid.shops["s1"]["silent_sales_amount"] == 20 + 30 + 40 + 50
    no_orders = run(dataset([msg(A, "u1", "buyer", "2024-06-01 10:00:00")]))
    assert no_orders.shops["s1"]["silent_orders"] is None


# --- transfers --------------------------------------------------------------


def _transfer_shop() -> Any:
    rows = [
        # u1: Amy → Bob, a new block 2 minutes later; Bob answers more turns
        msg(A, "u1", "buyer", "2024-06-01 10:00:00"),
        msg(A, "u1", "agent", "2024-06-01 10:00:10"),
        msg(B, "u1", "agent", "2024-06-01 10:02:00"),
        msg(B, "u1", "buyer", "2024-06-01 10:03:00"),
        msg(B, "u1", "agent", "2024-06-01 10:03:10"),
        msg(B, "u1", "buyer", "2024-06-01 10:04:00"),
        msg(B, "u1", "agent", "2024-06-01 10:04:10"),
        # u2: Amy, then a system transfer message and nobody else: out only
        msg(A, "u2", "buyer", "2024-06-01 11:00:00"),
        msg(A, "u2", "system", "2024-06-01 11:00:05", content="会话已转接至其他客服"),
        # u3: Amy, then Bob 31 minutes later: a new visit, not a transfer
        msg(A, "u3", "buyer", "2024-06-01 12:00:00"),
        msg(B, "u3", "buyer", "2024-06-01 12:31:00"),
        # u4: Bob → Amy; Amy answers later but more turns go to Bob
        msg(B, "u4", "buyer", "2024-06-01 13:00:00"),
        msg(B, "u4", "agent", "2024-06-01 13:00:05"),
        msg(B, "u4", "buyer", "2024-06-01 13:00:10"),
        msg(B, "u4", "agent", "2024-06-01 13:00:15"),
        msg(A, "u4", "buyer", "2024-06-01 13:01:00"),
        msg(A, "u4", "agent", "2024-06-01 13:01:05"),
    ]
    orders = [order("o1", "u1", "2024-06-01 15:00:00", "2024-06-01 15:00:00", 100),
              order("o4", "u4", "2024-06-01 15:00:00", "2024-06-01 15:00:00", 40)]
    return dataset(rows, orders=orders)


def test_transfers_in_and_out_per_agent() -> None:
    result = run(_transfer_shop())
    amy, bob = result.agents[A], result.agents[B]
    assert (amy["transfers_out"], amy["transfers_in"]) == (2, 1)  # u1→Bob, u2→?, u4 from Bob
    assert (bob["transfers_out"], bob["transfers_in"]) == (1, 1)
    assert result.teams["presale-1"]["transfers_out"] == 3
    assert run(_transfer_shop(), "2024-06-02").agents[A]["transfers_out"] == 0


def test_transfer_credit_last_touch_or_most_turns() -> None:
    last = run(_transfer_shop()).agents
    # last touch: the later inquiry wins (u1 → Bob, u4 → Amy)
    assert (last[A]["sales_amount"], last[B]["sales_amount"]) == (40, 100)
    most = run(_transfer_shop(), transfer_credit="most_turns").agents
    # most answered turns: u1 Bob 2 vs Amy 1 → Bob; u4 Bob 2 vs Amy 1 → Bob
    assert (most[A]["sales_amount"], most[B]["sales_amount"]) == (0, 140)
    assert most[A]["converted"] == 2  # conversion itself does not depend on credit


def test_a_scheme_asking_for_transfers_or_attendance_alone_gets_the_full_values() -> None:
    """Partial runs (a scheme's segments) pick families by the registry's family."""
    import datetime as dt

    from kefu.metrics import MetricParams, compute
    from tests.metrics import test_attendance

    day = dt.date(2024, 6, 1)
    ds = _transfer_shop()
    part = compute(ds, day, day, MetricParams(tz=ds.tz), keys={"transfers_out", "transfers_in"})
    assert part.agents[A]["transfers_out"] == run(ds).agents[A]["transfers_out"] == 2
    shop = test_attendance._shop()
    first, last = dt.date(2024, 6, 3), dt.date(2024, 6, 5)
    part = compute(shop, first, last, MetricParams(tz=shop.tz), keys={"late_starts"})
    assert part.agents[A]["late_starts"] == 2
