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
INABILITY = frozenset({
    "不知道", "我不知道", "不清楚", "不晓得",
    # softened forms are the same non-answer ("妹纸不是很清楚的呢")
    "不是很清楚", "不太清楚", "不大清楚", "不是太清楚", "不是特别清楚", "不太了解", "不是很了解",
})
# A brush-off phrase about doing it oneself ("您可以自己申请…") is an explanation,
# not a brush-off, when it speaks of next time or of a condition.
_NEXT_TIME = ("以后", "后续", "下次", "今后", "如果")
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
    next_time = "自己" in norm and any(word in norm for word in _NEXT_TIME)
    apologised = "empathy" in checks
    brush_spans = [(h.start, h.end) for h in kept if h.check == "brush_off"]
    result: list[Hit] = []
    for hit in kept:
        if hit.check == "brush_off" and (helped or apologised or next_time):
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


# An agent message that answers: says what can be done ("可以让顾客签收后申请售后"),
# not the canned offer "还可以帮到您的吗".
_ANSWERS = re.compile(r"可以(?!帮|为您|效劳)")


def says_farewell(norm: str) -> bool:
    """True when the message ends the conversation ("祝您生活愉快，再见")."""
    return any(word in norm for word in FAREWELLS)


def closes_without_answer(norm: str) -> bool:
    """True when the message says goodbye and gives no answer: no help (gives_help)
    and nothing said about what can be done. After a complaint, a brush-off."""
    return says_farewell(norm) and not gives_help(norm) and not _ANSWERS.search(norm)


_NUMBER = r"(?:\d+|\[数字x\]|[一二三四五六七八九十两几半]+|好几)"
_SPAN = r"(?:个)?(?:天|周|星期|礼拜|月|小时)"
# A wait counted out loud: "都四天了", "已经[数字x]天了", "今天都[数字x]号了",
# "连续反馈[数字x]天", an impatient "要审核到啥时候", "到现在也没"; and, after
# a number, "[数字x]天了还没发货", "两天没更新", "要好几天才到". Split in two
# so that each pattern starts with a literal (a leading class is slow to scan).
_COUNTED_WAIT = re.compile(
    rf"(?:都|已经|快)\s*{_NUMBER}\s*{_SPAN}"
    rf"|都\s*{_NUMBER}\s*号了"
    rf"|连续\S{{0,4}}{_NUMBER}\s*(?:天|次)"
    r"|要\S{0,6}到(?:啥|什么)时候"
    r"|到现在\S{0,4}(?:还|都|也)?没"
)
_COUNTED_BEFORE = re.compile(rf"{_NUMBER}{_SPAN}(?:了?(?:还|都|也)?没(?!时间|空|事)|才)")
# A rhetorical "不是…吗" about what was promised or shown ("不是说今天送达嘛",
# "页面不是说可以退吗", "不是[数字x]个吗"); A-not-A "是不是" is a question.
_NOT_AS_PROMISED = re.compile(
    r"(?<!是)不是(?:说|显示|已经|应该|可以|你们|明天|今天|免费|\d|\[数字x\])"
    r"[^,.!?;:。 ]{0,12}[吗嘛么]"
)
# The status says done or delivered, the buyer has nothing: "显示签收了，没收到".
_SHOWN_DONE = re.compile(r"(?:显示|怎么就|就)[^,.!?;:。 ]{0,8}(?:签收|完成|妥投|收货|确认)")
_NOT_RECEIVED = ("没收到", "没有收到", "未收到")
# A request that states a wait as its premise ("还没派送，能改吗", "如果现在退了…"):
# a question, not a complaint, so the waiting phrase does not count.
_PREMISE = re.compile(r"如果|要是|能不能|可不可以|(?:能|可以)[^,.!?;:。 ]{0,8}(?:吗|么|\?)")
# An exclamation that is not a courtesy ("不要了!", "鼠标没到!" but not "谢谢!").
_COURTESY = (
    "谢", "蟹蟹", "感恩", "3q", "thank", "好的", "好吧", "好了", "好滴", "你好", "您好", "再见",
    "是的", "没有了", "没了", "没事", "客气", "辛苦", "麻烦", "祝", "不好意思", "抱歉", "拜拜",
    "哈哈", "知道了", "明白", "收到了",
)  # fmt: skip
_CHEERFUL_ENDINGS = ("吧", "啦", "哟", "哈")
_EXCLAIM_BREAKS = frozenset(",.!?;:~、…。 ")


def _exclamation(norm: str) -> tuple[int, int] | None:
    """The span of the first exclamation clause that is not a courtesy, if any."""
    at = norm.find("!")
    while at != -1:
        start = at
        while start > 0 and norm[start - 1] not in _EXCLAIM_BREAKS:
            start -= 1
        clause = norm[start:at]
        if (
            len(clause) >= 2
            and not clause.endswith(_CHEERFUL_ENDINGS)
            and not any(word in clause and "不" + word not in clause for word in _COURTESY)
        ):
            return start, at + 1
        at = norm.find("!", at + 1)
    return None


def _premise_only(norm: str, hits: list[Hit]) -> list[Hit]:
    """Drop waiting phrases that are the premise of a question ("还没发货，可以退吗")."""
    if not any(h.check == "buyer_waiting" for h in hits) or not _PREMISE.search(norm):
        return hits
    return [h for h in hits if h.check != "buyer_waiting"]


