"""Sales metrics (presale): inquiries, conversion, last-touch credited sales."""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from kefu.metrics.context import Components, Context, ratio
from kefu.metrics.facts import US_PER_DAY
from kefu.metrics.result import Values

MONEY_UNITS = 10_000  # amounts are summed as integers of 1/10000 yuan (engine.py)


def inquiries(ctx: Context) -> ir.Table:
    """Buyer-days of presale/both agents, over all days (crediting looks beyond the period)."""
    sellers = ctx.agents.filter(ctx.agents.role.isin(["presale", "both"])).select("agent_no")
    return ctx.facts.buyer_days.semi_join(sellers, "agent_no")


def paid_orders(ctx: Context) -> ir.Table:
    """Orders with a payment and a buyer (the only ones that can convert or sell)."""
    o = ctx.orders
    assert o is not None
    return o.filter(o.paid_us.notnull() & o.buyer_no.notnull()).select(
        "order_no", "shop_no", "buyer_no", "created_us", "created_lus", "created_day",
        "paid_us", "paid_lus", "paid_day", "amount_e4", "refund_e4",
    )


def _converts(days: ir.Table, paid: ir.Table, ctx: Context) -> ir.BooleanValue:
    """Whether a paid order converts a buyer-day (same shop and buyer assumed).

    下单判定 (order, default): created after the buyer's first message that day and
    before the window's end; with final_payment_days N also paid by the order's day + N.
    付款判定 (payment): paid in that window instead; with N, a pre-sale order created in
    the window also converts when its final payment comes by its day + N.
    """
    p = ctx.params
    window_end_lus = (days.day + (p.conversion_window_days + 1)) * US_PER_DAY
    created_in = (paid.created_us > days.first_buyer_us) & (paid.created_lus < window_end_lus)
    by_order = created_in
    if p.final_payment_days is not None:
        by_order = created_in & (paid.paid_day <= paid.created_day + p.final_payment_days)
    if p.conversion_basis == "order":
        return by_order
    paid_in = (paid.paid_us > days.first_buyer_us) & (paid.paid_lus < window_end_lus)
    return paid_in | by_order if p.final_payment_days is not None else paid_in


def _pairs(days: ir.Table, ctx: Context) -> ir.Table:
    paid = paid_orders(ctx)
    pairs = days.join(
        paid,
        [days.shop_no == paid.shop_no, days.buyer_no == paid.buyer_no,
         _converts(days, paid, ctx)],
    )
    return pairs.select(
        days.agent_no, days.thread, days.shop_no, days.buyer_no, days.day,
        days.first_buyer_us, paid.order_no, paid.amount_e4, paid.refund_e4,
    )


def conversions(ctx: Context) -> ir.Table:
    """(inquiry, paid order) pairs where the order converts the inquiry."""
    return _pairs(inquiries(ctx), ctx)


def silent_orders(ctx: Context) -> ir.Table:
    """静默销售: the period's paid orders that convert no buyer-day of any agent.

    The buyer did not chat in the window that would have credited the order, so
    it is the shop's, never an agent's.  The order belongs to the day of its
    creation (下单判定) or payment (付款判定).
    """
    o = ctx.orders
    assert o is not None
    # a buyer who never wrote at all has no buyer code: still a silent sale
    paid = o.filter(o.paid_us.notnull()).select(
        "order_no", "shop_no", "created_us", "created_day", "paid_us", "paid_day", "amount_e4"
    )
    chatted = _pairs(ctx.facts.buyer_days, ctx).select("order_no").distinct()
    silent = paid.anti_join(chatted, "order_no")
    day = silent.created_day if ctx.params.conversion_basis == "order" else silent.paid_day
    return silent.filter(ctx.period.covers(day))


def period_conversions(ctx: Context) -> ir.Table:
    """The period's (inquiry, order) pairs; ``credited`` marks the one pair each order is
    credited to: the latest inquiry, ties to the smallest agent_id (last touch).

    The ranking sees all pairs, in and out of the period, before the period filter.
    """
    pairs = conversions(ctx)
    # agent codes follow the code-point order of agent_id (engine.py)
    order_by = [ibis.desc("first_buyer_us"), ibis.asc("agent_no")]
    if ctx.params.transfer_credit == "most_turns":
        answered = answered_turns(ctx)
        pairs = pairs.left_join(answered, ["thread", "day"]).select(
            pairs, answered_turns=answered.answered_turns.fill_null(0)
        )
        order_by = [ibis.desc("answered_turns"), *order_by]
    last_touch = ibis.window(group_by="order_no", order_by=order_by)
    ranked = pairs.mutate(credited=ibis.row_number().over(last_touch) == 0)
    return ranked.filter(ctx.period.covers(ranked.day))


