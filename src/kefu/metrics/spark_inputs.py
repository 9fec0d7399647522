"""The inputs of the facts, prepared inside Spark from a shop read by the cluster.

The same columns engine.py prepares from Arrow on the driver (integer codes,
microseconds, local days, money in 1/10000 yuan; see facts.py), computed as Spark
expressions over kefu.ingest.spark_reader's DataFrames, then handed to the same
Ibis definitions (build_facts and the families). Only per-agent results, the
agents table and small summaries (message days, won disputes) reach the driver.

Codes: agents follow the code-point order of agent_id (small, numbered on the
driver); buyers and conversation ids are numbered densely inside Spark (numbers
per partition plus each partition's offset), so the thread number
(shop, agent, buyer) packs into 64 bits as on DuckDB.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pyarrow as pa

from kefu.ingest.dataset import Dataset
from kefu.ingest.spark_reader import SparkShop
from kefu.metrics.attendance import prepare_shifts
from kefu.metrics.context import Context
from kefu.metrics.engine import PER_AGENT_TABLES, _materialiser, period_of
from kefu.metrics.facts import US_PER_DAY, build_facts
from kefu.metrics.params import MetricParams


def _F() -> Any:
    from pyspark.sql import functions

    return functions


def dense_codes(values: Any, column: str, name: str, start: int = 0) -> tuple[Any, int]:
    """(column, name): each distinct non-null value of ``column`` numbered start, start+1, …

    Distributed: each partition numbers its values, the driver receives one count per
    partition and adds the offsets (no single-partition window)."""
    F = _F()
    from pyspark.sql import Window

    # an explicit repartition(n, column) is never coalesced by adaptive execution, so a
    # value's partition number is the same in every job that reads this plan
    parts = int(values.sparkSession.conf.get("spark.sql.shuffle.partitions"))
    spread = values.select(column).filter(F.col(column).isNotNull()).repartition(parts, column)
    distinct = spread.withColumn("_part", F.spark_partition_id()).distinct()
    local = distinct.withColumn(
        "_local", F.row_number().over(Window.partitionBy("_part").orderBy(column)) - 1)
    counts = sorted((row["_part"], row["count"])
                    for row in local.groupBy("_part").count().collect())
    offsets: dict[int, int] = {}
    running = start
    for part, count in counts:
        offsets[part] = running
        running += count
    if not offsets:
        return distinct.select(column, F.lit(None).cast("bigint").alias(name)), 0
    table = F.create_map(*[F.lit(v) for pair in offsets.items() for v in pair])
    coded = local.select(column, (table[F.col("_part")] + F.col("_local")).alias(name))
    return coded, running - start


def _us(column: str) -> Any:
    return _F().unix_micros(_F().col(column))


def _local_us(column: str, tz: str) -> Any:
    F = _F()
    return F.unix_micros(F.from_utc_timestamp(F.col(column), tz))


def _day(column: str, tz: str) -> Any:
    return _F().floor(_local_us(column, tz) / US_PER_DAY).cast("int")


def _times(times: dict[str, str], tz: str) -> list[Any]:
    """Per X_at in ``times``: X_us (u), X_lus (l) and X_day (d), as engine._with_times."""
    out: list[Any] = []
    for column, wants in times.items():
        stem = column.removesuffix("_at")
        if "u" in wants:
            out.append(_us(column).alias(f"{stem}_us"))
        if "l" in wants:
            out.append(_local_us(column, tz).alias(f"{stem}_lus"))
        if "d" in wants:
            out.append(_day(column, tz).alias(f"{stem}_day"))
    return out


class SparkEncoding:
    """engine.Encoding inside Spark: agent and shop codes are small (driver), buyer codes
    are numbered in Spark."""

    def __init__(self, spark: Any, shop: SparkShop) -> None:
        F = _F()
        self.agent_ids = sorted(shop.agents.column("agent_id").to_pylist())
        messages, orders = shop.frames["messages"], shop.frame("orders")
        shops = {r[0] for r in messages.select("shop_id").distinct().collect()}
        if orders is not None:
            shops |= {r[0] for r in orders.select("shop_id").distinct().collect()}
        self.shop_ids = sorted(s for s in shops if s is not None)
        self.agents = spark.createDataFrame(
            list(enumerate(self.agent_ids)), "agent_no int, agent_id string")
        self.shops = spark.createDataFrame(
            list(enumerate(self.shop_ids)), "shop_no int, shop_id string")
        self.buyers, self.n_buyers = dense_codes(messages, "buyer_id", "buyer_no")
        self.conversations, _ = dense_codes(messages, "conversation_id", "conv_tag", start=1)
        self.buyers = self.buyers.withColumn("buyer_no", F.col("buyer_no").cast("int"))

    def coded(self, frame: Any, buyers: bool = False, shops: bool = False) -> Any:
        F = _F()
        out = frame.join(F.broadcast(self.agents), "agent_id", "left") \
            if "agent_id" in frame.columns else frame
        if shops:
            out = out.join(F.broadcast(self.shops), "shop_id", "left")
        if buyers:
            out = out.join(self.buyers, "buyer_id", "left")
        return out


def prepare_messages(enc: SparkEncoding, messages: Any, tz: str) -> Any:
    F = _F()
    n_agents, n_buyers = len(enc.agent_ids), max(enc.n_buyers, 1)
    if len(enc.shop_ids) * n_agents * n_buyers >= 2**62:
        raise ValueError("too many shops x agents x buyers to number threads in 64 bits")
    m = enc.coded(messages, buyers=True, shops=True).join(
        enc.conversations, "conversation_id", "left")
    thread = ((F.col("shop_no").cast("bigint") * n_agents + F.col("agent_no")) * n_buyers
              + F.col("buyer_no"))
    return m.select(
        "agent_no", "shop_no", "buyer_no", thread.alias("thread"),
        F.coalesce(F.col("conv_tag"), F.lit(0)).cast("int").alias("conv_tag"),
        _us("sent_at").alias("sent_us"), _day("sent_at", tz).alias("sent_day"),
        (F.col("sender") == "buyer").alias("is_buyer"),
        # auto-replies are treated exactly like bot messages (metrics.md)
        ((F.col("sender") == "agent") & ~F.coalesce(F.col("auto_reply"), F.lit(False)))
        .alias("is_human"),
        F.col("ordinal").alias("row_no"), "ordinal",
    )


def prepare_orders(enc: SparkEncoding, orders: Any, tz: str) -> Any:
    F = _F()

    def e4(column: str) -> Any:
        # half to even, as pyarrow's round on the DuckDB path
        return F.bround(F.coalesce(F.col(column), F.lit(0.0)) * 10_000.0).cast("bigint")

    o = enc.coded(orders, buyers=True, shops=True)
    return o.select(
        F.col("ordinal").alias("order_no"), "shop_no", "buyer_no",
        e4("amount").alias("amount_e4"), e4("refund_amount").alias("refund_e4"),
        # the same times as engine.prepare_orders (the cluster path has no day cut)
        *_times({"created_at": "uld", "paid_at": "uld"}, tz),
    )


def prepare_per_agent(enc: SparkEncoding, table: Any, keep: list[str], times: dict[str, str],
                      tz: str) -> Any:
    return enc.coded(table).select(
        "agent_no", _F().col("ordinal").alias("row_no"), *keep, *_times(times, tz))


def agent_shops(shop: SparkShop) -> list[str]:
    """engine.agent_shops: agents.shop_id, else the shop the agent's chats name most."""
    given = [s or "" for s in shop.agents.column("shop_id").to_pylist()]
    if all(given):
        return given
    counts = shop.frames["messages"].groupBy("agent_id", "shop_id").count().collect()
    best: dict[str, tuple[int, str]] = {}
    for row in counts:
        name, n = row["shop_id"] or "", row["count"]
        if name and (n, name) > best.get(row["agent_id"], (0, "")):
            best[row["agent_id"]] = (n, name)
    ids = shop.agents.column("agent_id").to_pylist()
    return [g or best.get(a, (0, ""))[1] for a, g in zip(ids, given, strict=True)]