_BUYER_UPSET_CHECKS = frozenset({"buyer_upset", "buyer_waiting", "buyer_urgent"})
# Third round (docs/qa.md): constructions of complaint, not sentences.
# The shop or its service judged as a kind: "这样的商家", "这种态度", "这样的物流".
_KIND_JUDGED = re.compile(r"(?:这样|这种|这类)的?(?:商家|卖家|店|服务|态度|客服|质量|物流)")
# Made to bear it, asked rhetorically: "也要我们来给他承担吗", "还让我选干嘛",
# "又要我每个小时追你一次吗" (也/还/又/都 + 要/得/让 + 我 … 吗/?).
_MADE_TO_BEAR = re.compile(
    r"(?:也|还|又|都)(?:要|得|让)我们?[^,.!?;:。 ]{0,14}(?:吗|嘛|干嘛|(?<!什)么|\?)"
)
# Doubt about what was promised: "确定可以吗", "你确定没有吗" (not "能确定价格吗",
# which asks whether it can be known).
_DOUBT = re.compile(r"(?<![能以否])确定[^,.!?;:。 ]{0,6}(?:吗|嘛|(?<!什)么)")
# Others were served, the buyer was not: "其它人的早就收到了", "别人当天都到了".
_OTHERS_SERVED = re.compile(
    r"(?:别人|其他人|其它人|人家)的?[^,.!?;:。 ]{0,8}(?:都|早就|早)(?:收到|到了|到货|发货|发了|有)"
)
# The story changed: "本来说是[数字x]号送到，现在又说…", "之前说…然后又说…",
# or an expectation let down ("我以为…，结果…");
# and the buyer had to say it again and again: "说了三次".
_STORY_CHANGED = re.compile(
    rf"说[^.!?。]{{1,25}}?(?:又说|然后说|现在说|又改|又变)|说了\s*{_NUMBER}\s*(?:次|遍)"
    # an expectation let down: "我以为今天能送到，结果显示明天才送到"
    r"|以为[^.!?。]{0,15}(?:结果|却|居然|竟然|没想到)"
)
# Calling for the agent again and again: "在吗 在吗", "人呢? 人呢".
_REPEATED_CALL = re.compile(r"(在吗|在不在|人呢|有人吗)[\s,.!?~。]*\1")
_QUESTION_PARTICLES = frozenset("吗吧么嘛呢")
_MARKS = frozenset("? ")


def _stressed_question(norm: str, hit: Hit) -> bool:
    """True for "??" stressing a plain question ("能一起取消吗??"): no impatience."""
    if hit.check != "buyer_urgent" or hit.phrase not in ("??", "? ?"):
        return False
    at = hit.start
    while at > 0 and norm[at - 1] in _MARKS:
        at -= 1
    return at > 0 and norm[at - 1] in _QUESTION_PARTICLES


# (words one of which must be in the message, pattern, check, phrase): the
# words are a cheap test that keeps most messages away from the pattern.
_CONSTRUCTIONS: tuple[tuple[tuple[str, ...], re.Pattern[str], str, str], ...] = (
    (("这样", "这种", "这类"), _KIND_JUDGED, "buyer_upset", "judged as a kind"),
    (("要我", "让我", "得我"), _MADE_TO_BEAR, "buyer_upset", "made to bear it"),
    (("别人", "其他人", "其它人", "人家"), _OTHERS_SERVED, "buyer_upset", "others served"),
    (("又说", "然后说", "现在说", "又改", "又变", "说了", "以为"), _STORY_CHANGED,
     "buyer_upset", "story changed"),
    (("在吗", "在不在", "人呢", "有人吗"), _REPEATED_CALL, "buyer_urgent", "repeated call"),
    (("确定",), _DOUBT, "buyer_urgent", "doubt"),
)


def _constructions(norm: str) -> list[Hit]:
    """Hits of the third round's complaint constructions in one buyer message."""
    found: list[Hit] = []
    for words, pattern, check, phrase in _CONSTRUCTIONS:
        if not any(word in norm for word in words):
            continue
        if phrase == "made to bear it" and "如果" in norm:  # a condition, not a reproach
            continue
        match = pattern.search(norm)
        if match:
            found.append(Hit(match.start(), match.end(), check, phrase))
    return found


def buyer_rules(norm: str, hits: list[Hit]) -> list[Hit]:
    """The hits of a buyer message after the message-level rules."""
    kept = _premise_only(norm, hits) if hits else hits
    if "?" in norm and kept:
        kept = [h for h in kept if not _stressed_question(norm, h)]
    checks = {h.check for h in kept} if kept else set()
    found = _constructions(norm)
    if "不是" in norm:
        match = _NOT_AS_PROMISED.search(norm)
        if match:
            found.append(Hit(match.start(), match.end(), "buyer_upset", "not as promised"))
    if "收到" in norm and any(word in norm for word in _NOT_RECEIVED):
        match = _SHOWN_DONE.search(norm)
        if match:
            found.append(Hit(match.start(), match.end(), "buyer_upset", "shown done, not received"))
    if not found and "buyer_upset" not in checks and "buyer_waiting" not in checks and not (
        "如果" in norm or "要是" in norm  # a wait supposed, not suffered
    ):
        match = _COUNTED_WAIT.search(norm)
        if not match and ("没" in norm or "才" in norm):
            match = _COUNTED_BEFORE.search(norm)
        if match:
            found.append(Hit(match.start(), match.end(), "buyer_waiting", "counted wait"))
    if "!" in norm and not found and checks.isdisjoint(_BUYER_UPSET_CHECKS):
        span = _exclamation(norm)
        if span:
            found.append(Hit(span[0], span[1], "buyer_urgent", "exclamation"))
    return sorted(kept + found) if found else kept
