"""The chat rules of docs/qa.md, one hand-written case each (no shared data needed)."""

from __future__ import annotations

import pytest

from kefu.qa import flag_messages, scan_text


def checks(text: str, role: str = "agent") -> dict[str, list[str]]:
    """check -> phrases of the scan record of ``text``."""
    found: dict[str, list[str]] = {}
    for hit in scan_text(text, role)["hits"]:
        found.setdefault(str(hit["check"]), []).append(str(hit["phrase"]))
    return found


class TestWordBoundaryAndMention:
    def test_short_phrase_inside_a_longer_word_is_no_hit(self) -> None:
        assert "buyer_upset" not in checks("我刚联系客服了", "buyer")
        assert checks("真是服了", "buyer")["buyer_upset"] == ["服了"]

    @pytest.mark.parametrize(
        "text",
        [
            "但是在后台评价管理，差评处，可以看的到",  # a page named, not a bad review given
            "第一个都是非常满意，你们怎么是非常不满意正好相反",  # a rating label quoted
            "你们客服说“太差了”是什么意思",  # quoted words
        ],
    )
    def test_mention_is_not_use(self, text: str) -> None:
        assert "buyer_upset" not in checks(text, "buyer")

    def test_use_still_counts(self) -> None:
        assert checks("东西太差了，我要给差评", "buyer")["buyer_upset"] == ["太差了", "给差评"]


class TestRefusals:
    def test_polite_policy_refusal_is_its_own_category(self) -> None:
        found = checks("很抱歉哈，没办法通过号码查询订单呢")
        assert found["policy_refusal"] == ["没办法"]
        assert "forbidden" not in found
        assert "empathy" in found

    def test_refusal_with_a_reason_is_a_policy_refusal(self) -> None:
        found = checks("因为没有到货但是没有办法预约的呢")
        assert found["policy_refusal"] == ["没有办法"] and "forbidden" not in found

    @pytest.mark.parametrize("text", ["没法", "没办法。", "不行"])
    def test_bare_refusal_is_forbidden(self, text: str) -> None:
        found = checks(text)
        assert "forbidden" in found and "policy_refusal" not in found

    def test_a_question_is_no_refusal(self) -> None:
        assert "policy_refusal" not in checks("能不能帮我看一下")

    def test_dont_know_with_help_is_no_forbidden_hit(self) -> None:
        assert "forbidden" not in checks("小妹这边不知道呢，不过会再次给您回电的")
        assert checks("这个小妹也不知道呢")["forbidden"] == ["不知道"]


class TestBrushOff:
    @pytest.mark.parametrize(
        "text",
        ["您好，您前台是可以看到预计送达时间的", "公司规定哦", "这个无法确定呢",
         "亲  商品规格页面商品介绍您可以查看下的哦"],
    )
    def test_sending_away_without_help_is_a_brush_off(self, text: str) -> None:
        found = checks(text)
        assert "brush_off" in found
        flags = flag_messages([text], [True]).to_pylist()[0]
        assert flags["brush_off"] and flags["forbidden"] and flags["chat_negative"]

    @pytest.mark.parametrize(
        "text",
        [
            "价保可以前台进行申请哦，登录电脑端:我的京东-客户服务-价格保护",  # a path
            "亲爱的 很抱歉 因为现在没有换新的订单 这个小妹这边无法确定的呢",  # apology, reason
            "您可以在商品页面查看，一般[数字x]-[数字x]天送达",  # an answer
        ],
    )
    def test_pointing_the_way_with_help_is_no_brush_off(self, text: str) -> None:
        assert "brush_off" not in checks(text)

    @pytest.mark.parametrize(
        "text",
        ["小妹也不是很清楚的呢", "您可以自己申请售后的", "这个我们也没办法哦",
         "这款我们没有呢，需要您单独搜索购买的"],
    )
    def test_third_round_brush_offs(self, text: str) -> None:
        assert flag_messages([text], [True]).to_pylist()[0]["forbidden"], checks(text)

    @pytest.mark.parametrize(
        "text",
        [
            "小妹不是很清楚呢，帮您转接专员核实",  # an offer of help
            "以后降价了您可以自己申请价保的",  # what to do next time
            "抱歉，这个我们也没办法修改呢",  # an apology
        ],
    )
    def test_third_round_brush_offs_with_help_are_not(self, text: str) -> None:
        assert not flag_messages([text], [True]).to_pylist()[0]["forbidden"], checks(text)

    def test_goodbye_with_an_answer_after_a_complaint_is_no_brush_off(self) -> None:
        texts = ["运费还要我们出吗", "亲，可以让买家签收后再申请售后，祝您生活愉快!"]
        table = flag_messages(texts, [False, True], conversation=["c", "c"]).to_pylist()
        assert table[0]["chat_negative"] and not table[1]["brush_off"]

    def test_goodbye_right_after_a_complaint_closes_on_the_buyer(self) -> None:
        texts = ["你什么也没有做啊，这样的服务态度真的让人很不满意", "好的亲，祝您生活愉快，再见!",
                 "谢谢", "好的亲，祝您生活愉快，再见!"]
        roles = [False, True, False, True]
        table = flag_messages(texts, roles, conversation=["c1", "c1", "c1", "c1"]).to_pylist()
        assert [row["brush_off"] for row in table] == [False, True, False, False]
        assert table[1]["forbidden"] and table[1]["chat_negative"]
        # without the conversation the same goodbye is no brush-off
        assert not flag_messages(texts, roles).to_pylist()[1]["brush_off"]

    def test_context_follows_each_conversation_even_interleaved(self) -> None:
        texts = ["太差了，我要投诉", "在吗", "再见", "再见"]
        roles = [False, False, True, True]
        table = flag_messages(texts, roles, conversation=["a", "b", "b", "a"]).to_pylist()
        # a: buyer complaint, then (row 3) goodbye; b: calm buyer, then goodbye
        assert [row["brush_off"] for row in table] == [False, False, False, True]


