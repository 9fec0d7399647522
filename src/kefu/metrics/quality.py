"""Quality metrics from the automatic checks (qa.md): politeness, forbidden phrases,
off-platform steering, negative tone, empathy with upset buyers, and qa_score.

kefu.qa judges each message (flag_messages, with each conversation as context);
this module only counts the flags over the same conversations and days as every
other metric. A verdict is counted only when it meets its floor on the fresh
test batch of kefu's labelled chats (kefu.qa.floors, docs/qa.md "What each
quality metric uses now"); a metric whose verdict does not is unavailable (null),
and qa_score leaves out the scorecard item it would feed. qa scan's
``negative`` (sentiment < 0, right on about 1 agent message in 20) is not used.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, overload

import ibis
import ibis.expr.types as ir
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from kefu.config import MetricParams, split_list
from kefu.metrics import service
from kefu.metrics.context import Components, Context, ratio
from kefu.metrics.facts import CONVERSATION
from kefu.metrics.flag_bits import QA_FLAGS, flag
from kefu.metrics.result import Values

if TYPE_CHECKING:
    from kefu.qa import Lexicons

FLAGS = QA_FLAGS

# The default automatic scorecard (docs/metrics.md): items with points, each fed
# by automatic checks; items that need a human reviewer (专业知识) are left out
# until reviewed and the rest rescaled to 100, as for unavailable metrics.
SCORECARD = {"service_norms": 30, "problem_solving": 30, "attitude": 10}
EMPATHY_WINDOW = 2  # an empathetic answer within the next 2 human agent messages
# The verdicts behind the 服务态度 item (no forbidden, offsite or negative message);
# offsite has no floor in kefu issue 12 (it never occurs in the labelled chats).
ATTITUDE_VERDICTS = ("forbidden", "agent_chat_negative")


def scorecard(params: MetricParams) -> dict[str, int]:
    """The scorecard items in use: an item whose verdicts miss their floors (and are
    not trusted by the shop) is left out."""
    from kefu.qa.floors import usable

    return {
        item: points for item, points in SCORECARD.items()
        if item != "attitude" or usable(*ATTITUDE_VERDICTS, trusted=trusted(params))
    }


def trusted(params: MetricParams) -> frozenset[str]:
    """The verdicts the shop counts despite kefu's floors (the trust_verdicts option)."""
    from kefu.qa.floors import trusted_verdicts

    return trusted_verdicts(split_list(params.trust_verdicts))


def message_flags(messages: pa.Table, lexicons: Lexicons | None = None) -> pa.Table:
    """One row of qa_* flags per message: checks run on human agent and buyer messages.

    Each distinct text is judged once (what kefu.analysis.check_cache stores);
    then with_context applies the one rule that needs the conversation.
    """
    from kefu.qa import flag_messages

    human, checked = checked_roles(messages)
    texts = pc.if_else(checked, pc.fill_null(messages.column("content"), ""), "")
    flags = flag_messages(texts, human, lexicons)  # Arrow columns: no Python list of every message
    table = pa.table({f"qa_{name}": pc.and_(flags.column(name), checked) for name in FLAGS})
    return with_context(table, messages)


def checked_roles(messages: pa.Table) -> tuple[pa.ChunkedArray, pa.ChunkedArray]:
    """(human agent, human agent or buyer) per message: auto-replies and bots are not checked."""
    sender = messages.column("sender")
    auto_reply = pc.fill_null(messages.column("auto_reply"), False)
    human = pc.fill_null(pc.and_(pc.equal(sender, "agent"), pc.invert(auto_reply)), False)
    checked = pc.fill_null(pc.or_(human, pc.equal(sender, "buyer")), False)
    return human, checked


