"""The metric registry: every metric of shared/spec/metrics.md, declared once.

CLI output, scheme validation, web labels, exports and docs all read this list;
nothing else repeats it.  The expressions that compute each family live in the
family modules (service.py, sales.py, satisfaction.py, cases.py, quality.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Direction(StrEnum):
    UP = "up"  # higher is better (↑)
    DOWN = "down"  # lower is better (↓)
    NONE = "none"  # informative, not judged


class Family(StrEnum):
    SERVICE = "service"
    SALES = "sales"
    SATISFACTION = "satisfaction"
    CASES = "cases"
    QUALITY = "quality"
    TRANSFERS = "transfers"
    ATTENDANCE = "attendance"


@dataclass(frozen=True)
class Metric:
    key: str
    label_zh: str
    label_en: str
    direction: Direction
    unit: str  # count | ratio | seconds | hours | cny | score5 | points
    family: Family
    definition: str
    evidence: str = ""
    """the relation whose rows make the number (kefu.metrics.evidence), for drill-down"""
    count_metric: str | None = None
    """the count a rate or mean is computed over: min_count and shrinkage trials"""
    table: str | None = None
    """the optional input table it needs (null without it); None: messages alone"""
    weight_metric: str | None = None
    """for a mean without count_metric: the count that weights it across days (reports)"""
    additive: bool = False
    """values of agents add up to the team's (counts, money, hours)"""
    pooled: bool = False
    """team and shop values recomputed from the pooled rows (percentiles, distinct buyers)"""
    summary: bool = False
    """shown in the terminal summary table (kefu metrics --format table)"""
    shop_only: bool = False
    """a value of the shop alone (silent sales): null for agents and teams, never scored"""

    @property
    def weight(self) -> str | None:
        """The count that weights this value when values of several days or agents combine."""
        if self.additive:
            return None
        return self.count_metric or self.weight_metric

    @property
    def arrow(self) -> str:
        return {"up": "↑", "down": "↓", "none": ""}[self.direction]


_U, _D, _N = Direction.UP, Direction.DOWN, Direction.NONE
_SV, _SA, _SF, _CA, _QA, _TR, _AT = (
    Family.SERVICE,
    Family.SALES,
    Family.SATISFACTION,
    Family.CASES,
    Family.QUALITY,
    Family.TRANSFERS,
    Family.ATTENDANCE,
)

