"""Runs the metric families on an engine (DuckDB embedded by default, or Spark).

The definitions are Ibis expressions (facts.py and the family modules), so the
same rules run on DuckDB and Spark.  This module only prepares the inputs,
connects, collects per-agent components, and rolls them up.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from types import ModuleType
from typing import Any
from zoneinfo import ZoneInfo

import ibis
import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.compute as pc

from kefu.ingest.dataset import Dataset
from kefu.metrics import cases, sales, satisfaction, service
from kefu.metrics.context import LEVELS, Components, Context
from kefu.metrics.facts import US_PER_S, Period, build_facts
from kefu.metrics.params import MetricParams
from kefu.metrics.registry import METRICS, QUALITY_KEYS
from kefu.metrics.result import MetricsResult, Values

FAMILIES: tuple[ModuleType, ...] = (service, sales, satisfaction, cases)


def compute(
    dataset: Dataset,
    start: dt.date,
    end: dt.date,
    params: MetricParams | None = None,
    engine: str = "duckdb",
    qa: bool = True,
) -> MetricsResult:
    """Every metric of metrics.md per agent, team and shop for the days start..end."""
    params = params or MetricParams(tz=dataset.tz)
    if end < start:
        raise ValueError(f"end {end} is before start {start}")
    families = list(FAMILIES)
    if qa:
        from kefu.metrics import quality

        families.append(quality)
    con = connect(engine)
    ctx = build_context(con, dataset, start, end, params, qa=qa)
    try:
        return collect(ctx, families, dataset, start, end, params, qa=qa)
    finally:
        con.disconnect()


def connect(engine: str) -> Any:
    if engine == "duckdb":
        return ibis.duckdb.connect()
    if engine == "spark":
        from kefu.metrics.spark import connect_spark

        return connect_spark()
    raise ValueError(f"unknown engine {engine!r} (duckdb or spark)")


def period_of(start: dt.date, end: dt.date, tz: str) -> Period:
    zone = ZoneInfo(tz)
    epoch = dt.date(1970, 1, 1)

    def utc_us(day: dt.date) -> int:
        local_midnight = dt.datetime(day.year, day.month, day.day, tzinfo=zone)
        return int(local_midnight.timestamp()) * US_PER_S

    return Period(
        first_day=(start - epoch).days,
        last_day=(end - epoch).days,
        start_us=utc_us(start),
        end_us=utc_us(end + dt.timedelta(days=1)),
    )


# --- preparing Arrow inputs: int64 microseconds and day numbers --------------


def _us(column: pa.ChunkedArray) -> pa.ChunkedArray:
    return pc.cast(column, pa.int64())


def _day(local: pa.ChunkedArray) -> pa.ChunkedArray:
    return pc.cast(pc.cast(pc.cast(local, pa.date32()), pa.int32()), pa.int64())


def _with_times(table: pa.Table, keep: Iterable[str], times: dict[str, str]) -> pa.Table:
    """Select `keep` and add, per timestamp column X_at named in `times`, X_us / X_lus / X_day."""
    out = {name: table.column(name) for name in keep}
    for column, wants in times.items():
        stem = column.removesuffix("_at")
        if "u" in wants:
            out[f"{stem}_us"] = _us(table.column(column))
        if "l" in wants:
            out[f"{stem}_lus"] = _us(table.column(f"{stem}_local"))
        if "d" in wants:
            out[f"{stem}_day"] = _day(table.column(f"{stem}_local"))
    return pa.table(out)


def prepare_messages(messages: pa.Table, extra: pa.Table | None = None) -> pa.Table:
    table = _with_times(
        messages,
        ["shop_id", "agent_id", "buyer_id", "sender", "auto_reply", "conversation_id", "ordinal"],
        {"sent_at": "ud"},
    )
    if extra is not None:
        for name in extra.column_names:
            table = table.append_column(name, extra.column(name))
    return table


def prepare_agents(agents: pa.Table) -> pa.Table:
    return pa.table(
        {
            "agent_id": agents.column("agent_id"),
            "team": pc.fill_null(agents.column("team"), ""),
            "shop": pc.fill_null(agents.column("shop_id"), ""),
            "role": agents.column("role"),
        }
    )


def build_context(
    con: Any, dataset: Dataset, start: dt.date, end: dt.date, params: MetricParams, qa: bool
) -> Context:
    def register(name: str, table: pa.Table | None) -> ir.Table | None:
        if table is None:
            return None
        if _is_duckdb(con):
            # zero-copy: DuckDB scans the Arrow table in place
            con.con.register(name, table)
            return con.table(name)
        return con.create_table(name, table.to_pandas(), overwrite=True)

    extra = None
    if qa:
        from kefu.metrics.quality import message_flags

        extra = message_flags(dataset.messages)
    messages = register("messages", prepare_messages(dataset.messages, extra))
    agents = register("agents", prepare_agents(dataset.agents))
    assert messages is not None and agents is not None
    orders = ratings = cases_t = sessions = None
    if dataset.orders is not None:
        orders = register("orders", _with_times(
            dataset.orders,
            ["order_id", "shop_id", "buyer_id", "amount", "refund_amount"],
            {"created_at": "ul", "paid_at": "u"},
        ))
    if dataset.ratings is not None:
        ratings = register(
            "ratings", _with_times(dataset.ratings, ["agent_id", "score"], {"rated_at": "d"})
        )
    if dataset.cases is not None:
        cases_t = register("cases", _with_times(
            dataset.cases,
            ["agent_id", "kind", "platform_intervened"],
            {"opened_at": "ud", "closed_at": "u"},
        ))
    if dataset.sessions is not None:
        sessions = register("sessions", _with_times(
            dataset.sessions, ["agent_id", "status"], {"started_at": "u", "ended_at": "u"}
        ))
    gap_us = int(round(params.session_gap_min * 60 * US_PER_S))
    facts = build_facts(messages, gap_us)
    if _is_duckdb(con):
        # Facts are read by many aggregations: materialise them once.
        # (explicit temp tables rather than .cache(): they die with the connection)
        facts.messages = con.create_table("f_messages", facts.messages, temp=True)
        facts.conversations = con.create_table(
            "f_conversations", facts.conversations, temp=True
        )
        facts.turns = con.create_table("f_turns", facts.turns, temp=True)
        facts.buyer_days = con.create_table("f_buyer_days", facts.buyer_days, temp=True)
    return Context(
        facts=facts,
        period=period_of(start, end, params.tz),
        params=params,
        agents=agents,
        orders=orders,
        ratings=ratings,
        cases=cases_t,
        sessions=sessions,
    )


def _is_duckdb(con: Any) -> bool:
    return bool(con.name == "duckdb")


# --- collecting and rolling up -----------------------------------------------


def _rows(table: ir.Table, key: str) -> dict[str, dict[str, Any]]:
    data = table.to_pyarrow().to_pylist()
    return {row.pop(key): row for row in data}


def _merge_into(target: dict[str, Components], tables: Iterable[ir.Table], key: str) -> None:
    for table in tables:
        for entity, values in _rows(table, key).items():
            if entity in target:
                target[entity].update(values)


def collect(
    ctx: Context,
    families: list[ModuleType],
    dataset: Dataset,
    start: dt.date,
    end: dt.date,
    params: MetricParams,
    qa: bool,
) -> MetricsResult:
    info = _agent_info(dataset.agents)
    per_agent: dict[str, Components] = {agent_id: {} for agent_id in info}
    for family in families:
        _merge_into(per_agent, family.components(ctx), "agent_id")

    levels: dict[str, dict[str, Components]] = {"agent_id": per_agent}
    for level, attribute in (("team", "team"), ("shop", "shop_id")):
        rolled: dict[str, Components] = {}
        for agent_id, comps in per_agent.items():
            group = info[agent_id][attribute]
            if group:
                _add(rolled.setdefault(group, {}), comps)
        levels[level] = rolled
    for level in LEVELS:
        pooled: list[ir.Table] = []
        for family in families:
            pooled_fn: Callable[[Context, str], list[ir.Table]] | None = getattr(
                family, "pooled", None
            )
            if pooled_fn is not None:
                pooled.extend(pooled_fn(ctx, level))
        _merge_into(levels[level], pooled, level)

    keys = tuple(m.key for m in METRICS if qa or m.key not in QUALITY_KEYS)

    def derive_all(components: Components) -> Values:
        values: Values = {}
        for family in families:
            values.update(family.derive(components, ctx))
        return {key: _clean(values.get(key)) for key in keys}

    return MetricsResult(
        start=start,
        end=end,
        params=params,
        agents={k: derive_all(v) for k, v in per_agent.items()},
        teams={k: derive_all(v) for k, v in sorted(levels["team"].items())},
        shops={k: derive_all(v) for k, v in sorted(levels["shop"].items())},
        agent_info=info,
        keys=keys,
    )


# Components pooled by recomputation (pooled()) must not be summed.
_NOT_ADDITIVE = frozenset(
    {
        "first_response_s_p50", "first_response_s_p90", "avg_response_s_p50",
        "avg_response_s_p90", "credited_buyers",
    }
)


def _add(total: Components, part: Components) -> None:
    for name, value in part.items():
        if name in _NOT_ADDITIVE or value is None:
            continue
        total[name] = total.get(name, 0) + value


def _clean(value: Any) -> float | int | None:
    """JSON-friendly numbers: ints stay ints, floats lose binary noise, NaN is null."""
    if value is None:
        return None
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    number = float(value)
    if number != number:  # NaN
        return None
    return round(number, 9)


def _agent_info(agents: pa.Table) -> dict[str, dict[str, str]]:
    info: dict[str, dict[str, str]] = {}
    for row in agents.select(["agent_id", "name", "team", "shop_id", "role"]).to_pylist():
        agent_id = row["agent_id"]
        info[agent_id] = {
            "name": row["name"] or agent_id,
            "team": row["team"] or "",
            "shop_id": row["shop_id"] or "",
            "role": row["role"],
        }
    return info