def with_context(flags: pa.Table, messages: pa.Table) -> pa.Table:
    """The qa_* flags with the conversation rule applied (docs/qa.md, Chat rules).

    The checked messages are put in conversation order (conversation_id, else
    shop and buyer; then sent_at and file order), bots and auto-replies left
    out, and an agent goodbye right after a negative buyer turn becomes a
    brush-off: forbidden, brush_off and chat_negative. Keys and order are integers
    (one numpy sort), and only the few candidate rows have their text read.
    """
    from kefu.qa.api import CONTEXT_FLAGS

    positions = _marked_in_context(flags, messages)
    if len(positions) == 0:
        return flags
    for name in CONTEXT_FLAGS:
        column = _numpy(flags.column(f"qa_{name}")).astype(bool).copy()
        column[positions] = True
        flags = flags.set_column(
            flags.column_names.index(f"qa_{name}"), f"qa_{name}", pa.array(column)
        )
    return flags


def _marked_in_context(flags: pa.Table, messages: pa.Table) -> np.ndarray[Any, Any]:
    """Rows (of ``messages``) the conversation rule marks.

    Only conversations with a negative buyer message can have a mark, so only
    their rows are put in order: the rows of the buyers, and of the
    conversation_ids, that have one (every row of such a conversation is among
    them, whichever of the two keys it has).
    """
    from kefu.qa.api import farewells_after_negative

    human, checked = checked_roles(messages)
    negative_buyer = pc.and_(flags.column("qa_chat_negative"), pc.equal(messages.column("sender"),
                                                                        "buyer"))
    if not pc.any(negative_buyer).as_py():
        return np.zeros(0, dtype=np.int64)
    involved = pc.fill_null(pc.is_in(messages.column("buyer_id"), value_set=pc.unique(
        pc.filter(messages.column("buyer_id"), negative_buyer))), False)
    conversation = messages.column("conversation_id")
    tagged = pc.drop_null(pc.unique(pc.filter(conversation, negative_buyer)))
    if len(tagged):
        involved = pc.or_(involved, pc.fill_null(pc.is_in(conversation, value_set=tagged), False))
    rows = _numpy(pc.indices_nonzero(pc.and_(involved, checked))).astype(np.int64)
    subset = messages.select(["conversation_id", "shop_id", "buyer_id"]).take(rows)
    key = conversation_keys(subset)
    sent = _numpy(pc.cast(messages.column("sent_at"), pa.int64()))[rows]
    ordinal = _numpy(messages.column("ordinal"))[rows]
    sort = np.lexsort((ordinal, sent, key))
    order = rows[sort]
    in_order = key[sort]
    # rows are in conversation order now: pairs are neighbours of one conversation
    after = np.flatnonzero(in_order[1:] == in_order[:-1]) + 1
    marked = farewells_after_negative(
        _InOrder(messages.column("content"), order),
        _numpy(human).astype(bool)[order],
        _numpy(flags.column("qa_chat_negative")).astype(bool)[order], after - 1, after,
    )
    positions: np.ndarray[Any, Any] = order[marked]
    return positions


def conversation_keys(messages: pa.Table) -> np.ndarray[Any, Any]:
    """The conversation of each message as an integer: conversation_id, else shop and buyer.

    Codes of conversation_id come first (0 … n-1); a row without one gets
    n + shop code × buyers + buyer code, so the two kinds never collide.
    """
    def codes(name: str) -> tuple[np.ndarray[Any, Any], int]:
        encoded = messages.column(name).combine_chunks().dictionary_encode()
        values = _numpy(pc.fill_null(encoded.indices, -1)).astype(np.int64)
        return values, len(encoded.dictionary)

    conversation, n_conversations = codes("conversation_id")
    shop, _ = codes("shop_id")
    buyer, n_buyers = codes("buyer_id")
    thread = n_conversations + (shop + 1) * (n_buyers + 1) + buyer + 1
    return np.where(conversation >= 0, conversation, thread)


