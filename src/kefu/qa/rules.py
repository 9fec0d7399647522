"""Message-level rules on top of the lexicon hits of one message (docs/qa.md, "Chat rules").

A phrase alone does not say whether an agent is rude: "没办法" after an apology
and a reason is a polite policy refusal, "您前台可以看到" followed by the path is
help, "不好意思，麻烦您提供订单号" is a softened request, not empathy. These
rules look at the rest of the message; they are plain substring tests on the
normalised text, run once per distinct text.
"""

from __future__ import annotations

import re

from kefu.qa.checks import Hit

# An apology right before one of these softens a request ("不好意思，麻烦您…",
# "抱歉打扰一下"): politeness, not empathy.
_REQUEST_WORDS = ("麻烦", "请", "打扰", "问一下", "冒昧", "稍等", "辛苦", "提供")
_APOLOGIES = frozenset({"抱歉", "对不起", "不好意思"})
# Between an apology and the request: punctuation, spaces, particles, 亲.
_FILLERS = frozenset(" ,.!?;:~、…，。！？啊呀哈呢哦亲了的")
# The message gives the buyer something: a reason, a path, a number, an offer.
HELP_MARKERS = (
    "因为", "由于", "所以", "已经", "帮您", "为您", "给您", "点击", "-", "—", ">", "→",
    "[数字", "[链接", "不过", "但是",
)
_DIGITS = frozenset("0123456789")
# A refusal with nothing around it ("没法", "不行。") is a brush-off.
BARE_REFUSALS = frozenset({"没法", "没办法", "没有办法", "我也没办法", "我也没法", "办不到",
                           "做不到", "不行"})
_BARE_LEFTOVER = frozenset(" ,.!?;:~、…，。！？了的吧啊")
# "I don't know" with help or an apology is not a forbidden non-answer.
INABILITY = frozenset({"不知道", "我不知道", "不清楚", "不晓得"})
FAREWELLS = ("再见", "拜拜", "祝您生活愉快", "欢迎下次光临")


def gives_help(norm: str) -> bool:
    """True when the message offers a reason, a path, a number or an alternative."""
    return any(marker in norm for marker in HELP_MARKERS) or not _DIGITS.isdisjoint(norm)


def _softens_request(norm: str, end: int) -> bool:
    i = end
    while i < len(norm) and norm[i] in _FILLERS:
        i += 1
    return norm.startswith(_REQUEST_WORDS, i)


def _is_bare(norm: str, hit: Hit) -> bool:
    """True when nothing but punctuation and particles surrounds the hit."""
    rest = norm[: hit.start] + norm[hit.end :]
    return all(char in _BARE_LEFTOVER for char in rest)


def agent_rules(norm: str, hits: list[Hit]) -> list[Hit]:
    """The hits of an agent message after the message-level rules (same order)."""
    if not hits:
        return hits
    checks = {h.check for h in hits}
    kept = hits
    if "empathy" in checks:
        kept = [
            h for h in hits
            if not (h.check == "empathy" and h.phrase in _APOLOGIES
                    and _softens_request(norm, h.end))
        ]
        checks = {h.check for h in kept}
    if not checks & {"brush_off", "policy_refusal", "forbidden"}:
        return kept
    helped = gives_help(norm)
    apologised = "empathy" in checks
    brush_spans = [(h.start, h.end) for h in kept if h.check == "brush_off"]
    result: list[Hit] = []
    for hit in kept:
        if hit.check == "brush_off" and (helped or apologised):
            continue
        if hit.check == "forbidden" and hit.phrase in INABILITY and (helped or apologised):
            continue
        if hit.check == "policy_refusal":
            if any(s <= hit.start and hit.end <= e for s, e in brush_spans):
                continue
            if hit.phrase in BARE_REFUSALS and _is_bare(norm, hit):
                hit = Hit(hit.start, hit.end, "forbidden", hit.phrase)
        result.append(hit)
    return result


def says_farewell(norm: str) -> bool:
    """True when the message ends the conversation ("祝您生活愉快，再见")."""
    return any(word in norm for word in FAREWELLS)


# "都四天了", "已经[数字x]天了", "好几天了": a wait counted out loud.
_COUNTED_WAIT = re.compile(
    r"(?:都|已经|快)\s*(?:\d+|\[数字x\]|[一二三四五六七八九十两几半好]+)\s*"
    r"(?:个)?(?:天|周|星期|礼拜|月|小时)了?"
)


def buyer_rules(norm: str, hits: list[Hit]) -> list[Hit]:
    """The hits of a buyer message after the message-level rules."""
    kept = list(hits)
    if not any(h.check in ("buyer_upset", "buyer_waiting") for h in kept):
        match = _COUNTED_WAIT.search(norm)
        if match:
            kept.append(Hit(match.start(), match.end(), "buyer_waiting", "counted wait"))
            kept.sort()
    return kept