def build_spark_context(con: Any, shop: SparkShop, params: MetricParams) -> Context:
    """engine.build_context for a shop the cluster read: the same facts and Context."""
    if params.tz != shop.tz:
        raise ValueError(f"data was loaded in {shop.tz} but the run asks for {params.tz}")
    spark = con._session
    tz = params.tz
    enc = SparkEncoding(spark, shop)

    def register(name: str, frame: Any) -> Any:
        frame.createOrReplaceTempView(name)
        return con.table(name)

    shops = agent_shops(shop)
    agent_rows = shop.agents.select(["agent_id", "team", "role"]).to_pylist()
    agents = spark.createDataFrame(
        [(enc.agent_ids.index(r["agent_id"]), r["team"] or "", s, r["role"])
         for r, s in zip(agent_rows, shops, strict=True)],
        "agent_no int, team string, shop string, role string")
    messages = register("messages", prepare_messages(enc, shop.frames["messages"], tz))
    orders = shop.frame("orders")
    per_agent = {
        name: register(name, prepare_per_agent(enc, frame, keep, times, tz))
        for name, (keep, times) in PER_AGENT_TABLES.items()
        if (frame := shop.frame(name)) is not None
    }
    gap_us = params.session_gap_us
    held: dict[str, Any] = {"agent_ids": enc.agent_ids, "agent_shops": shops, "codes": enc}
    if (shift_frame := shop.frame("shifts")) is not None:
        held["shifts"] = register("shifts", shifts_frame(spark, enc, shift_frame))
    return Context(
        facts=build_facts(messages, gap_us, _materialiser(con),
                          params.repeat_window_us),
        period=period_of(dt.date(1970, 1, 1), dt.date(1970, 1, 1), tz),
        params=params,
        agents=register("agents", agents),
        orders=None if orders is None else register("orders", prepare_orders(enc, orders, tz)),
        ratings=per_agent.get("ratings"),
        cases=per_agent.get("cases"),
        sessions=per_agent.get("sessions"),
        extra=held,
    )


