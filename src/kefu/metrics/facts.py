"""Facts built once per run: messages in threads, conversations, buyer turns, buyer-days.

Every metric is a small aggregation over these relations, and drill-down reads
the same relations, so a number and its evidence cannot disagree.

Inputs are prepared by engine.py as integers, because sorting and hashing
integers is several times cheaper than strings on millions of messages:
- ``agent_no``, ``shop_no``, ``buyer_no``: dictionary codes (agent codes follow
  the code-point order of agent_id, so comparing codes compares ids),
- ``thread``: one int64 per (shop, agent, buyer), ``conv_tag``: the code of
  conversation_id + 1, or 0 where the export has none,
- ``seq``: an integer that orders each thread by (sent_at, file order), so ties
  keep file order, and ``prev_us``: the time of the thread's previous message
  without conversation_id (see add_thread_order),
- ``*_us``: UTC instants in microseconds (durations, order), ``*_lus`` the
  shop's wall clock in microseconds and ``*_day`` the local day number since
  1970-01-01 (day boundaries).  Integer arithmetic is exact on DuckDB and Spark.

The rules are metrics.md's "Building blocks"; docs/metrics.md says where we chose.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir

from kefu.metrics.flag_bits import flag, has_flags

US_PER_S = 1_000_000
US_PER_DAY = 86_400 * US_PER_S

SEGMENT = ("thread", "conv_tag")
CONVERSATION = ("thread", "conv_tag", "conv_no")


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
    """every message with its conversation and the next human reply after it."""
    conversations: ir.Table
    """one row per conversation: first/last time, first day, has_buyer."""
    turns: ir.Table
    """one row per buyer turn: start, answer, response_s, is_first."""
    buyer_days: ir.Table
    """one row per (thread, day) with a buyer message: first buyer time, replied."""
    transfers: ir.Table
    """one row per transfer between agents (kefu.metrics.transfers)."""


def add_thread_order(messages: ir.Table) -> ir.Table:
    """Add ``seq`` and ``prev_us`` with windows (engines that cannot precompute them).

    seq orders a thread by (sent_at, file order); prev_us is the time of the
    previous message without conversation_id in the same thread (gap splitting
    only applies to those).  engine.py computes the same two columns with one
    vectorised sort on DuckDB, where that is much cheaper.
    """
    thread_order = ibis.window(group_by="thread", order_by=["sent_us", "ordinal"])
    m = messages.mutate(seq=ibis.row_number().over(thread_order))
    in_segment = ibis.window(group_by=list(SEGMENT), order_by="seq")
    prev = m.sent_us.lag().over(in_segment)
    return m.mutate(prev_us=ibis.ifelse(m.conv_tag == 0, prev, ibis.null("int64")))


def build_messages(messages: ir.Table, session_gap_us: int) -> ir.Table:
    """Number conversations and count human messages along each thread, in one window pass.

    A message without conversation_id starts a new conversation when the gap to
    the previous such message of its thread exceeds session_gap (exactly the gap
    stays one); rows with a conversation_id are never split (conv_tag names them).
    human_no counts human agent messages so far in the segment, which lets
    turns and their answers be matched by equality instead of more windows.
    """
    m = messages.mutate(
        new_conv=(messages.conv_tag == 0)
        & (messages.prev_us.isnull() | ((messages.sent_us - messages.prev_us) > session_gap_us))
    )
    # running frame: Ibis windows are unbounded on both sides by default
    so_far = ibis.window(group_by=list(SEGMENT), order_by="seq", rows=(None, 0))
    return m.mutate(
        conv_no=m.new_conv.cast("int64").sum().over(so_far),
        human_no=m.is_human.cast("int64").sum().over(so_far),
    ).drop("prev_us", "new_conv")


def build_conversations(m: ir.Table, repeat_window_us: int | None = None) -> ir.Table:
    """One row per conversation; with the checks' flags, what they found in it
    (kefu.metrics.quality), and with a repeat window, whether the buyer came back."""
    checks = {}
    if has_flags(m):
        human = m.is_human
        violation = flag(m, "forbidden") | flag(m, "offsite") | flag(m, "chat_negative")
        checks = {
            "qa_polite": (human & flag(m, "polite")).any(),
            "qa_greeting": (human & flag(m, "greeting")).any(),
            "qa_closing": (human & flag(m, "closing")).any(),
            "qa_violation": (human & violation).any(),
        }
    conv = m.group_by(list(CONVERSATION)).aggregate(
        agent_no=m.agent_no.min(),
        shop_no=m.shop_no.min(),
        buyer_no=m.buyer_no.min(),
        first_us=m.sent_us.min(),
        last_us=m.sent_us.max(),
        first_day=m.sent_day.min(),
        has_buyer=m.is_buyer.any(),
        first_buyer_seq=m.seq.min(where=m.is_buyer),
        **checks,
    )
    return conv if repeat_window_us is None else with_repeats(conv, repeat_window_us)


def with_repeats(conv: ir.Table, window_us: int) -> ir.Table:
    """``repeated``: the buyer came back to the shop in time (metrics.md, repeat contact).

    "Back" means another conversation with a buyer message, with any agent, whose
    first message is strictly after this one's last and at most the window later.
    It does not depend on the period, so it is a fact, joined once.
    """
    buyers = conv.filter(conv.has_buyer)
    later = buyers.select(
        later_shop=buyers.shop_no, later_buyer=buyers.buyer_no, later_first_us=buyers.first_us
    )
    back = buyers.semi_join(later, [
        buyers.shop_no == later.later_shop,
        buyers.buyer_no == later.later_buyer,
        later.later_first_us > buyers.last_us,
        later.later_first_us <= buyers.last_us + window_us,
    ]).select(*CONVERSATION).mutate(repeated=True)
    return conv.left_join(back, list(CONVERSATION)).select(
        conv, repeated=ibis.coalesce(ibis._.repeated, False))


def turn_rows(m: ir.Table) -> ir.Table:
    """Buyer turns: maximal runs of buyer messages, each answered by the next human message.

    Buyer messages of one run have seen the same number of human messages
    (human_no), so a turn is a group by (conversation, human_no); its answer is
    the conversation's human message number human_no + 1, if there is one.
    Bot, system and auto-reply messages never enter: they neither break a run
    nor answer it.  (On DuckDB, kefu.metrics.threads.buyer_turns computes the
    same rows from the thread order.)
    """
    b = m.filter(m.is_buyer)
    # with business hours (kefu.metrics.clock) the clock is the business time sent_bus
    clock = "sent_bus" if "sent_bus" in m.columns else "sent_us"
    turns = b.group_by([*CONVERSATION, "human_no"]).aggregate(
        agent_no=b.agent_no.min(),
        start_seq=b.seq.min(),
        start_us=b.sent_us.min(),
        start_day=b.sent_day.min(),
        start_clock=b[clock].min(),
    )
    h = m.filter(m.is_human)
    answers = h.select(
        a_thread=h.thread, a_tag=h.conv_tag, a_conv=h.conv_no, a_no=h.human_no,
        answer_us=h.sent_us, answer_clock=h[clock],
    )
    turns = turns.left_join(
        answers,
        [
            turns.thread == answers.a_thread,
            turns.conv_tag == answers.a_tag,
            turns.conv_no == answers.a_conv,
            turns.human_no + 1 == answers.a_no,
        ],
    )
    return turns.select(*CONVERSATION, "human_no", "agent_no", "start_seq", "start_us",
                        "start_day", "start_clock", "answer_us", "answer_clock")


def build_turns(
    m: ir.Table, conversations: ir.Table, rows: ir.Table | None = None
) -> ir.Table:
    """One row per buyer turn (turn_rows, or ``rows`` when computed already) with its
    conversation's first day, response time and whether it is the first turn."""
    turns = turn_rows(m) if rows is None else rows
    conv = conversations.select(
        *CONVERSATION, conv_first_day=conversations.first_day,
        first_buyer_seq=conversations.first_buyer_seq,
    )
    turns = turns.join(conv, list(CONVERSATION))
    return turns.select(
        *CONVERSATION, "human_no", "agent_no", "start_seq", "start_us", "start_day",
        "answer_us", "conv_first_day",
        answered=turns.answer_us.notnull(),
        # sums use whole microseconds: integer sums are exact and do not depend on
        # the order a parallel engine adds them in (float sums do, in the last digits)
        response_us=turns.answer_clock - turns.start_clock,
        response_s=(turns.answer_clock - turns.start_clock).cast("float64") / US_PER_S,
        is_first=turns.start_seq == turns.first_buyer_seq,
    )