def answered_turns(ctx: Context) -> ir.Table:
    """Answered buyer turns per (thread, day): the weight of the most_turns credit rule."""
    t = ctx.facts.turns
    t = t.filter(t.answered)
    thread = t.thread  # a turn's thread is its conversation's (facts.CONVERSATION)
    return t.group_by([thread, t.start_day.name("day")]).aggregate(answered_turns=t.count())


def period_inquiries(ctx: Context) -> ir.Table:
    inq = inquiries(ctx)
    return inq.filter(ctx.period.covers(inq.day))


def components(ctx: Context) -> list[ir.Table]:
    inq = period_inquiries(ctx)
    parts = [inq.group_by("agent_no").aggregate(inquiries=inq.count())]
    if ctx.orders is None:
        return parts
    pairs = period_conversions(ctx)
    converted = pairs.select("agent_no", "thread", "day").distinct()
    parts.append(converted.group_by("agent_no").aggregate(converted=converted.count()))
    cr = pairs.filter(pairs.credited)
    parts.append(
        cr.group_by("agent_no").aggregate(
            sales_e4=cr.amount_e4.sum(),
            credited_orders=cr.count(),
            refund_e4=cr.refund_e4.sum(),
        )
    )
    return parts


def pooled(ctx: Context, level: str) -> list[ir.Table]:
    """avg_order_value divides by distinct buyers, which do not add up across agents;
    silent sales belong to the shop alone."""
    if ctx.orders is None:
        return []
    cr = ctx.with_levels(period_conversions(ctx))
    cr = cr.filter(cr.credited)
    parts = [cr.group_by(level).aggregate(credited_buyers=cr.buyer_no.nunique())]
    if level == "shop":
        parts.append(shop_silent_sales(ctx))
    return parts


def shop_silent_sales(ctx: Context) -> ir.Table:
    """silent_orders and silent_sales_e4 for every shop of the agents (0 when none)."""
    silent = silent_orders(ctx)
    ids = ctx.extra["codes"].shop_ids  # an Arrow array (embedded) or a list (cluster)
    shop_ids = ids.to_pylist() if hasattr(ids, "to_pylist") else list(ids)
    name = silent.shop_no.substitute(dict(enumerate(shop_ids)), else_=ibis.null("string"))
    per_shop = silent.group_by(shop=name).aggregate(
        n=silent.count(), e4=silent.amount_e4.sum()
    )
    shops = ctx.agents.select("shop").distinct()
    joined = shops.left_join(per_shop, "shop")
    return joined.select(
        shops.shop, silent_orders=joined.n.fill_null(0), silent_sales_e4=joined.e4.fill_null(0)
    )


def derive(c: Components, ctx: Context) -> Values:
    n = c.get("inquiries", 0)
    if ctx.orders is None:
        return {
            "inquiries": n, "converted": None, "conversion_rate": None, "sales_amount": None,
            "orders": None, "avg_order_value": None, "refund_rate": None,
            "silent_orders": None, "silent_sales_amount": None,
        }
    sales_e4, refund_e4 = c.get("sales_e4") or 0, c.get("refund_e4") or 0
    sales = sales_e4 / MONEY_UNITS
    return {
        "inquiries": n,
        "converted": c.get("converted", 0),
        "conversion_rate": ratio(c.get("converted", 0), n),
        "sales_amount": sales,
        "orders": c.get("credited_orders", 0),
        "avg_order_value": ratio(sales, c.get("credited_buyers", 0)),
        "refund_rate": ratio(refund_e4, sales_e4),
        # present in shop components only (pooled): agents and teams stay null
        "silent_orders": c.get("silent_orders"),
        "silent_sales_amount": (
            None if c.get("silent_sales_e4") is None else c["silent_sales_e4"] / MONEY_UNITS
        ),
    }
