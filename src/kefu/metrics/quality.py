"""Quality metrics from the automatic checks (qa.md): politeness, forbidden phrases,
off-platform steering, negative tone, empathy with upset buyers, and qa_score.

kefu.qa judges each message (flag_messages, with each conversation as context);
this module only counts the flags over the same conversations and days as every
other metric. Every verdict counted here meets its floor on kefu's labelled
chats (docs/qa.md, "Measured on real chats"); qa scan's ``negative`` (sentiment
< 0, right on about 1 agent message in 20) is not used.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from kefu.metrics import service
from kefu.metrics.context import Components, Context, ratio
from kefu.metrics.facts import CONVERSATION
from kefu.metrics.result import Values
from kefu.metrics.satisfaction import repeat_contacts

FLAGS = (
    "polite", "greeting", "closing", "forbidden", "offsite", "negative", "upset", "empathy",
    "policy_refusal", "chat_negative",
)

# The default automatic scorecard (docs/metrics.md): items with points, each fed
# by automatic checks; items that need a human reviewer (专业知识) are left out
# until reviewed and the rest rescaled to 100, as for unavailable metrics.
SCORECARD = {"service_norms": 30, "problem_solving": 30, "attitude": 10}
EMPATHY_WINDOW = 2  # an empathetic answer within the next 2 human agent messages


def message_flags(messages: pa.Table) -> pa.Table:
    """One row of qa_* flags per message: checks run on human agent and buyer messages.

    The checked messages are judged in conversation order, so that the chat
    rules see the previous turn (an agent's goodbye right after a negative buyer
    turn is a brush-off); bot and auto-reply messages are left out of the
    context as well as of the checks.
    """
    from kefu.qa import flag_messages

    sender = messages.column("sender")
    auto_reply = pc.fill_null(messages.column("auto_reply"), False)
    human = pc.and_(pc.equal(sender, "agent"), pc.invert(auto_reply))
    buyer = pc.equal(sender, "buyer")
    checked = pc.fill_null(pc.or_(human, buyer), False)
    rows = pc.indices_nonzero(checked)
    key = conversation_keys(messages)
    order = pc.take(rows, pc.sort_indices(
        pa.table({
            "key": pc.take(key, rows),
            "sent_at": pc.take(messages.column("sent_at"), rows),
            "ordinal": pc.take(messages.column("ordinal"), rows),
        }),
        sort_keys=[("key", "ascending"), ("sent_at", "ascending"), ("ordinal", "ascending")],
    ))
    flags = flag_messages(  # Arrow columns: no Python list of every message
        pc.fill_null(pc.take(messages.column("content"), order), ""),
        pc.take(human, order),
        conversation=pc.take(key, order),
    )
    positions = order.to_numpy(zero_copy_only=False)
    columns = {}
    for name in FLAGS:
        column = np.zeros(messages.num_rows, dtype=bool)
        column[positions] = flags.column(name).to_numpy(zero_copy_only=False)
        columns[f"qa_{name}"] = pa.array(column)
    return pa.table(columns)


def conversation_keys(messages: pa.Table) -> pa.Array:
    """The conversation of each message: conversation_id, else its shop and buyer."""
    thread = pc.binary_join_element_wise(
        pc.cast(messages.column("shop_id"), pa.string()),
        pc.cast(messages.column("buyer_id"), pa.string()), "\x1f",
    )
    conversation = pc.cast(messages.column("conversation_id"), pa.string())
    key = pc.coalesce(pc.binary_join_element_wise("c", conversation, "\x1f"),
                      pc.binary_join_element_wise("t", thread, "\x1f"))
    return key.combine_chunks() if isinstance(key, pa.ChunkedArray) else key


def conversation_checks(ctx: Context) -> ir.Table:
    """Per in-period conversation with a buyer message: what the checks found in it."""
    m = ctx.facts.messages
    per_conv = m.group_by(list(CONVERSATION)).aggregate(
        polite=(m.is_human & m.qa_polite).any(),
        greeting=(m.is_human & m.qa_greeting).any(),
        closing=(m.is_human & m.qa_closing).any(),
        violation=(m.is_human & (m.qa_forbidden | m.qa_offsite | m.qa_chat_negative)).any(),
    )
    conv = service.conversations(ctx).join(per_conv, list(CONVERSATION))
    conv = conv.left_join(empathy_conversations(ctx), list(CONVERSATION)).select(
        conv,
        upset=ibis.coalesce(ibis._.upset, False),
        empathic=ibis.coalesce(ibis._.empathic, False),
    )
    turns = ctx.facts.turns
    unanswered = turns.group_by(list(CONVERSATION)).aggregate(all_answered=turns.answered.all())
    conv = conv.left_join(unanswered, list(CONVERSATION)).select(conv, "all_answered")
    repeats = repeat_contacts(ctx).select(*CONVERSATION).mutate(repeated=True)
    conv = conv.left_join(repeats, list(CONVERSATION)).select(
        conv, repeated=ibis.coalesce(ibis._.repeated, False)
    )
    # whole points out of 70 (summed exactly), rescaled to 100 in derive()
    points = (
        10 * conv.greeting.cast("int64") + 10 * conv.polite.cast("int64")
        + 10 * conv.closing.cast("int64")
        + 15 * conv.all_answered.fill_null(True).cast("int64")
        + 15 * (~conv.repeated).cast("int64")
        + 10 * (~conv.violation).cast("int64")
    )
    return conv.mutate(qa_points=points)


def empathy_conversations(ctx: Context) -> ir.Table:
    """Conversations with an upset buyer, and whether empathy followed within 2 human replies."""
    m = ctx.facts.messages
    # human_no: human agent messages so far in the conversation (facts.py)
    upset = m.filter(m.is_buyer & m.qa_upset).select(*CONVERSATION, before=m.human_no)
    empathic = m.filter(m.is_human & m.qa_empathy).select(
        *[m[c].name(f"e_{c}") for c in CONVERSATION], k=m.human_no
    )
    pairs = upset.join(
        empathic,
        [*(upset[c] == empathic[f"e_{c}"] for c in CONVERSATION),
         empathic.k > upset.before, empathic.k <= upset.before + EMPATHY_WINDOW],
    )
    answered = pairs.select(*CONVERSATION).distinct().mutate(empathic=True)
    upset_convs = upset.select(*CONVERSATION).distinct().mutate(upset=True)
    return upset_convs.left_join(answered, list(CONVERSATION)).select(
        upset_convs, empathic=ibis.coalesce(ibis._.empathic, False)
    )


def components(ctx: Context) -> list[ir.Table]:
    conv = conversation_checks(ctx)
    m = ctx.facts.messages
    m = m.filter(m.is_human & ctx.period.covers(m.sent_day))
    return [
        conv.group_by("agent_no").aggregate(
            polite_conversations=conv.polite.sum().cast("int64"),
            upset_conversations=conv.upset.sum().cast("int64"),
            empathic_conversations=conv.empathic.sum().cast("int64"),
            qa_points_sum=conv.qa_points.sum(),
            qa_scored=conv.count(),
        ),
        m.group_by("agent_no").aggregate(
            forbidden_hits=m.qa_forbidden.sum().cast("int64"),
            offsite_hits=m.qa_offsite.sum().cast("int64"),
            negative_messages=m.qa_chat_negative.sum().cast("int64"),
        ),
    ]


def derive(c: Components, ctx: Context) -> Values:
    return {
        "polite_rate": ratio(c.get("polite_conversations", 0), c.get("conversations", 0)),
        "forbidden_hits": c.get("forbidden_hits", 0),
        "offsite_hits": c.get("offsite_hits", 0),
        "negative_emotion_rate": ratio(
            c.get("negative_messages", 0), c.get("human_messages", 0)
        ),
        "empathy_rate": ratio(
            c.get("empathic_conversations", 0), c.get("upset_conversations", 0)
        ),
        "qa_score": ratio(
            None if c.get("qa_points_sum") is None
            else c["qa_points_sum"] * 100 / sum(SCORECARD.values()),
            c.get("qa_scored", 0),
        ),
    }
