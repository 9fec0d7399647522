"""Each automatic check of qa.md: what it finds, what it must not find, tricky text."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kefu.qa import Lexicons, find_hits, load_lexicons, scan_text
from kefu.qa.api import CHECKS_BY_ROLE
from kefu.qa.normalize import normalise

AGENT = CHECKS_BY_ROLE["agent"]
BUYER = CHECKS_BY_ROLE["buyer"]


def hits_of(text: str, check: str, lexicons: Lexicons, role: str = "agent") -> list[str]:
    """The matched original substrings of one check."""
    checks = AGENT if role == "agent" else BUYER
    return [text[h.start : h.end] for h in find_hits(text, checks, lexicons) if h.check == check]


@pytest.mark.parametrize(
    ("check", "text", "expected"),
    [
        ("polite", "亲，您好，请您稍等", ["亲", "您好", "请您"]),
        ("polite", "谢谢您的耐心，祝您生活愉快", ["谢谢您", "祝您生活愉快"]),
        ("polite", "不好意思让您久等了", ["不好意思"]),
        ("greeting", "您好，很高兴为您服务", ["您好", "很高兴为您服务"]),
        ("greeting", "有什么问题我可以帮您处理或解决呢?", ["有什么问题我可以帮您"]),
        ("closing", "请问还有其他还可以帮到您的吗?", ["还有其他还可以帮到您"]),
        ("closing", "感谢您的耐心，再见", ["感谢您的耐心", "再见"]),
        ("forbidden", "这个我不知道", ["我不知道"]),
        ("forbidden", "没办法，你自己看吧", ["你自己看"]),
            ("policy_refusal", "没办法，你自己看吧", ["没办法"]),
        ("forbidden", "爱买不买，我已经说过了", ["爱买不买", "我已经说过了"]),
        ("offsite", "加我微信聊，支付宝转给我就行", ["加我微信", "支付宝转给我"]),
        ("offsite", "QQ联系我，或者加V", ["QQ联系", "加V"]),
        ("agent_negative", "你烦不烦啊", ["你烦不烦"]),
        ("agent_negative", "这是你自己的问题", ["这是你自己的问题"]),
        ("empathy", "非常理解您的心情，给您添麻烦了", ["非常理解您的心情", "给您添麻烦了"]),
        ("empathy", "非常抱歉让您久等了", ["非常抱歉让您久等了"]),
    ],
)
def test_agent_check_finds_phrase(
    check: str, text: str, expected: list[str], lexicons: Lexicons
) -> None:
    assert hits_of(text, check, lexicons) == expected


@pytest.mark.parametrize(
    ("check", "text"),
    [
        ("polite", "好的，已经处理了"),
        ("polite", "我亲自去仓库看了"),  # 亲 inside 亲自 is no word of address
        ("polite", "已经帮您申请了退款"),  # 请 inside 申请
        ("greeting", "已经发货了"),
        ("closing", "订单已经取消"),
        ("forbidden", "不知道您是否方便接电话"),  # a polite, hedged question
        ("forbidden", "电脑亮度过高会看不清楚"),
        ("forbidden", "我知道了，马上处理"),
        ("offsite", "可以用微信支付"),
        ("offsite", "请关注京东微信公众号"),
        ("offsite", "开通加vip会员"),
        ("agent_negative", "祝您财源滚滚"),
        ("agent_negative", "滚筒洗衣机有货"),
        ("empathy", "已经为您取消了"),
    ],
)
def test_agent_check_ignores_harmless_text(check: str, text: str, lexicons: Lexicons) -> None:
    assert hits_of(text, check, lexicons) == []


def test_buyer_upset_phrases(lexicons: Lexicons) -> None:
    assert hits_of("太差了！我要投诉", "buyer_upset", lexicons, "buyer") == ["太差了", "我要投诉"]
    assert hits_of("再不发货就给差评", "buyer_upset", lexicons, "buyer") == ["给差评"]
    assert hits_of("气死了！！！", "buyer_upset", lexicons, "buyer") == ["气死了"]
    assert hits_of("在吗？？？", "buyer_upset", lexicons, "buyer") == []  # emphasis, not anger
    assert hits_of("好的，谢谢", "buyer_upset", lexicons, "buyer") == []


def test_role_chooses_the_checks(lexicons: Lexicons) -> None:
    text = "不知道，我要投诉"
    agent = {h.check for h in find_hits(text, AGENT, lexicons)}
    buyer = {h.check for h in find_hits(text, BUYER, lexicons)}
    assert agent == {"forbidden"}
    assert buyer == {"buyer_upset"}


class TestNegation:
    def test_negated_forbidden_phrase_is_no_hit(self, lexicons: Lexicons) -> None:
        assert hits_of("不是不知道，是系统还没更新", "forbidden", lexicons) == []
        assert hits_of("并不是没办法", "forbidden", lexicons) == []

    def test_negator_in_another_clause_does_not_negate(self, lexicons: Lexicons) -> None:
        assert hits_of("不是的，不知道", "forbidden", lexicons) == ["不知道"]

    def test_offsite_warning_is_no_hit(self, lexicons: Lexicons) -> None:
        assert hits_of("请勿加微信私下交易", "offsite", lexicons) == []
        assert hits_of("不要加微信", "offsite", lexicons) == []

    def test_rhetorical_question_stays_a_hit(self, lexicons: Lexicons) -> None:
        assert hits_of("这不是你自己的问题吗？", "agent_negative", lexicons) == ["你自己的问题"]
        assert hits_of("这不是你自己的问题。", "agent_negative", lexicons) == []

    def test_buyer_negated_complaint(self, lexicons: Lexicons) -> None:
        assert hits_of("我不是要投诉", "buyer_upset", lexicons, "buyer") == []
        assert hits_of("京东从不让人失望", "buyer_upset", lexicons, "buyer") == []

    def test_a_not_a_question_does_not_negate(self, lexicons: Lexicons) -> None:
        text = "是不是太忽悠人了"
        assert hits_of(text, "buyer_upset", lexicons, "buyer") == ["忽悠人"]
        assert hits_of("能不能加微信", "offsite", lexicons) == ["加微信"]


class TestQuotes:
    @pytest.mark.parametrize(
        "text",
        ["你们客服说“不知道”是什么意思", "他回我「没办法」", '客服说"随便你"', "他說『不可能』"],
    )
    def test_quoted_phrase_is_not_the_speakers(self, text: str, lexicons: Lexicons) -> None:
        assert hits_of(text, "forbidden", lexicons) == []

    def test_buyer_quoting_agent_keeps_own_anger(self, lexicons: Lexicons) -> None:
        text = "你们客服说“爱买不买”，气死我了"
        assert hits_of(text, "buyer_upset", lexicons, "buyer") == ["气死我了"]

    def test_unbalanced_quote_does_not_hide_hits(self, lexicons: Lexicons) -> None:
        assert hits_of("“不知道", "forbidden", lexicons) == ["不知道"]


class TestTrickyText:
    def test_traditional_characters_match_with_original_spans(self, lexicons: Lexicons) -> None:
        text = "沒辦法，你煩不煩"
        found = find_hits(text, AGENT, lexicons)
        assert [(h.check, h.phrase, text[h.start : h.end]) for h in found] == [
            ("policy_refusal", "没办法", "沒辦法"),
            ("agent_negative", "你烦不烦", "你煩不煩"),
        ]
        assert hits_of("謝謝您，祝您生活愉快", "polite", lexicons) == ["謝謝您", "祝您生活愉快"]

    def test_full_width_letters_and_punctuation(self, lexicons: Lexicons) -> None:
        assert hits_of("ＱＱ聯繫我，加Ｖ", "offsite", lexicons) == ["ＱＱ聯繫", "加Ｖ"]
        assert hits_of("加我ｖｘ", "offsite", lexicons) == ["加我ｖｘ"]

    def test_offsite_phrases_spaced_out_to_dodge_filters(self, lexicons: Lexicons) -> None:
        assert hits_of("加 微 信 详聊", "offsite", lexicons) == ["加 微 信"]
        assert hits_of("q-q 联系我", "offsite", lexicons) == ["q-q 联系"]
        assert hits_of("不要 加 微 信", "offsite", lexicons) == []
        assert hits_of("请 加 VIP 会员", "offsite", lexicons) == []

    def test_emoji_keep_offsets(self, lexicons: Lexicons) -> None:
        text = "😀😀亲👍不知道🙏"
        assert hits_of(text, "forbidden", lexicons) == ["不知道"]
        assert hits_of(text, "polite", lexicons) == ["亲"]

    @pytest.mark.parametrize("text", ["", None])
    def test_empty_content(self, text: str | None, lexicons: Lexicons) -> None:
        assert find_hits(text, AGENT, lexicons) == []
        assert scan_text(text) == {"negative": False, "sentiment": 0.0, "hits": []}

    def test_inner_hit_of_same_check_counted_once(self, lexicons: Lexicons) -> None:
        assert hits_of("我不知道", "forbidden", lexicons) == ["我不知道"]


PIECES = [
    "不知道",
    "不是",
    "亲",
    "您好",
    "加微信",
    "“",
    "”",
    "「",
    "」",
    "😀",
    "！",
    "，",
    "沒辦法",
]
PIECES += ["ＱＱ", "13812345678", " ", "我要投诉", "吗", "滚滚", "请勿", "x", "\n", "谢谢"]


@given(st.lists(st.sampled_from(PIECES), max_size=12).map("".join))
def test_every_hit_is_a_span_of_the_original_text(text: str) -> None:
    lexicons = load_lexicons()
    for role in ("agent", "buyer"):
        for hit in find_hits(text, CHECKS_BY_ROLE[role], lexicons):
            assert 0 <= hit.start < hit.end <= len(text)
            if hit.check != "pii":
                assert normalise(text[hit.start : hit.end]) == normalise(hit.phrase)
