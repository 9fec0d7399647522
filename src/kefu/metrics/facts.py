"""Facts built once per run: messages in threads, conversations, buyer turns, buyer-days.

Every metric is a small aggregation over these relations, and drill-down reads
the same relations, so a number and its evidence cannot disagree.

All times are handled as int64 microseconds: ``*_us`` is the UTC instant (for
durations and order), ``*_lus`` the wall clock in the shop's time zone (for day
boundaries), and ``*_day`` the local day as days since 1970-01-01.  Integer
arithmetic is exact, fast, and behaves the same on DuckDB and Spark.

The rules implemented here are metrics.md's "Building blocks"; docs/metrics.md
says where we had to choose.
"""

from __future__ import annotations

from dataclasses import dataclass

import ibis
import ibis.expr.types as ir

US_PER_S = 1_000_000
US_PER_DAY = 86_400 * US_PER_S

THREAD = ("shop_id", "agent_id", "buyer_id")
# A conversation is a thread plus either its conversation_id (when the export
# has one) or the number of its gap-split segment; conv_tag is "" when split.
CONVERSATION = (*THREAD, "conv_tag", "conv_no")


@dataclass(frozen=True)
class Period:
    """Days first..last inclusive, as local day numbers, plus the UTC bounds."""

    first_day: int
    last_day: int
    start_us: int  # UTC instant of first_day 00:00 local
    end_us: int  # UTC instant of (last_day + 1) 00:00 local

    def covers(self, day: ir.IntegerValue) -> ir.BooleanValue:
        return day.between(self.first_day, self.last_day)


@dataclass
class Facts:
    messages: ir.Table
    """every message with thread order (seq), conversation key, day and flags."""
    conversations: ir.Table
    """one row per conversation: first/last time, first day, has_buyer."""
    turns: ir.Table
    """one row per buyer turn: start, answer, response_s, is_first."""
    buyer_days: ir.Table
    """one row per (thread, day) with a buyer message: first buyer time, replied."""


def build_messages(messages: ir.Table, session_gap_us: int) -> ir.Table:
    """Add thread order, human/buyer flags and conversation keys to raw messages."""
    m = messages.mutate(
        is_buyer=messages.sender == "buyer",
        # auto-replies are treated exactly like bot messages (metrics.md)
        is_human=(messages.sender == "agent") & ~messages.auto_reply.fill_null(False),
        conv_tag=messages.conversation_id.fill_null(""),
    )
    # seq: position in the thread, ties in sent_at keep file order (ordinal)
    by_thread = ibis.window(group_by=list(THREAD), order_by=["sent_us", "ordinal"])
    # Rows without a conversation_id are split by gaps among themselves only.
    # running frames (ROWS ..CURRENT ROW): Ibis windows are unbounded by default
    by_segment = ibis.window(
        group_by=[*THREAD, "conv_tag"], order_by=["sent_us", "ordinal"], rows=(None, 0)
    )
    prev_us = m.sent_us.lag().over(by_segment)
    starts_new = (m.conv_tag == "") & (
        prev_us.isnull() | ((m.sent_us - prev_us) > session_gap_us)
    )
    m = m.mutate(
        seq=ibis.row_number().over(by_thread),
        new_conv=starts_new.cast("int64"),
    )
    return m.mutate(conv_no=m.new_conv.sum().over(by_segment)).drop("new_conv")


def build_conversations(m: ir.Table) -> ir.Table:
    return m.group_by(list(CONVERSATION)).aggregate(
        first_us=m.sent_us.min(),
        last_us=m.sent_us.max(),
        first_day=m.sent_day.min(),
        has_buyer=m.is_buyer.any(),
    )


def build_turns(m: ir.Table, conversations: ir.Table) -> ir.Table:
    """Buyer turns: maximal runs of buyer messages, each answered by the next human message.

    Only buyer and human agent messages take part, so bot, system and
    auto-reply messages neither break a run nor answer it.
    """
    talk = m.filter(m.is_buyer | m.is_human)
    in_conv = ibis.window(group_by=list(CONVERSATION), order_by="seq", rows=(None, 0))
    talk = talk.mutate(prev_buyer=talk.is_buyer.lag().over(in_conv))
    turn_start = talk.is_buyer & (talk.prev_buyer.isnull() | ~talk.prev_buyer)
    talk = talk.mutate(turn_start=turn_start.cast("int64"))
    talk = talk.mutate(turn_no=talk.turn_start.sum().over(in_conv))
    # turn 0 holds agent messages before the conversation's first buyer message
    talk = talk.filter(talk.turn_no > 0)
    turns = talk.group_by([*CONVERSATION, "turn_no"]).aggregate(
        start_us=talk.sent_us.min(where=talk.is_buyer),
        start_day=talk.sent_day.min(where=talk.is_buyer),
        answer_us=talk.sent_us.min(where=talk.is_human),
    )
    turns = turns.mutate(
        answered=turns.answer_us.notnull(),
        response_s=(turns.answer_us - turns.start_us).cast("float64") / US_PER_S,
        is_first=turns.turn_no == 1,
    )
    conv_day = conversations.select(*CONVERSATION, conv_first_day=conversations.first_day)
    return turns.join(conv_day, list(CONVERSATION))


def build_buyer_days(m: ir.Table) -> ir.Table:
    """(thread, day) with a buyer message; replied when a human answers after the first one."""
    days = m.group_by([*THREAD, "sent_day"]).aggregate(
        first_buyer_seq=m.seq.min(where=m.is_buyer),
        first_buyer_us=m.sent_us.min(where=m.is_buyer),
        last_human_seq=m.seq.max(where=m.is_human),
    )
    days = days.filter(days.first_buyer_seq.notnull())
    return days.mutate(
        replied=days.last_human_seq.notnull() & (days.last_human_seq > days.first_buyer_seq),
        day=days.sent_day,
    ).drop("sent_day", "last_human_seq")


def build_facts(messages: ir.Table, session_gap_us: int) -> Facts:
    m = build_messages(messages, session_gap_us)
    conversations = build_conversations(m)
    return Facts(
        messages=m,
        conversations=conversations,
        turns=build_turns(m, conversations),
        buyer_days=build_buyer_days(m),
    )
