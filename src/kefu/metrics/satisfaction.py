"""Satisfaction and resolution: ratings, CSAT, praise, repeat contact, first-contact resolution."""

from __future__ import annotations

import ibis.expr.types as ir

from kefu.metrics.context import Components, Context, ratio
from kefu.metrics.facts import US_PER_S
from kefu.metrics.result import Values


def repeat_contacts(ctx: Context) -> ir.Table:
    """In-period conversations after which the same buyer came back to the shop in time.

    "Back" means another conversation with a buyer message, with any agent, whose
    first message is strictly after this one's last and at most repeat_window_h later.
    """
    conv = ctx.facts.conversations.filter(ctx.facts.conversations.has_buyer)
    mine = conv.filter(ctx.period.covers(conv.first_day))
    later = conv.select(
        later_shop=conv.shop_no, later_buyer=conv.buyer_no, later_first_us=conv.first_us
    )
    window_us = int(round(ctx.params.repeat_window_h * 3600 * US_PER_S))
    return mine.semi_join(
        later,
        [
            mine.shop_no == later.later_shop,
            mine.buyer_no == later.later_buyer,
            later.later_first_us > mine.last_us,
            later.later_first_us <= mine.last_us + window_us,
        ],
    )


def period_ratings(ctx: Context) -> ir.Table:
    assert ctx.ratings is not None
    return ctx.ratings.filter(ctx.period.covers(ctx.ratings.rated_day))


def components(ctx: Context) -> list[ir.Table]:
    rep = repeat_contacts(ctx)
    parts = [rep.group_by("agent_no").aggregate(repeat_conversations=rep.count())]
    if ctx.ratings is not None:
        r = period_ratings(ctx)
        parts.append(
            r.group_by("agent_no").aggregate(
                ratings=r.count(),
                score_sum=r.score.sum(),
                satisfied=(r.score >= 4).sum().cast("int64"),
                dissatisfied=(r.score <= 2).sum().cast("int64"),
                praised=(r.score == 5).sum().cast("int64"),
            )
        )
    return parts


def derive(c: Components, ctx: Context) -> Values:
    repeat = ratio(c.get("repeat_conversations", 0), c.get("conversations", 0))
    values: Values = {
        "ratings": None, "csat_avg": None, "satisfaction_rate": None, "dissatisfied": None,
        "praise_rate": None, "rating_coverage": None,
        "repeat_contact_rate": repeat,
        "first_contact_resolution": None if repeat is None else 1.0 - repeat,
    }
    if ctx.ratings is not None:
        n, received = c.get("ratings", 0), c.get("received", 0)
        values.update(
            ratings=n,
            csat_avg=ratio(c.get("score_sum", 0), n),
            satisfaction_rate=ratio(c.get("satisfied", 0), n),
            dissatisfied=c.get("dissatisfied", 0),
            praise_rate=ratio(c.get("praised", 0), received),
            rating_coverage=ratio(n, received),
        )
    return values
