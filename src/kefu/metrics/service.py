"""Service metrics: received, replied, conversations, response times, 答问比, online hours."""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from kefu.metrics.context import Components, Context, ratio
from kefu.metrics.facts import US_PER_S
from kefu.metrics.result import Values

US_PER_HOUR = 3600 * US_PER_S


# The relations behind the numbers (kefu evidence shows them row by row).


def buyer_days(ctx: Context) -> ir.Table:
    """Buyer-days of the period: received, replied."""
    days = ctx.facts.buyer_days
    return days.filter(ctx.period.covers(days.day))


def conversations(ctx: Context) -> ir.Table:
    """Conversations with a buyer message that start in the period."""
    conv = ctx.facts.conversations
    return conv.filter(ctx.period.covers(conv.first_day) & conv.has_buyer)


def capped(t: ir.Table, ctx: Context) -> ir.Table:
    """``timed``: the turn counts in response times; response_us/_s capped at turn_cap_s.

    Without a cap the timed turns are the answered ones and nothing changes; with
    one, a turn counts at most the cap, and an unanswered turn counts as the cap
    when ``unanswered_turns`` is ``cap`` (else it stays out, as without a cap).
    """
    cap_s = ctx.params.turn_cap_s
    if cap_s is None:
        return t.mutate(timed=t.answered)
    cap_us = int(round(cap_s * US_PER_S))
    unanswered_counts = ctx.params.unanswered_turns == "cap"
    response_us = ibis.ifelse(
        t.answered, ibis.least(t.response_us, cap_us),
        ibis.literal(cap_us if unanswered_counts else None, "int64"),
    )
    return t.mutate(
        timed=t.answered | unanswered_counts,
        response_us=response_us,
        response_s=response_us.cast("float64") / US_PER_S,
    )


def turns(ctx: Context) -> ir.Table:
    """Buyer turns that start in the period, with on_time (judged before any cap)."""
    t = ctx.facts.turns
    t = t.filter(ctx.period.covers(t.start_day))
    t = t.mutate(on_time=t.answered & (t.response_s <= ctx.params.response_target_s))
    return capped(t, ctx)


def first_turns(ctx: Context) -> ir.Table:
    """Timed (answered, or capped) first buyer turns of the period's conversations."""
    t = ctx.facts.turns
    t = capped(t.filter(t.is_first & ctx.period.covers(t.conv_first_day)), ctx)
    return t.filter(t.timed)


def messages(ctx: Context) -> ir.Table:
    """Messages sent on the period's days."""
    m = ctx.facts.messages
    return m.filter(ctx.period.covers(m.sent_day))


def components(ctx: Context) -> list[ir.Table]:
    days = buyer_days(ctx)
    received = days.group_by("agent_no").aggregate(
        received=days.count(), replied=days.replied.sum().cast("int64")
    )
    conv = conversations(ctx)
    counted = conv.group_by("agent_no").aggregate(conversations=conv.count())
    t = turns(ctx)
    per_turn = t.group_by("agent_no").aggregate(
        turns=t.count(),
        answered_turns=t.answered.sum().cast("int64"),
        timed_turns=t.timed.sum().cast("int64"),
        response_us_sum=t.response_us.sum(where=t.timed),
        on_time_turns=t.on_time.sum().cast("int64"),
    )
    ft = first_turns(ctx)
    first = ft.group_by("agent_no").aggregate(
        first_answered=ft.count(), first_response_us_sum=ft.response_us.sum()
    )
    m = messages(ctx)
    counts = m.group_by("agent_no").aggregate(
        human_messages=m.is_human.sum().cast("int64"),
        buyer_messages=m.is_buyer.sum().cast("int64"),
    )
    parts = [received, counted, per_turn, first, counts]
    if ctx.sessions is not None:
        parts.append(online_time(ctx))
    return parts


ONLINE = ("online", "busy")


def online_intervals(ctx: Context, statuses: tuple[str, ...] = ONLINE) -> ir.Table:
    """Online and busy (or other) sessions clipped to the period (lo, hi in UTC µs)."""
    s = ctx.sessions
    assert s is not None
    p = ctx.period
    s = s.filter(s.status.isin(list(statuses)))
    s = s.mutate(
        lo=ibis.greatest(s.started_us, p.start_us), hi=ibis.least(s.ended_us, p.end_us)
    )
    return s.filter(s.hi > s.lo)


def online_time(ctx: Context, statuses: tuple[str, ...] = ONLINE) -> ir.Table:
    """Microseconds of the union of online/busy (or other) intervals, clipped to the period."""
    s = online_intervals(ctx, statuses)
    # Gaps and islands: an interval starts a new island when it begins after
    # every earlier interval (in start order) has ended.
    earlier = ibis.window(group_by="agent_no", order_by=["lo", "hi"], rows=(None, -1))
    s = s.mutate(reach=s.hi.max().over(earlier))
    s = s.mutate(new_island=(s.reach.isnull() | (s.lo > s.reach)).cast("int64"))
    s = s.mutate(
        island=s.new_island.sum().over(
            ibis.window(group_by="agent_no", order_by=["lo", "hi"], rows=(None, 0))
        )
    )
    islands = s.group_by(["agent_no", "island"]).aggregate(lo=s.lo.min(), hi=s.hi.max())
    return islands.group_by("agent_no").aggregate(online_us=(islands.hi - islands.lo).sum())


def pooled(ctx: Context, level: str) -> list[ir.Table]:
    """Percentiles need the pooled values at every level, not sums of agents."""
    answered = ctx.with_levels(turns(ctx))
    answered = answered.filter(answered.timed)
    first = ctx.with_levels(first_turns(ctx))
    return [
        answered.group_by(level).aggregate(
            avg_response_s_p50=answered.response_s.quantile(0.5),
            avg_response_s_p90=answered.response_s.quantile(0.9),
        ),
        first.group_by(level).aggregate(
            first_response_s_p50=first.response_s.quantile(0.5),
            first_response_s_p90=first.response_s.quantile(0.9),
        ),
    ]


def _seconds(us: int | None) -> float | None:
    return None if us is None else us / US_PER_S


def derive(c: Components, ctx: Context) -> Values:
    answered, turns = c.get("answered_turns", 0), c.get("turns", 0)
    online: float | None = None
    if ctx.sessions is not None:
        online = c.get("online_us", 0) / US_PER_HOUR
    return {
        "received": c.get("received", 0),
        "replied": c.get("replied", 0),
        "reply_rate": ratio(c.get("replied", 0), c.get("received", 0)),
        "conversations": c.get("conversations", 0),
        "first_response_s": ratio(
            _seconds(c.get("first_response_us_sum")), c.get("first_answered", 0)
        ),
        "first_response_s_p50": c.get("first_response_s_p50"),
        "first_response_s_p90": c.get("first_response_s_p90"),
        "avg_response_s": ratio(_seconds(c.get("response_us_sum")), c.get("timed_turns", 0)),
        "avg_response_s_p50": c.get("avg_response_s_p50"),
        "avg_response_s_p90": c.get("avg_response_s_p90"),
        "response_on_time_rate": ratio(c.get("on_time_turns", 0), turns),
        "unanswered_turns": turns - answered,
        "answer_question_ratio": ratio(c.get("human_messages", 0), c.get("buyer_messages", 0)),
        "online_hours": online,
    }