def shifts_frame(spark: Any, enc: SparkEncoding, shifts: Any) -> Any:
    """The shifts table as attendance.prepare_shifts makes it: a small planning table (a
    row per agent and day or weekday), so it is read on the driver and sent back."""
    table = pa.Table.from_pylist([r.asDict() for r in shifts.orderBy("ordinal").collect()])
    if table.num_rows == 0:
        table = pa.table({"agent_id": pa.array([], pa.string()),
                          "day": pa.array([], pa.string()),
                          "weekday": pa.array([], pa.string()),
                          "start": pa.array([], pa.string())})
    codes = [enc.agent_ids.index(a) if a in enc.agent_ids else None
             for a in table.column("agent_id").to_pylist()]
    prepared = prepare_shifts(table, pa.chunked_array([pa.array(codes, pa.int32())]))
    rows = [(r["agent_no"], r["day"], r["weekday"], r["start_us"]) for r in prepared.to_pylist()]
    return spark.createDataFrame(rows, "agent_no int, day int, weekday int, start_us long")


def summary_dataset(shop: SparkShop) -> Dataset:
    """What scoring reads beside the metrics, small: the agents, one row per local day with
    messages (has_data) and the cases that count as won disputes (counts)."""
    F = _F()
    days = shop.frames["messages"].select(
        F.to_date(F.from_utc_timestamp("sent_at", shop.tz)).alias("day")).distinct().collect()
    messages = pa.table({"sent_local": pa.array(
        [dt.datetime.combine(r["day"], dt.time()) for r in days], pa.timestamp("us"))})
    cases = None
    frame = shop.frame("cases")
    if frame is not None:
        won = frame.filter((F.col("outcome") == "seller_won") & (
            (F.col("kind") == "dispute") | F.col("platform_intervened"))).select(
            "agent_id", F.from_utc_timestamp("opened_at", shop.tz).alias("opened_local"),
            "kind", "platform_intervened", "outcome").collect()
        cases = pa.Table.from_pylist([r.asDict() for r in won], schema=pa.schema([
            ("agent_id", pa.string()), ("opened_local", pa.timestamp("us")),
            ("kind", pa.string()), ("platform_intervened", pa.bool_()),
            ("outcome", pa.string())]))
    return Dataset(agents=shop.agents, messages=messages, cases=cases, tz=shop.tz)