class _InOrder(Sequence[str | None]):
    """A text column read in another order, one row at a time (only candidates are read)."""

    def __init__(self, texts: pa.ChunkedArray | pa.Array, order: np.ndarray[Any, Any]) -> None:
        self.texts, self.order = texts, order

    def __len__(self) -> int:
        return len(self.order)

    @overload
    def __getitem__(self, index: int) -> str | None: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[str | None]: ...

    def __getitem__(self, index: int | slice) -> str | None | Sequence[str | None]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        value: str | None = self.texts[int(self.order[index])].as_py()
        return value


def _numpy(values: pa.Array | pa.ChunkedArray) -> np.ndarray[Any, Any]:
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    return np.asarray(values.to_numpy(zero_copy_only=False))


def conversation_checks(ctx: Context) -> ir.Table:
    """Per in-period conversation with a buyer message: what the checks found in it."""
    # what the checks found per conversation is part of the conversations fact
    c = service.conversations(ctx)
    conv = c.mutate(polite=c.qa_polite, greeting=c.qa_greeting, closing=c.qa_closing,
                    violation=c.qa_violation)
    conv = conv.left_join(empathy_conversations(ctx), list(CONVERSATION)).select(
        conv,
        upset=ibis.coalesce(ibis._.upset, False),
        empathic=ibis.coalesce(ibis._.empathic, False),
    )
    turns = ctx.facts.turns
    unanswered = turns.group_by(list(CONVERSATION)).aggregate(all_answered=turns.answered.all())
    conv = conv.left_join(unanswered, list(CONVERSATION)).select(conv, "all_answered")
    # whole points out of the scorecard in use (summed exactly), rescaled to 100 in derive()
    points = (
        10 * conv.greeting.cast("int64") + 10 * conv.polite.cast("int64")
        + 10 * conv.closing.cast("int64")
        + 15 * conv.all_answered.fill_null(True).cast("int64")
        + 15 * (~conv.repeated).cast("int64")
    )
    if "attitude" in scorecard(ctx.params):
        points = points + 10 * (~conv.violation).cast("int64")
    return conv.mutate(qa_points=points)


def empathy_conversations(ctx: Context) -> ir.Table:
    """Conversations with an upset buyer, and whether empathy followed within 2 human replies."""
    m = ctx.facts.messages
    # human_no: human agent messages so far in the conversation (facts.py)
    upset = m.filter(m.is_buyer & flag(m, "upset")).select(*CONVERSATION, before=m.human_no)
    empathic = m.filter(m.is_human & flag(m, "empathy")).select(
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
            forbidden_hits=flag(m, "forbidden").sum().cast("int64"),
            offsite_hits=flag(m, "offsite").sum().cast("int64"),
            policy_refusals=flag(m, "policy_refusal").sum().cast("int64"),
            negative_messages=flag(m, "chat_negative").sum().cast("int64"),
        ),
    ]


def derive(c: Components, ctx: Context) -> Values:
    from kefu.qa.floors import usable

    shop_trusts = trusted(ctx.params)

    def when(verdicts: tuple[str, ...], value: float | int | None) -> float | int | None:
        # a verdict under its floor gives no value, unless the shop trusts it
        return value if usable(*verdicts, trusted=shop_trusts) else None

    return {
        "polite_rate": when(
            ("polite",), ratio(c.get("polite_conversations", 0), c.get("conversations", 0))
        ),
        "forbidden_hits": when(("forbidden",), c.get("forbidden_hits", 0)),
        "offsite_hits": c.get("offsite_hits", 0),
        "policy_refusals": c.get("policy_refusals", 0),
        "negative_emotion_rate": when(
            ("agent_chat_negative",),
            ratio(c.get("negative_messages", 0), c.get("human_messages", 0)),
        ),
        "empathy_rate": when(
            ("upset", "empathy"),
            ratio(c.get("empathic_conversations", 0), c.get("upset_conversations", 0)),
        ),
        "qa_score": ratio(
            None if c.get("qa_points_sum") is None
            else c["qa_points_sum"] * 100 / sum(scorecard(ctx.params).values()),
            c.get("qa_scored", 0),
        ),
    }
