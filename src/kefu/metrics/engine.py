"""Runs the metric families on an engine (DuckDB embedded by default, or Spark).

The definitions are Ibis expressions (facts.py and the family modules), so the
same rules run on DuckDB and Spark.  This module only prepares the inputs,
connects, collects per-agent components, and rolls them up.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Iterable
from dataclasses import replace
from types import ModuleType
from typing import Any
from zoneinfo import ZoneInfo

import ibis
import ibis.expr.types as ir
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from kefu.ingest.dataset import Dataset
from kefu.metrics import attendance, cases, sales, satisfaction, service, threads, transfers
from kefu.metrics.clock import message_columns, with_day_cutoff
from kefu.metrics.context import LEVELS, Components, Context
from kefu.metrics.facts import US_PER_S, Period, build_facts
from kefu.metrics.filters import filtered
from kefu.metrics.flag_bits import QA_BITS, QA_FLAGS
from kefu.metrics.params import MetricParams
from kefu.metrics.registry import BY_KEY, METRICS, QUALITY_KEYS
from kefu.metrics.result import MetricsResult, Values

FAMILIES: tuple[ModuleType, ...] = (
    service, sales, satisfaction, cases, transfers, attendance
)


def compute(
    dataset: Dataset,
    start: dt.date,
    end: dt.date,
    params: MetricParams | None = None,
    engine: str = "duckdb",
    qa: bool = True,
    flags: pa.Table | None = None,
    keys: Collection[str] | None = None,
) -> MetricsResult:
    """Every metric of metrics.md per agent, team and shop for the days start..end.

    One-off: builds the facts, answers, and drops them. kefu.analysis.Analysis
    keeps the facts for many periods.
    """
    params = params or MetricParams(tz=dataset.tz)
    check_period(start, end)
    dataset = filtered(dataset, params)  # reception filters (default: none)
    con = connect(engine)
    try:
        ctx = build_context(con, dataset, params, qa=qa, flags=flags)
        return collect(for_period(ctx, start, end), dataset, qa=qa, keys=keys)
    finally:
        con.disconnect()


def check_period(start: dt.date, end: dt.date) -> None:
    if end < start:
        raise ValueError(f"end {end} is before start {start}")


def families(qa: bool) -> list[ModuleType]:
    if not qa:
        return list(FAMILIES)
    from kefu.metrics import quality

    return [*FAMILIES, quality]


def for_period(ctx: Context, start: dt.date, end: dt.date) -> Context:
    """The same facts, read for the days start..end."""
    check_period(start, end)
    return replace(ctx, period=period_of(start, end, ctx.params.tz, ctx.params.day_cutoff_us))


def connect(engine: str) -> Any:
    if engine == "duckdb":
        return ibis.duckdb.connect()
    if engine == "spark":
        from kefu.metrics.spark import connect_spark

        return connect_spark()
    raise ValueError(f"unknown engine {engine!r} (duckdb or spark)")


def period_of(start: dt.date, end: dt.date, tz: str, cutoff_us: int = 0) -> Period:
    """The days start..end; each day begins at the business-day cut (default 00:00)."""
    zone = ZoneInfo(tz)
    epoch = dt.date(1970, 1, 1)
    cut = dt.timedelta(microseconds=cutoff_us)

    def utc_us(day: dt.date) -> int:
        local_start = dt.datetime(day.year, day.month, day.day) + cut
        return int(local_start.replace(tzinfo=zone).timestamp()) * US_PER_S

    return Period(
        first_day=(start - epoch).days,
        last_day=(end - epoch).days,
        start_us=utc_us(start),
        end_us=utc_us(end + dt.timedelta(days=1)),
    )


# --- preparing Arrow inputs: integer codes, microseconds and day numbers ----


def _us(column: pa.ChunkedArray) -> pa.ChunkedArray:
    return pc.cast(column, pa.int64())


def _day(local: pa.ChunkedArray) -> pa.ChunkedArray:
    return pc.cast(pc.cast(local, pa.date32()), pa.int32())


def _e4(money: pa.ChunkedArray) -> pa.ChunkedArray:
    return pc.cast(pc.round(pc.multiply(pc.fill_null(money, 0.0), 10_000.0)), pa.int64())


def _codes(values: pa.ChunkedArray, dictionary: pa.Array) -> pa.ChunkedArray:
    """Position of each value in `dictionary` (null when absent), as int32."""
    return pc.cast(pc.index_in(values, value_set=dictionary), pa.int32())


class Encoding:
    """Dictionaries that turn the text keys of a dataset into integer codes.

    Agent codes follow the code-point order of agent_id, so the last-touch
    tie-break "smallest agent_id" is "smallest code".
    """

    def __init__(self, dataset: Dataset) -> None:
        self.agent_ids = pa.array(sorted(dataset.agents.column("agent_id").to_pylist()))
        shops: set[str] = set(pc.unique(dataset.messages.column("shop_id")).to_pylist())
        if dataset.orders is not None:
            shops.update(pc.unique(dataset.orders.column("shop_id")).to_pylist())
        self.shop_ids = pa.array(sorted(s for s in shops if s is not None))
        buyers = dataset.messages.column("buyer_id").combine_chunks().dictionary_encode()
        self.buyer_ids = buyers.dictionary
        self.buyer_codes = pc.cast(buyers.indices, pa.int32())

    def agents(self, column: pa.ChunkedArray) -> pa.ChunkedArray:
        return _codes(column, self.agent_ids)


def _with_times(table: pa.Table, keep: dict[str, Any], times: dict[str, str]) -> pa.Table:
    """`keep` columns plus, per timestamp column X_at in `times`, X_us / X_lus / X_day."""
    out = dict(keep)
    for column, wants in times.items():
        stem = column.removesuffix("_at")
        if "u" in wants:
            out[f"{stem}_us"] = _us(table.column(column))
        if "l" in wants:
            out[f"{stem}_lus"] = _us(table.column(f"{stem}_local"))
        if "d" in wants:
            out[f"{stem}_day"] = _day(table.column(f"{stem}_local"))
    return pa.table(out)


def prepare_messages(
    messages: pa.Table, codes: Encoding, extra: pa.Table | None = None,
    gap_us: int | None = None,
) -> pa.Table:
    """The integer columns facts.py reads.

    With ``gap_us`` (DuckDB), the rows come in thread order with seq, conv_no,
    human_no and multi_agent computed here (kefu.metrics.threads): the table is
    the messages fact itself.  Without (Spark), facts.py's windows compute them.
    """
    agent_no = codes.agents(messages.column("agent_id"))
    shop_no = _codes(messages.column("shop_id"), codes.shop_ids)
    buyer_no = codes.buyer_codes
    n_agents, n_buyers = len(codes.agent_ids), max(len(codes.buyer_ids), 1)
    if len(codes.shop_ids) * n_agents * n_buyers >= 2**62:
        raise ValueError("too many shops x agents x buyers to number threads in 64 bits")
    wide = pa.int64()
    thread = pc.add(
        pc.multiply(pc.add(pc.multiply(pc.cast(shop_no, wide), n_agents), agent_no), n_buyers),
        pc.cast(buyer_no, wide),
    )
    sent_us = _us(messages.column("sent_at"))
    ordinal = messages.column("ordinal")
    order = None
    if gap_us is not None:
        sorted_rows = threads.thread_sort(_numpy(thread), _numpy(sent_us), _numpy(ordinal))
        order = None if sorted_rows is None else pa.array(sorted_rows)

    def arranged(column: Any) -> Any:
        # built column by column in the final order, so no second full copy exists
        return column if order is None else pc.take(column, order)

    conversation_id = messages.column("conversation_id").combine_chunks()
    conv_tag = pc.cast(pc.fill_null(pc.add(conversation_id.dictionary_encode().indices, 1), 0),
                       pa.int32())
    sender = messages.column("sender")
    human = pc.and_(pc.equal(sender, "agent"),
                    pc.invert(pc.fill_null(messages.column("auto_reply"), False)))
    columns = {
        "agent_no": arranged(agent_no), "shop_no": arranged(shop_no),
        "buyer_no": arranged(buyer_no), "thread": arranged(thread),
        "conv_tag": arranged(conv_tag), "sent_us": arranged(sent_us),
        "sent_day": arranged(_day(messages.column("sent_local"))),
        "is_buyer": arranged(pc.equal(sender, "buyer")),
        # auto-replies are treated exactly like bot messages (metrics.md)
        "is_human": arranged(human),
        # the row in the loaded table, for evidence (text, original times)
        "row_no": arranged(pa.array(np.arange(messages.num_rows, dtype=np.int32))),
    }
    if extra is not None:
        columns.update(_arranged_extra(extra, order, pack=gap_us is not None))
    if gap_us is None:
        columns["ordinal"] = ordinal  # facts.add_thread_order sorts by it
        return pa.table(columns)
    th = _numpy(columns["thread"])
    counts = threads.running_counts(
        th, _numpy(columns["conv_tag"]), _numpy(columns["sent_us"]),
        _numpy(columns["is_human"]).astype(bool), gap_us)
    columns.update(threads.as_arrow({
        "seq": np.arange(len(th), dtype=threads.row_dtype(len(th))), **counts,
        "multi_agent": threads.multi_agent_buyers(th, n_agents, n_buyers),
    }))
    return pa.table(columns)


def _arranged_extra(extra: pa.Table, order: pa.Array | None, pack: bool) -> dict[str, Any]:
    """The extra columns in row order ``order``; with ``pack``, the checks' flags as
    the bits of one integer (flag_bits.py): one take and one column instead of eleven."""
    names = [f"qa_{n}" for n in QA_FLAGS]
    packable = pack and all(n in extra.column_names and extra.column(n).null_count == 0
                            for n in names)
    out = {n: extra.column(n) if order is None else pc.take(extra.column(n), order)
           for n in extra.column_names if not (packable and n in names)}
    if packable:
        bits = np.zeros(extra.num_rows, dtype=np.int32)
        for bit, name in enumerate(names):
            bits |= _numpy(extra.column(name)).astype(np.int32) << bit
        out[QA_BITS] = pa.array(bits if order is None else bits[np.asarray(order)])
    return out


def _numpy(column: Any) -> np.ndarray[Any, Any]:
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    return np.asarray(column.to_numpy(zero_copy_only=False))


def agent_shops(dataset: Dataset) -> list[str]:
    """Each agent's shop for roll-ups: agents.shop_id, else the shop its chats name most.

    Single-shop exports often leave shop_id out of the agents file; the agent
    still belongs to the shop its messages come from.
    """
    given = [s or "" for s in dataset.agents.column("shop_id").to_pylist()]
    if all(given):
        return given
    counts = dataset.messages.group_by(["agent_id", "shop_id"]).aggregate([([], "count_all")])
    best: dict[str, tuple[int, str]] = {}
    for row in counts.to_pylist():
        shop, n = row["shop_id"] or "", row["count_all"]
        if shop and (n, shop) > best.get(row["agent_id"], (0, "")):
            best[row["agent_id"]] = (n, shop)
    ids = dataset.agents.column("agent_id").to_pylist()
    return [g or best.get(a, (0, ""))[1] for a, g in zip(ids, given, strict=True)]


def prepare_agents(agents: pa.Table, codes: Encoding, shops: list[str]) -> pa.Table:
    return pa.table(
        {
            "agent_no": codes.agents(agents.column("agent_id")),
            "team": pc.fill_null(agents.column("team"), ""),
            "shop": pa.array(shops, pa.string()),
            "role": agents.column("role"),
        }
    )


# Tables keyed by agent: the columns the families read and the times they need
# (u: UTC microseconds, l: local microseconds, d: local day).
PER_AGENT_TABLES: dict[str, tuple[list[str], dict[str, str]]] = {
    "ratings": (["score"], {"rated_at": "d"}),
    "cases": (["kind", "platform_intervened"], {"opened_at": "ud", "closed_at": "u"}),
    "sessions": (["status"], {"started_at": "uld", "ended_at": "u"}),
}


def _per_agent(
    table: pa.Table, codes: Encoding, keep: list[str], times: dict[str, str]
) -> pa.Table:
    columns = {
        "agent_no": codes.agents(table.column("agent_id")),
        # the row in the loaded table, for evidence
        "row_no": pa.array(np.arange(table.num_rows, dtype=np.int64)),
        **{name: table.column(name) for name in keep},
    }
    return _with_times(table, columns, times)


def build_context(
    con: Any, dataset: Dataset, params: MetricParams, qa: bool, flags: pa.Table | None = None
) -> Context:
    """Register the inputs and build the facts once; ``for_period`` picks the days.

    ``flags``: the automatic checks' qa_* columns per message, when already known
    (kefu.analysis keeps them); otherwise they are computed here when ``qa``.
    """
    if params.tz != dataset.tz:
        # days were taken at load time; mixing zones would shift day boundaries
        raise ValueError(f"data was loaded in {dataset.tz} but the run asks for {params.tz}")
    # per-message columns: the checks' flags and the options' own (kefu.metrics.clock);
    # then local times moved to the business-day cut
    extra = message_columns(flags, dataset.messages, params, qa)
    dataset = with_day_cutoff(dataset, params)
    codes = Encoding(dataset)
    gap_us = params.session_gap_us
    # Spark gets the window definitions of seq, conv_no, human_no (facts.py)
    # no name keeps the prepared table: once the messages fact is copied into DuckDB,
    # unregistering it frees it (engine._materialiser)
    messages = _register(con, "messages", prepare_messages(
        dataset.messages, codes, extra, gap_us=gap_us if _is_duckdb(con) else None))
    del extra
    shops = agent_shops(dataset)
    agents = _register(con, "agents", prepare_agents(dataset.agents, codes, shops))
    orders = None
    if dataset.orders is not None:
        orders = _register(con, "orders", prepare_orders(dataset.orders, codes))
    per_agent = {
        name: _register(con, name, _per_agent(table, codes, keep, times))
        for name, (keep, times) in PER_AGENT_TABLES.items()
        if (table := dataset.table(name)) is not None
    }
    held: dict[str, Any] = {
        "agent_ids": codes.agent_ids.to_pylist(), "codes": codes, "agent_shops": shops,
    }
    if (shift_table := dataset.table("shifts")) is not None:
        held["shifts"] = _register(con, "shifts", attendance.prepare_shifts(
            shift_table, codes.agents(shift_table.column("agent_id"))))
    return Context(
        facts=build_facts(messages, gap_us, _materialiser(con),
                          params.repeat_window_us, turns_of=_turns_of(con)),
        period=period_of(dt.date(1970, 1, 1), dt.date(1970, 1, 1), params.tz),
        params=params,
        agents=agents,
        orders=orders,
        ratings=per_agent.get("ratings"),
        cases=per_agent.get("cases"),
        sessions=per_agent.get("sessions"),
        extra=held,
    )


def prepare_orders(orders: pa.Table, codes: Encoding) -> pa.Table:
    """Orders as codes, microseconds and money in 1/10000 yuan (exact integer sums)."""
    return _with_times(
        orders,
        {
            "order_no": pa.array(np.arange(orders.num_rows, dtype=np.int64)),
            "shop_no": _codes(orders.column("shop_id"), codes.shop_ids),
            "buyer_no": _codes(orders.column("buyer_id"), codes.buyer_ids),
            "amount_e4": _e4(orders.column("amount")),
            "refund_e4": _e4(orders.column("refund_amount")),
        },
        {"created_at": "uld", "paid_at": "uld"},
    )


def _register(con: Any, name: str, table: pa.Table) -> ir.Table:
    if _is_duckdb(con):
        # zero-copy: DuckDB scans the Arrow table in place
        con.con.register(name, table)
        return con.table(name)
    from kefu.metrics.spark import register_arrow

    return register_arrow(con, name, table)


def _materialiser(con: Any) -> Callable[[str, ir.Table], ir.Table]:
    """Facts are read by many aggregations: each is materialised once, before the next
    one reads it (temp tables rather than .cache() on DuckDB: they die with con)."""

    def keep(name: str, table: ir.Table) -> ir.Table:
        if not _is_duckdb(con):
            return table.cache()
        kept = con.create_table(name, table, temp=True)
        if name == "f_turns":
            con.con.unregister("turn_rows")  # threads.buyer_turns' rows (if any), now copied
        if name == "f_messages":
            # the prepared Arrow copy is spent: give its memory back for DuckDB's use
            con.con.unregister("messages")
            pa.default_memory_pool().release_unused()
        return kept

    return keep


TURN_CHUNK_ROWS = 1 << 20
"""Messages read back per step for threads.buyer_turns (bounds its memory)."""


def _turns_of(con: Any) -> Callable[[ir.Table], ir.Table | None]:
    """On DuckDB, the buyer turns of the kept messages fact from its thread order in
    numpy (threads.buyer_turns): a run split instead of a hash group-by and a join.

    The messages are read back from DuckDB a range of seq at a time, cut at a thread
    start (turns never cross threads), so this step holds one range, never the
    whole fact twice; None (the Ibis definition) on other engines.
    """

    def turns_of(m: ir.Table) -> ir.Table | None:
        if not _is_duckdb(con) or "conv_no" not in m.columns:
            return None
        clock = "sent_bus" if "sent_bus" in m.columns else "sent_us"
        picked = ", ".join(f"{clock} AS clock" if c == "clock" else c
                           for c in threads.TURN_INPUTS)
        table = m.get_name()  # the kept messages fact (f_messages)
        total = con.con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        batches: list[pa.RecordBatch] = []
        carry: dict[str, np.ndarray[Any, Any]] | None = None
        for low in range(0, max(total, 1), TURN_CHUNK_ROWS):
            rows = _numpy_rows(con.con.execute(
                f"SELECT {picked} FROM {table} WHERE seq >= ? AND seq < ? "
                "AND (is_buyer OR is_human)", [low, low + TURN_CHUNK_ROWS]).fetchnumpy())
            if rows is None:
                return None  # a null (a time without a clock): leave it to the definition
            if carry is not None:
                rows = {k: np.concatenate((carry[k], v)) for k, v in rows.items()}
            last = low + TURN_CHUNK_ROWS >= total
            cut = len(rows["thread"]) if last else _last_thread_start(rows["thread"])
            carry = {k: v[cut:] for k, v in rows.items()}
            batches.append(_turn_batch(threads.buyer_turns({k: v[:cut] for k, v in rows.items()})))
        con.con.register("turn_rows", pa.Table.from_batches(batches))
        return con.table("turn_rows")

    return turns_of


def _numpy_rows(fetched: dict[str, Any]) -> dict[str, np.ndarray[Any, Any]] | None:
    """DuckDB's fetchnumpy() in seq order; None when a column holds a null."""
    if any(np.ma.is_masked(values) for values in fetched.values()):
        return None
    rows = {name: np.asarray(values) for name, values in fetched.items()}
    seq = rows["seq"]
    if len(seq) > 1 and not bool(np.all(seq[1:] > seq[:-1])):
        by_seq = np.argsort(seq, kind="stable")
        rows = {name: values[by_seq] for name, values in rows.items()}
    return rows


