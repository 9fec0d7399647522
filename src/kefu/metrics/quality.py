"""Quality metrics from the automatic checks (qa.md): politeness, forbidden phrases,
off-platform steering, negative tone, empathy with upset buyers, and qa_score.

kefu.qa judges each message (flag_messages); this module only counts the flags
over the same conversations and days as every other metric.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import ibis
import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.compute as pc

from kefu.metrics import service
from kefu.metrics.context import Components, Context, ratio
from kefu.metrics.facts import CONVERSATION
from kefu.metrics.result import Values
from kefu.metrics.satisfaction import repeat_contacts

if TYPE_CHECKING:
    from kefu.qa import Lexicons

FLAGS = ("polite", "greeting", "closing", "forbidden", "offsite", "negative", "upset", "empathy")

# The default automatic scorecard (docs/metrics.md): items with points, each fed
# by automatic checks; items that need a human reviewer (专业知识) are left out
# until reviewed and the rest rescaled to 100, as for unavailable metrics.
SCORECARD = {"service_norms": 30, "problem_solving": 30, "attitude": 10}
EMPATHY_WINDOW = 2  # an empathetic answer within the next 2 human agent messages


def message_flags(messages: pa.Table, lexicons: Lexicons | None = None) -> pa.Table:
    """One row of qa_* flags per message: checks run on human agent and buyer messages."""
    from kefu.qa import flag_messages

    sender = messages.column("sender")
    human = pc.and_(pc.equal(sender, "agent"), pc.invert(messages.column("auto_reply")))
    buyer = pc.equal(sender, "buyer")
    checked = pc.or_(human, buyer)
    texts = pc.if_else(checked, pc.fill_null(messages.column("content"), ""), "")
    flags = flag_messages(texts, human, lexicons)  # Arrow columns: no Python list of every message
    return pa.table(
        {f"qa_{name}": pc.and_(flags.column(name), checked) for name in FLAGS}
    )


def conversation_checks(ctx: Context) -> ir.Table:
    """Per in-period conversation with a buyer message: what the checks found in it."""
    m = ctx.facts.messages
    per_conv = m.group_by(list(CONVERSATION)).aggregate(
        polite=(m.is_human & m.qa_polite).any(),
        greeting=(m.is_human & m.qa_greeting).any(),
        closing=(m.is_human & m.qa_closing).any(),
        violation=(m.is_human & (m.qa_forbidden | m.qa_offsite | m.qa_negative)).any(),
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
            negative_messages=m.qa_negative.sum().cast("int64"),
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
