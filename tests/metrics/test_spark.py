"""The same definitions on Spark give the same numbers as on DuckDB."""

from __future__ import annotations

import importlib.util
import shutil

import pytest

from tests.metrics.conftest import dataset, msg, run

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("pyspark") is None or shutil.which("java") is None,
    reason="Spark engine needs pyspark (pip install 'kefu[spark]') and a Java runtime",
)

A, B, C = "s1:amy", "s1:bob", "s1:cat"


def test_spark_matches_duckdb_on_every_metric() -> None:
    rows = [
        msg(A, "u1", "buyer", "2024-06-01 10:00:00", content="在吗"),
        msg(A, "u1", "bot", "2024-06-01 10:00:01"),
        msg(A, "u1", "buyer", "2024-06-01 10:00:05", content="太差了，我要投诉"),
        msg(A, "u1", "agent", "2024-06-01 10:00:10", auto=True),
        msg(A, "u1", "agent", "2024-06-01 10:00:20", content="非常理解您的心情，亲"),
        msg(A, "u1", "buyer", "2024-06-01 10:30:20"),
        msg(A, "u1", "buyer", "2024-06-01 11:00:21"),  # 30:01 later: a new conversation
        msg(A, "u1", "agent", "2024-06-01 11:00:40", content="不知道"),
        msg(B, "u1", "buyer", "2024-06-02 09:00:00", cid="k1"),
        msg(B, "u1", "agent", "2024-06-02 10:00:00", cid="k1"),
        msg(B, "u2", "buyer", "2024-06-01 23:59:00"),
        msg(B, "u2", "agent", "2024-06-02 00:00:30"),
        msg(C, "u3", "buyer", "2024-06-01 12:00:00"),
    ]
    orders = [
        {"order_id": "o1", "shop_id": "s1", "buyer_id": "u1", "created_at": "2024-06-02 12:00:00",
         "paid_at": "2024-06-02 12:00:00", "amount": 100, "refund_amount": 20},
        {"order_id": "o2", "shop_id": "s1", "buyer_id": "u2", "created_at": "2024-06-02 12:00:00",
         "paid_at": None, "amount": 50},
    ]
    ratings = [{"agent_id": A, "rated_at": "2024-06-01 12:00:00", "score": 4}]
    cases = [{"case_id": "c1", "agent_id": C, "kind": "complaint",
              "opened_at": "2024-06-01 12:00:00", "closed_at": "2024-06-01 18:00:00"}]
    sessions = [
        {"agent_id": A, "started_at": "2024-06-01 09:00:00", "ended_at": "2024-06-01 12:00:00"},
        {"agent_id": A, "started_at": "2024-06-01 11:00:00", "ended_at": "2024-06-01 13:00:00",
         "status": "busy"},
    ]
    ds = dataset(rows, orders=orders, ratings=ratings, cases=cases, sessions=sessions)
    on_duckdb = run(ds, "2024-06-01", "2024-06-02", qa=True)
    on_spark = run(ds, "2024-06-01", "2024-06-02", qa=True, engine="spark")
    assert on_spark.agents == on_duckdb.agents
    assert on_spark.teams == on_duckdb.teams
    assert on_spark.shops == on_duckdb.shops
    assert on_duckdb.agents[A]["online_hours"] == 4  # the data exercise real values
    assert on_duckdb.agents[B]["sales_amount"] == 100


@pytest.mark.parametrize(
    ("shop", "start", "end", "options"),
    [
        ("_hours_shop", "2024-06-01", "2024-06-02", {"business_hours": "08:00-23:00"}),
        ("_cut_shop", "2024-06-01", "2024-06-02", {"day_cutoff": "03:00"}),
        ("_cap_shop", "2024-06-01", "2024-06-01",
         {"turn_cap_s": 60, "unanswered_turns": "cap"}),
        ("_sales_shop", "2024-06-01", "2024-06-30",
         {"conversion_basis": "payment", "final_payment_days": 7}),
        ("_transfer_shop", "2024-06-01", "2024-06-01", {"transfer_credit": "most_turns"}),
        ("test_attendance._shop", "2024-06-03", "2024-06-05",
         {"late_grace_min": 0.5, "day_cutoff": "03:00"}),
        ("test_filters._shop", "2024-06-01", "2024-06-02",
         {"min_buyer_messages": 2, "filter_order_status": "补单"}),
    ],
)
def test_spark_matches_duckdb_under_every_option(
    shop: str, start: str, end: str, options: dict[str, object]
) -> None:
    import importlib

    module, _, name = shop.rpartition(".")
    ds = getattr(importlib.import_module(f"tests.metrics.{module or 'test_options'}"), name)()
    on_duckdb = run(ds, start, end, **options)
    on_spark = run(ds, start, end, engine="spark", **options)
    assert on_spark.agents == on_duckdb.agents
    assert on_spark.teams == on_duckdb.teams
    assert on_spark.shops == on_duckdb.shops
