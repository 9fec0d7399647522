"""Satisfaction and resolution: ratings, CSAT, praise, repeat contact, first-contact resolution."""

from __future__ import annotations

import ibis.expr.types as ir

from kefu.metrics.context import Components, Context, ratio
from kefu.metrics.result import Values


def repeat_contacts(ctx: Context) -> ir.Table:
    """In-period conversations after which the same buyer came back to the shop in time
    (the conversations fact's ``repeated``, facts.with_repeats)."""
    conv = ctx.facts.conversations
    return conv.filter(conv.has_buyer & ctx.period.covers(conv.first_day) & conv.repeated)


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