def build_buyer_days(m: ir.Table) -> ir.Table:
    """(thread, day) with a buyer message; replied when a human answers after the first one."""
    days = m.group_by(["thread", "sent_day"]).aggregate(
        agent_no=m.agent_no.min(),
        shop_no=m.shop_no.min(),
        buyer_no=m.buyer_no.min(),
        first_buyer_seq=m.seq.min(where=m.is_buyer),
        first_buyer_us=m.sent_us.min(where=m.is_buyer),
        last_human_seq=m.seq.max(where=m.is_human),
    )
    days = days.filter(days.first_buyer_seq.notnull())
    return days.select(
        "thread", "agent_no", "shop_no", "buyer_no", "first_buyer_us",
        day=days.sent_day,
        replied=days.last_human_seq.notnull() & (days.last_human_seq > days.first_buyer_seq),
    )


def build_facts(
    messages: ir.Table,
    session_gap_us: int,
    keep: Callable[[str, ir.Table], ir.Table] = lambda name, table: table,
    repeat_window_us: int = 72 * 3600 * US_PER_S,
    turns_of: Callable[[ir.Table], ir.Table | None] = lambda m: None,
) -> Facts:
    """All facts; ``keep(name, table)`` may materialise each one before the next reads it.

    Messages that already carry conv_no and human_no (kefu.metrics.threads, on
    DuckDB) are the messages fact as they are (kept as they come).  ``turns_of``
    may give turn_rows of the kept messages fact computed another way (None: the
    Ibis definition).
    """
    from kefu.metrics.transfers import build_events

    if "conv_no" in messages.columns:
        m = keep("f_messages", messages)
    else:
        if "seq" not in messages.columns:
            messages = add_thread_order(messages)
        m = keep("f_messages", build_messages(messages, session_gap_us))
    conversations = keep("f_conversations", build_conversations(m, repeat_window_us))
    return Facts(
        messages=m,
        conversations=conversations,
        turns=keep("f_turns", build_turns(m, conversations, turns_of(m))),
        buyer_days=keep("f_buyer_days", build_buyer_days(m)),
        transfers=keep("f_transfers", build_events(m, session_gap_us)),
    )