METRICS: tuple[Metric, ...] = (
    # service
    Metric("received", "接待人数", "Buyers received", _U, "count", _SV, "number of buyer-days",
           evidence="buyer_days", additive=True, summary=True),
    Metric("replied", "回复人数", "Buyers replied", _U, "count", _SV,
           "buyer-days with a human agent message after the buyer's first message, same day",
           evidence="buyer_days", additive=True),
    Metric("reply_rate", "回复率", "Reply rate", _U, "ratio", _SV, "replied / received",
           evidence="buyer_days", count_metric="received", summary=True),
    Metric("conversations", "会话数", "Conversations", _N, "count", _SV,
           "conversations with at least one buyer message",
           evidence="conversations", additive=True),
    Metric("first_response_s", "首次响应时间", "First response time", _D, "seconds", _SV,
           "mean response time of answered first buyer turns of conversations",
           evidence="conversations", count_metric="conversations", summary=True),
    Metric("first_response_s_p50", "首次响应时间中位数", "First response time, median", _D,
           "seconds", _SV, "median of the same",
           evidence="conversations", pooled=True),
    Metric("first_response_s_p90", "首次响应时间P90", "First response time, p90", _D,
           "seconds", _SV, "90th percentile of the same",
           evidence="conversations", pooled=True),
    Metric("avg_response_s", "平均响应时间", "Average response time", _D, "seconds", _SV,
           "mean response time over answered buyer turns",
           weight_metric="received", evidence="turns", summary=True),
    Metric("avg_response_s_p50", "响应时间中位数", "Response time, median", _D, "seconds", _SV,
           "median response time over answered buyer turns",
           evidence="turns", pooled=True),
    Metric("avg_response_s_p90", "响应时间P90", "Response time, p90", _D, "seconds", _SV,
           "90th percentile response time over answered buyer turns",
           evidence="turns", pooled=True),
    Metric("response_on_time_rate", "响应时间达标率", "On-time response rate", _U, "ratio", _SV,
           "answered turns within response_target_s / all buyer turns",
           weight_metric="received", evidence="turns"),
    Metric("unanswered_turns", "未回复次数", "Unanswered turns", _D, "count", _SV,
           "buyer turns never answered",
           evidence="turns", additive=True),
    Metric("answer_question_ratio", "答问比", "Answer/question ratio", _N, "ratio", _SV,
           "human agent messages / buyer messages",
           weight_metric="received", evidence="messages"),
    Metric("online_hours", "在线时长", "Online hours", _U, "hours", _SV,
           "hours of the union of online and busy intervals inside the period",
           evidence="online_intervals", table="sessions", additive=True, summary=True),
    Metric("transfers_out", "转出次数", "Transfers out", _N, "count", _TR,
           "conversations the agent handed to another agent (转接), by the day of the transfer",
           evidence="transfers", additive=True),
    Metric("transfers_in", "转入次数", "Transfers in", _N, "count", _TR,
           "conversations another agent handed to this agent",
           evidence="transfers", additive=True),
    # attendance (from sessions; late starts need the optional shifts table)
    Metric("days_present", "出勤天数", "Days present", _U, "count", _AT,
           "days of the period with online or busy time",
           evidence="attendance", table="sessions", additive=True),
    Metric("first_login_h", "平均首次登录时刻", "Mean first login", _N, "hours", _AT,
           "mean wall-clock hour of the first online/busy start of each present day",
           evidence="attendance", table="sessions", count_metric="days_present"),
    Metric("late_starts", "迟到次数", "Late starts", _D, "count", _AT,
           "present shift days whose first login is after the shift start + late_grace_min",
           evidence="attendance", table="shifts", additive=True),
    Metric("away_hours", "离开时长", "Away hours", _D, "hours", _AT,
           "hours of the union of away intervals inside the period",
           evidence="away_intervals", table="sessions", additive=True),
    # sales
    Metric("inquiries", "询单人数", "Inquiries", _U, "count", _SA,
           "buyer-days of presale/both agents",
           evidence="inquiries", additive=True),
    Metric("converted", "成交人数", "Converted inquiries", _U, "count", _SA,
           "inquiries followed by a paid order within the conversion window",
           evidence="conversions", additive=True),
    Metric("conversion_rate", "询单转化率", "Inquiry conversion rate", _U, "ratio", _SA,
           "converted / inquiries",
           evidence="conversions", count_metric="inquiries", summary=True),
    Metric("sales_amount", "销售额", "Credited sales", _U, "cny", _SA,
           "sum of amount of orders credited (last touch)",
           evidence="conversions", additive=True, summary=True),
    Metric("orders", "成交订单数", "Credited orders", _U, "count", _SA,
           "number of orders credited",
           evidence="conversions", additive=True),
    Metric("avg_order_value", "客单价", "Average order value", _U, "cny", _SA,
           "sales_amount / distinct buyers of credited orders",
           evidence="conversions", count_metric="orders", pooled=True),
    Metric("refund_rate", "退款率", "Refund rate", _D, "ratio", _SA,
           "refund_amount of credited orders / sales_amount",
           weight_metric="sales_amount", evidence="conversions"),
    Metric("silent_orders", "静默订单数", "Silent orders", _N, "count", _SA,
           "paid orders whose buyer did not chat in the conversion window (shop only)",
           evidence="silent_sales", table="orders", additive=True, shop_only=True),
    Metric("silent_sales_amount", "静默销售额", "Silent sales", _N, "cny", _SA,
           "sum of amount of silent orders (shop only, never credited to an agent)",
           evidence="silent_sales", table="orders", additive=True, shop_only=True),
    # satisfaction and resolution
    Metric("ratings", "评价数", "Ratings", _N, "count", _SF, "ratings in the period",
           evidence="ratings", table="ratings", additive=True),
    Metric("csat_avg", "满意度均分", "CSAT average", _U, "score5", _SF, "mean score 1-5",
           evidence="ratings", count_metric="ratings", table="ratings", summary=True),
    Metric("satisfaction_rate", "满意率", "Satisfaction rate", _U, "ratio", _SF,
           "ratings with score >= 4 / ratings",
           evidence="ratings", count_metric="ratings", table="ratings"),
    Metric("dissatisfied", "不满意数", "Dissatisfied ratings", _D, "count", _SF,
           "ratings with score <= 2",
           evidence="ratings", table="ratings", additive=True),
    Metric("praise_rate", "客户表扬率", "Praise rate", _U, "ratio", _SF,
           "ratings with score 5 / received",
           evidence="ratings", count_metric="received", table="ratings"),
    Metric("rating_coverage", "邀评率", "Rating coverage", _U, "ratio", _SF,
           "ratings / received",
           evidence="ratings", count_metric="received", table="ratings"),
    Metric("repeat_contact_rate", "重复咨询率", "Repeat contact rate", _D, "ratio", _SF,
           "conversations followed by another of the same buyer within repeat_window_h",
           evidence="conversations", count_metric="conversations"),
    Metric("first_contact_resolution", "首次联系解决率", "First contact resolution", _U,
           "ratio", _SF, "1 - repeat_contact_rate",
           evidence="conversations", count_metric="conversations"),
    # after-sales
    Metric("cases", "售后处理量", "After-sales cases", _U, "count", _CA,
           "cases opened in the period",
           evidence="cases", table="cases", additive=True),
    Metric("case_close_h", "平均处理时长", "Average case time", _D, "hours", _CA,
           "mean hours from opened_at to closed_at of closed cases",
           evidence="cases", count_metric="cases", table="cases"),
    Metric("dispute_rate", "纠纷率", "Dispute rate", _D, "ratio", _CA,
           "cases with platform intervention / cases",
           evidence="cases", count_metric="cases", table="cases"),
    Metric("complaint_rate", "投诉率", "Complaint rate", _D, "ratio", _CA,
           "complaint cases / received",
           evidence="cases", count_metric="received", table="cases"),
    # quality (automatic QA)
    Metric("polite_rate", "礼貌用语使用率", "Polite phrase rate", _U, "ratio", _QA,
           "conversations with a polite phrase from a human agent / conversations",
           evidence="conversations", count_metric="conversations"),
    Metric("forbidden_hits", "禁用语次数", "Forbidden phrases", _D, "count", _QA,
           "human agent messages containing a forbidden phrase, a bare refusal or a "
           "brush-off; null while the verdict misses its floor on the fresh test batch "
           "(recall 0 of 3 rude messages; docs/qa.md)",
           evidence="messages", additive=True, summary=True),
    Metric("offsite_hits", "站外交易引导", "Off-platform steering", _D, "count", _QA,
           "human agent messages steering the buyer off the platform",
           evidence="messages", additive=True),
    Metric("policy_refusals", "婉拒次数", "Polite policy refusals", _D, "count", _QA,
           "human agent messages refusing politely with a reason (apology or reason + "
           "没办法/无法 …); not forbidden; counts only where a scheme scores it "
           "(fresh test batch F1 0.86; docs/qa.md)",
           evidence="messages", additive=True),
    Metric("negative_emotion_rate", "负面情绪率", "Negative tone rate", _D, "ratio", _QA,
           "human agent messages judged negative / human agent messages; negative = "
           "rule-based chat verdict (hostile phrase, forbidden phrase, bare refusal, "
           "brush-off, goodbye right after a negative buyer turn), not the sentiment "
           "model; null while the verdict misses its floor on the fresh test batch "
           "(no flag there, 0 of 3 negative messages found; docs/qa.md)",
           evidence="messages"),
    Metric("empathy_rate", "共情表达率", "Empathy rate", _U, "ratio", _QA,
           "conversations with an upset buyer answered with empathy / with an upset buyer "
           "(fresh test batch: empathy precision 0.97; null while buyer upset misses its "
           "floor there, F1 0.48; docs/qa.md)",
           evidence="conversations"),
    Metric("qa_score", "质检得分", "QA score", _U, "points", _QA,
           "0-100, mean conversation score of the QA scorecard; items whose verdicts miss "
           "their floors (服务态度 now) are left out and the rest rescaled (docs/qa.md)",
           evidence="conversations"),
)

BY_KEY: dict[str, Metric] = {m.key: m for m in METRICS}
QUALITY_KEYS: tuple[str, ...] = tuple(m.key for m in METRICS if m.family is Family.QUALITY)


def get(key: str) -> Metric:
    """The metric with this key; KeyError names the unknown key."""
    try:
        return BY_KEY[key]
    except KeyError:
        raise KeyError(f"unknown metric {key!r}") from None


def count_metric(key: str) -> str | None:
    """The count ``key`` is computed over (registry), e.g. reply_rate → received."""
    metric = BY_KEY.get(key)
    return metric.count_metric if metric is not None else None
