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


def conversions(ctx: Context) -> ir.Table:
    """(inquiry, paid order) pairs where the order converts the inquiry."""
    o = ctx.orders
    assert o is not None
    inq = inquiries(ctx)
    paid = o.filter(o.paid_us.notnull() & o.buyer_no.notnull()).select(
        "order_no", "shop_no", "buyer_no", "created_us", "created_lus", "amount_e4", "refund_e4"
    )
    window_end_lus = (inq.day + (ctx.params.conversion_window_days + 1)) * US_PER_DAY
    pairs = inq.join(
        paid,
        [
            inq.shop_no == paid.shop_no,
            inq.buyer_no == paid.buyer_no,
            paid.created_us > inq.first_buyer_us,
            paid.created_lus < window_end_lus,
        ],
    )
    return pairs.select(
        inq.agent_no, inq.thread, inq.shop_no, inq.buyer_no, inq.day, inq.first_buyer_us,
        paid.order_no, paid.amount_e4, paid.refund_e4,
    )


def period_conversions(ctx: Context) -> ir.Table:
    """The period's (inquiry, order) pairs; ``credited`` marks the one pair each order is
    credited to: the latest inquiry, ties to the smallest agent_id (last touch).

    The ranking sees all pairs, in and out of the period, before the period filter.
    """
    pairs = conversions(ctx)
    last_touch = ibis.window(
        # agent codes follow the code-point order of agent_id (engine.py)
        group_by="order_no", order_by=[ibis.desc("first_buyer_us"), ibis.asc("agent_no")]
    )
    ranked = pairs.mutate(credited=ibis.row_number().over(last_touch) == 0)
    return ranked.filter(ctx.period.covers(ranked.day))


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
    """avg_order_value divides by distinct buyers, which do not add up across agents."""
    if ctx.orders is None:
        return []
    cr = ctx.with_levels(period_conversions(ctx))
    cr = cr.filter(cr.credited)
    return [cr.group_by(level).aggregate(credited_buyers=cr.buyer_no.nunique())]


def derive(c: Components, ctx: Context) -> Values:
    n = c.get("inquiries", 0)
    if ctx.orders is None:
        return {
            "inquiries": n, "converted": None, "conversion_rate": None, "sales_amount": None,
            "orders": None, "avg_order_value": None, "refund_rate": None,
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
    }