class TestUpset:
    @pytest.mark.parametrize(
        ("text", "check"),
        [
            ("今天还没动静", "buyer_waiting"),
            ("昨天申请的余额没到账", "buyer_waiting"),
            ("都四天了", "buyer_waiting"),
            ("已经[数字x]天了", "buyer_waiting"),
            ("降价了，还不给我保价", "buyer_upset"),
            ("我都不敢从京东买东西了", "buyer_upset"),
            ("怎么还没发货", "buyer_upset"),
            ("不是说今天送达嘛?", "buyer_upset"),
            ("拜托您帮忙催一下，真的很急", "buyer_urgent"),
            ("??", "buyer_urgent"),
        ],
    )
    def test_wider_upset_patterns(self, text: str, check: str) -> None:
        assert check in checks(text, "buyer")
        assert flag_messages([text], [False]).to_pylist()[0]["upset"]

    @pytest.mark.parametrize(
        "text", ["现在能不能退货", "我不着急，慢慢来", "厂家自送有没有物流信息的"]
    )
    def test_plain_questions_are_not_upset(self, text: str) -> None:
        assert not flag_messages([text], [False]).to_pylist()[0]["upset"]

    @pytest.mark.parametrize(
        ("text", "check", "phrase"),
        [
            ("物流显示已签收，可我没收到", "buyer_upset", "shown done, not received"),
            ("不是应该昨天发货吗", "buyer_upset", "not as promised"),
            ("五天了还没发出来", "buyer_waiting", "counted wait"),
            ("今天都[数字x]号了", "buyer_waiting", "counted wait"),
            ("这个要审核到什么时候", "buyer_waiting", "counted wait"),
            ("到现在也没发出来", "buyer_waiting", "counted wait"),
            ("从来没有这么慢过", "buyer_upset", "从来没有这么"),
            ("为何还不退款", "buyer_upset", "为何"),
            ("好 急", "buyer_urgent", "急"),
            ("申请了两次都失败了!", "buyer_urgent", "exclamation"),
            ("这个不好的!", "buyer_urgent", "exclamation"),
        ],
    )
    def test_second_round_patterns(self, text: str, check: str, phrase: str) -> None:
        assert phrase in checks(text, "buyer").get(check, [])
        assert flag_messages([text], [False]).to_pylist()[0]["upset"]

    @pytest.mark.parametrize(
        "text",
        [
            "还没发货，可以退吗",  # the wait is the premise of a question
            "如果五天了还没到怎么办",  # a wait supposed
            "怎么才能开专票",  # how-to
            "要不给我取消了吧",
            "好的，谢谢!",  # a courteous exclamation
            "这两天没时间，能改到周末吗",
            "不急的，慢慢来",
        ],
    )
    def test_second_round_keeps_plain_messages_calm(self, text: str) -> None:
        assert not flag_messages([text], [False]).to_pylist()[0]["upset"], checks(text, "buyer")

    def test_a_worried_status_question_is_upset_not_negative(self) -> None:
        row = flag_messages(["物流长时间没更新，怎么回事"], [False]).to_pylist()[0]
        assert row["upset"] and not row["chat_negative"]

    def test_negative_tone_is_narrower_than_upset(self) -> None:
        table = flag_messages(["今天还没动静", "真的很急", "怎么还没发货"], [False] * 3).to_pylist()
        assert [row["upset"] for row in table] == [True, True, True]
        assert [row["chat_negative"] for row in table] == [False, False, True]

    @pytest.mark.parametrize(
        ("text", "check", "phrase"),
        [
            ("快递让我等到什么时候才送", "buyer_upset", "让我等"),
            ("难道还要我自己去拿吗", "buyer_upset", "难道"),
            ("这种客服我真是第一次见", "buyer_upset", "judged as a kind"),
            ("运费还要我出吗", "buyer_upset", "made to bear it"),
            ("这家店一点诚信都没有", "buyer_upset", "诚信"),
            ("体验很不好", "buyer_upset", "很不好"),
            ("两周后依然没有发出", "buyer_upset", "依然没"),
            ("售后电话无人接听", "buyer_upset", "无人接"),
            ("退个货真麻烦", "buyer_upset", "真麻烦"),
            ("物流更新很慢", "buyer_upset", "很慢"),
            ("这价格太离谱了", "buyer_upset", "离谱"),
            ("我也是醉了", "buyer_upset", "醉了"),
            ("说过了，是那个蓝色的订单", "buyer_upset", "说过了"),
            ("你们得给我个说法", "buyer_upset", "给我个说法"),
            ("已经等了很久了", "buyer_waiting", "等了很久"),
            ("发票还要等多久", "buyer_waiting", "还要等多久"),
            ("商家也没回复", "buyer_waiting", "也没回复"),
            ("我的包裹到底在哪", "buyer_urgent", "到底"),
            ("人呢?", "buyer_urgent", "人呢"),
            ("你确定今天能到吗", "buyer_urgent", "doubt"),
            ("你们的售后怎么都这么差", "buyer_upset", "这么差"),
            ("写得清清楚楚，眼瞎吗", "buyer_upset", "眼瞎"),
            ("等得花儿都谢了", "buyer_upset", "花儿都谢了"),
            ("退货太不方便了", "buyer_upset", "太不方便"),
            ("你还让我再拍一次照片", "buyer_upset", "还让我"),
            ("别人前天买的早就收到了", "buyer_upset", "others served"),
            ("昨天说周三送，今天又说周五", "buyer_upset", "story changed"),
            ("这句话我都说了三遍", "buyer_upset", "story changed"),
            ("我以为今天能到，结果还在仓库", "buyer_upset", "story changed"),
            ("这速度，我服气", "buyer_upset", "这速度"),
            ("第一次遇到这样的快递", "buyer_upset", "第一次遇到这样"),
            ("本来应该昨天到的", "buyer_upset", "本来应该"),
            ("这次物流慢了好多", "buyer_upset", "慢了"),
            ("页面显示已完成，可我未收到", "buyer_upset", "shown done, not received"),
            ("快递员一直不接电话", "buyer_waiting", "不接电话"),
            ("物流一直不更新", "buyer_waiting", "一直不更新"),
            ("我的退款啥情况", "buyer_waiting", "啥情况"),
            ("在吗? 在吗?", "buyer_urgent", "repeated call"),
            ("孩子开学要用，等不了", "buyer_urgent", "等不了"),
            ("麻烦快一点", "buyer_urgent", "快一点"),
        ],
    )
    def test_third_round_constructions(self, text: str, check: str, phrase: str) -> None:
        assert phrase in checks(text, "buyer").get(check, [])
        assert flag_messages([text], [False]).to_pylist()[0]["upset"]

    @pytest.mark.parametrize(
        "text",
        [
            "平台不是有运费险的吗",  # 不是有…吗 asks whether it exists
            "能帮我改一下地址吗??",  # "??" stressing a plain question
            "现在能确定发货时间吗",  # whether it can be known, no doubt
            "不好意思，太麻烦你了",  # thanks, not a complaint
            "收货人呢写我爸爸的名字",  # 收货人呢 is no call for the agent
            "如果还要我补运费的话就算了",  # a condition, not a rhetorical question
            "那天有点急事没聊完",
            "他说是一个月，是吗",  # "说" with nothing changed
            "我以为是要写名字",  # "以为" without a letdown
            "在吗",
        ],
    )
    def test_third_round_keeps_plain_messages_calm(self, text: str) -> None:
        assert not flag_messages([text], [False]).to_pylist()[0]["upset"], checks(text, "buyer")

    def test_a_long_wait_is_upset_not_negative(self) -> None:
        row = flag_messages(["已经等了很久了"], [False]).to_pylist()[0]
        assert row["upset"] and not row["chat_negative"]
        row = flag_messages(["运费还要我出吗"], [False]).to_pylist()[0]
        assert row["upset"] and row["chat_negative"]


class TestEmpathy:
    @pytest.mark.parametrize(
        "text",
        ["不好意思让您久等了", "您不要着急，我马上帮您查", "抱歉了，耽误您的时间了",
         "非常理解您的心情"],
    )
    def test_empathy(self, text: str) -> None:
        assert "empathy" in checks(text)

    @pytest.mark.parametrize(
        "text",
        ["您放心，我们会尽快处理", "请问还有其他还可以帮到您的吗? 辛苦您了",
         "不好意思，麻烦您提供下订单号", "嗯嗯 理解您的意思", "很抱歉打错字了"],
    )
    def test_not_empathy(self, text: str) -> None:
        assert "empathy" not in checks(text)


def test_the_old_call_still_works() -> None:
    table = flag_messages(["您好", "太差了"], [True, False])
    assert table.column_names[:9] == [
        "polite", "greeting", "closing", "forbidden", "offsite", "pii", "negative", "upset",
        "empathy",
    ]
    assert table.column("polite").to_pylist() == [True, False]
    assert table.column("chat_negative").to_pylist() == [False, True]
