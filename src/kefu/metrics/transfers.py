"""Transfers (转接): a buyer handed from one agent to another.

A transfer is recognised in the buyer's stream of messages in one shop (every
sender, in time order, across agents):

- a new block with another agent: a message of agent B right after one of
  agent A, at most ``session_gap_min`` later (A → B);
- a ``system`` message naming a transfer (``transfer_markers``, 转接/转交 by
  default) that is not followed by such a block: A → (unknown), counted as
  out only.

A transfer belongs to the period of the day it happens.  Which agent a sale
of a transferred buyer is credited to is the ``transfer_credit`` option
(kefu.metrics.sales).
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from kefu.metrics.context import Components, Context
from kefu.metrics.result import Values


def events(ctx: Context) -> ir.Table:
    """Every transfer: a fact, built once per run (facts.build_facts)."""
    return ctx.facts.transfers


def build_events(m: ir.Table, gap_us: int) -> ir.Table:
    """from_no, to_no (null when unknown), at_us, day, shop_no, buyer_no of every transfer,
    from the messages fact (one window pass over all messages)."""
    stream = ibis.window(group_by=["shop_no", "buyer_no"],
                         order_by=["sent_us", "agent_no", "seq"])
    mark = m.is_transfer_mark if "is_transfer_mark" in m.columns else ibis.literal(False)
    if "multi_agent" in m.columns:
        # a buyer who only ever talks to one agent has no handover, and her marks
        # are transfers to nobody whatever her other rows are (threads.py)
        m = m.filter(m.multi_agent | mark)
        mark = m.is_transfer_mark if "is_transfer_mark" in m.columns else ibis.literal(False)
    m = m.mutate(
        prev_agent=m.agent_no.lag().over(stream), prev_us=m.sent_us.lag().over(stream),
        next_agent=m.agent_no.lead().over(stream), next_us=m.sent_us.lead().over(stream),
        mark=mark,
    )
    handover = (m.prev_agent.notnull() & (m.prev_agent != m.agent_no)
                & (m.sent_us - m.prev_us <= gap_us))
    handed_next = (m.next_agent.notnull() & (m.next_agent != m.agent_no)
                   & (m.next_us - m.sent_us <= gap_us))
    blocks = m.filter(handover).select(
        from_no=m.prev_agent, to_no=m.agent_no.cast("int32"), at_us=m.sent_us,
        day=m.sent_day, shop_no=m.shop_no, buyer_no=m.buyer_no,
    )
    marked = m.filter(m.mark & ~handed_next.fill_null(False)).select(
        from_no=m.agent_no, to_no=ibis.null("int32"), at_us=m.sent_us,
        day=m.sent_day, shop_no=m.shop_no, buyer_no=m.buyer_no,
    )
    return blocks.union(marked)


def _period(ctx: Context) -> ir.Table:
    e = events(ctx)
    return e.filter(ctx.period.covers(e.day))


def transfers_out(ctx: Context) -> ir.Table:
    """The period's transfers, one row per transfer, keyed by the agent handing over."""
    e = _period(ctx)
    return e.select("at_us", "day", "shop_no", "buyer_no", agent_no=e.from_no,
                    direction=ibis.literal("out"), other_agent_no=e.to_no)


def transfers_in(ctx: Context) -> ir.Table:
    """The period's transfers to a known agent, keyed by the agent taking over."""
    e = _period(ctx)
    e = e.filter(e.to_no.notnull())
    return e.select("at_us", "day", "shop_no", "buyer_no", agent_no=e.to_no,
                    direction=ibis.literal("in"), other_agent_no=e.from_no)


def both(ctx: Context) -> ir.Table:
    """Outs and ins together: the evidence of transfers_in and transfers_out."""
    return transfers_out(ctx).union(transfers_in(ctx))


def components(ctx: Context) -> list[ir.Table]:
    out, into = transfers_out(ctx), transfers_in(ctx)
    return [
        out.group_by("agent_no").aggregate(transfers_out=out.count()),
        into.group_by("agent_no").aggregate(transfers_in=into.count()),
    ]


def derive(c: Components, ctx: Context) -> Values:
    return {
        "transfers_out": c.get("transfers_out", 0),
        "transfers_in": c.get("transfers_in", 0),
    }