def _last_thread_start(thread: np.ndarray[Any, Any]) -> int:
    """Where the last thread of the rows begins (0: one thread only)."""
    changes = np.flatnonzero(thread[1:] != thread[:-1])
    return int(changes[-1]) + 1 if len(changes) else 0


def _turn_batch(turns: dict[str, Any]) -> pa.RecordBatch:
    return pa.RecordBatch.from_pydict({
        name: pa.array(np.ma.getdata(values),
                       mask=np.ma.getmaskarray(values) if np.ma.isMaskedArray(values) else None)
        for name, values in turns.items()})


def _is_duckdb(con: Any) -> bool:
    return bool(con.name == "duckdb")


# --- collecting and rolling up -----------------------------------------------


def _rows(table: ir.Table, key: str) -> dict[Any, dict[str, Any]]:
    data = table.to_pyarrow().to_pylist()
    return {row.pop(key): row for row in data}


def _merge_into(target: dict[Any, Components], tables: Iterable[ir.Table], key: str) -> None:
    for table in tables:
        for entity, values in _rows(table, key).items():
            if entity in target:
                target[entity].update(values)


def collect(
    ctx: Context, dataset: Dataset, qa: bool, keys: Collection[str] | None = None
) -> MetricsResult:
    """Every metric for ctx.period, per agent, team and shop.

    ``keys``: only these metrics are needed (a scheme's segments): families without
    one of them, and the pooled recomputations none of them needs, are skipped.
    The service family always runs: every family divides by its counts.
    """
    wanted = None if keys is None else {BY_KEY[k] for k in keys if k in BY_KEY}
    families_run = [f for f in families(qa)
                    if wanted is None or f is service
                    or any(m.family == _family_name(f) for m in wanted)]
    pooled_families = {f for f in families_run
                       if wanted is None or any((m.pooled or m.shop_only)
                                                and m.family == _family_name(f)
                                                for m in wanted)}
    first_day = dt.date(1970, 1, 1) + dt.timedelta(days=ctx.period.first_day)
    last_day = dt.date(1970, 1, 1) + dt.timedelta(days=ctx.period.last_day)
    info = _agent_info(dataset.agents, ctx.extra["agent_shops"])
    agent_ids: list[str] = ctx.extra["agent_ids"]
    by_code: dict[int, Components] = {code: {} for code in range(len(agent_ids))}
    for family in families_run:
        _merge_into(by_code, family.components(ctx), "agent_no")
    per_agent = {agent_ids[code]: comps for code, comps in by_code.items()}

    levels: dict[str, dict[Any, Components]] = {"agent_no": by_code}
    for level, attribute in (("team", "team"), ("shop", "shop_id")):
        rolled: dict[str, Components] = {}
        for agent_id, comps in per_agent.items():
            group = info[agent_id][attribute]
            if group:
                _add(rolled.setdefault(group, {}), comps)
        levels[level] = rolled
    for level in LEVELS:
        pooled: list[ir.Table] = []
        for family in pooled_families:
            pooled_fn: Callable[[Context, str], list[ir.Table]] | None = getattr(
                family, "pooled", None
            )
            if pooled_fn is not None:
                pooled.extend(pooled_fn(ctx, level))
        _merge_into(levels[level], pooled, level)

    shown = tuple(m.key for m in METRICS if (qa or m.key not in QUALITY_KEYS)
                  and (wanted is None or m in wanted))

    def derive_all(components: Components) -> Values:
        values: Values = {}
        for family in families_run:
            values.update(family.derive(components, ctx))
        return {key: _clean(values.get(key)) for key in shown}

    return MetricsResult(
        start=first_day,
        end=last_day,
        params=ctx.params,
        agents={k: derive_all(per_agent[k]) for k in info},
        teams={k: derive_all(v) for k, v in sorted(levels["team"].items())},
        shops={k: derive_all(v) for k, v in sorted(levels["shop"].items())},
        agent_info=info,
        keys=shown,
    )


def _family_name(module: ModuleType) -> str:
    return module.__name__.rsplit(".", 1)[-1]


# Components pooled by recomputation (pooled()) must not be summed: the registry's
# pooled metrics, and the distinct buyers behind avg_order_value.
_NOT_ADDITIVE = frozenset({m.key for m in METRICS if m.pooled} | {"credited_buyers"})


def _add(total: Components, part: Components) -> None:
    for name, value in part.items():
        if name in _NOT_ADDITIVE or value is None:
            continue
        total[name] = total.get(name, 0) + value


def _clean(value: Any) -> float | int | None:
    """JSON-friendly numbers: ints stay ints, NaN is null; floats keep full precision."""
    if value is None:
        return None
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    number = float(value)
    if number != number:  # NaN
        return None
    return number


def _agent_info(agents: pa.Table, shops: list[str]) -> dict[str, dict[str, str]]:
    info: dict[str, dict[str, str]] = {}
    rows = agents.select(["agent_id", "name", "team", "role"]).to_pylist()
    for row, shop in zip(rows, shops, strict=True):
        agent_id = row["agent_id"]
        info[agent_id] = {
            "name": row["name"] or agent_id,
            "team": row["team"] or "",
            "shop_id": shop,
            "role": row["role"],
        }
    return info
