"""Mapping profiles: how a shop's export maps onto the canonical tables.

A profile renames columns and translates values per table. The built-ins below
cover the usual Chinese exports (Qianniu, 咚咚, 飞鸽 …); a profile given by the
user is applied on top of them (its entries win). See docs/data.md.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from kefu.ingest.schema import TABLES

# Header → canonical column. Applied only to tables that have that column, so
# 状态 means sessions.status or orders.status depending on the file.
BUILTIN_COLUMN_ALIASES: dict[str, str] = {
    "客服": "agent_id",
    "客服账号": "agent_id",
    "客服id": "agent_id",
    "子账号": "agent_id",
    "接待客服": "agent_id",
    "买家": "buyer_id",
    "买家昵称": "buyer_id",
    "买家id": "buyer_id",
    "顾客": "buyer_id",
    "客户": "buyer_id",
    "发送时间": "sent_at",
    "时间": "sent_at",
    "消息时间": "sent_at",
    "内容": "content",
    "消息内容": "content",
    "发送方": "sender",
    "发送者": "sender",
    "角色": "sender",
    "店铺": "shop_id",
    "店铺名": "shop_id",
    "店铺id": "shop_id",
    "会话id": "conversation_id",
    "自动回复": "auto_reply",
    "订单号": "order_id",
    "订单编号": "order_id",
    "下单时间": "created_at",
    "创建时间": "created_at",
    "付款时间": "paid_at",
    "支付时间": "paid_at",
    "实付金额": "amount",
    "支付金额": "amount",
    "金额": "amount",
    "退款金额": "refund_amount",
    "评价时间": "rated_at",
    "评分": "score",
    "评价": "score",
    "满意度": "score",
    "评价内容": "comment",
    "售后单号": "case_id",
    "类型": "kind",
    "售后类型": "kind",
    "申请时间": "opened_at",
    "完结时间": "closed_at",
    "平台介入": "platform_intervened",
    "小二介入": "platform_intervened",
    "结果": "outcome",
    "开始时间": "started_at",
    "结束时间": "ended_at",
    "状态": "status",
    "姓名": "name",
    "组别": "team",
    "小组": "team",
    "岗位": "role",
}

# (table, column) → {export value (lower case) → canonical value}.
BUILTIN_VALUES: dict[tuple[str, str], dict[str, str]] = {
    ("messages", "sender"): {
        # wording of Qianniu, JD 咚咚, Pinduoduo and Douyin 飞鸽 exports
        **dict.fromkeys(["buyer", "customer", "client", "user", "买家", "顾客", "客户", "用户",
                         "消费者", "访客"], "buyer"),
        **dict.fromkeys(["agent", "seller", "staff", "客服", "卖家", "商家", "人工客服",
                         "卖家客服"], "agent"),
        # 店小蜜/阿里小蜜 are Taobao's bots; an auto-reply is treated exactly like a bot
        **dict.fromkeys(["bot", "robot", "机器人", "智能客服", "机器人客服", "店小蜜", "阿里小蜜",
                         "自动回复"], "bot"),
        **dict.fromkeys(["system", "系统", "系统消息", "系统通知"], "system"),
    },
    ("agents", "role"): {
        "presale": "presale",
        "aftersale": "aftersale",
        "both": "both",
        "售前": "presale",
        "售后": "aftersale",
        "售前售后": "both",
        "全部": "both",
    },
    ("ratings", "score"): {
        **{str(i): str(i) for i in range(1, 6)},
        "很满意": "5",
        "非常满意": "5",
        "满意": "4",
        "一般": "3",
        "不满意": "2",
        "很不满意": "1",
        "非常不满意": "1",
    },
    ("sessions", "status"): {
        "online": "online",
        "busy": "busy",
        "away": "away",
        "在线": "online",
        "忙碌": "busy",
        "挂起": "busy",
        "离开": "away",
        "离线": "away",
    },
    ("cases", "kind"): {
        "refund": "refund",
        "return": "return",
        "complaint": "complaint",
        "dispute": "dispute",
        "退款": "refund",
        "仅退款": "refund",
        "退货": "return",
        "退货退款": "return",
        "投诉": "complaint",
        "纠纷": "dispute",
        "维权": "dispute",
    },
    ("cases", "outcome"): {
        "resolved": "resolved",
        "buyer_won": "buyer_won",
        "seller_won": "seller_won",
        "withdrawn": "withdrawn",
        "已解决": "resolved",
        "买家胜": "buyer_won",
        "支持买家": "buyer_won",
        "卖家胜": "seller_won",
        "支持卖家": "seller_won",
        "撤销": "withdrawn",
        "已撤销": "withdrawn",
    },
}

BOOL_VALUES: dict[str, bool] = {
    **dict.fromkeys(["true", "1", "yes", "y", "是", "t"], True),
    **dict.fromkeys(["false", "0", "no", "n", "否", "f"], False),
}


class TableMapping(BaseModel):
    """How one export maps onto one canonical table."""

    model_config = ConfigDict(extra="forbid")

    columns: dict[str, str | None] = Field(
        default_factory=dict,
        description="export header → canonical column; null ignores the header",
    )
    values: dict[str, dict[str, str]] = Field(
        default_factory=dict,
        description="canonical column → {export value → canonical value}",
    )

    @field_validator("values", mode="before")
    @classmethod
    def values_as_text(cls, raw: object) -> object:
        # YAML reads 很满意: 5 as an int; values are matched and stored as text.
        if isinstance(raw, dict):
            return {
                col: {str(k): str(v).lower() if isinstance(v, bool) else str(v)
                      for k, v in (m or {}).items()}
                for col, m in raw.items()
            }
        return raw


class MappingProfile(BaseModel):
    """A user's mapping profile (YAML): per table, column renames and value translations."""

    model_config = ConfigDict(extra="forbid")

    name: str = ""
    tables: dict[str, TableMapping] = Field(default_factory=dict)
    fill_merged_cells: bool = Field(
        default=False,
        description="XLSX merged cells in the data: fill each row with the range's value "
        "(default: refuse them, naming the range)",
    )

    @field_validator("tables")
    @classmethod
    def known_tables_and_columns(cls, tables: dict[str, TableMapping]) -> dict[str, TableMapping]:
        for name, mapping in tables.items():
            if name not in TABLES:
                raise ValueError(f"unknown table {name!r}; expected one of {', '.join(TABLES)}")
            known = TABLES[name].column_index
            for header, target in mapping.columns.items():
                if target is not None and target not in known:
                    raise ValueError(
                        f"{name}.columns: {header!r} maps to unknown column {target!r}")
            for column in mapping.values:
                if column not in known:
                    raise ValueError(f"{name}.values: unknown column {column!r}")
        return tables

    def table(self, name: str) -> TableMapping:
        return self.tables.get(name, TableMapping())


def load_profile(path: Path) -> MappingProfile:
    """Read and validate a mapping profile; ValueError names what is wrong."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ValueError(f"cannot read mapping profile {path}: {exc}") from exc
    try:
        return MappingProfile.model_validate(raw or {})
    except ValidationError as exc:
        raise ValueError(f"invalid mapping profile {path}: {exc}") from exc


def column_mapping(headers: list[str], table: str, profile: MappingProfile) -> dict[str, str]:
    """Map export headers to canonical columns: profile first, then exact names, then aliases.

    Returns canonical column → header. When several headers claim one column, the
    first (in that order of precedence, then header order) wins.
    """
    columns = TABLES[table].column_index
    user = {k.strip().lower(): v for k, v in profile.table(table).columns.items()}
    chosen: dict[str, str] = {}
    tiers: list[dict[str, str]] = [{}, {}, {}]
    for header in headers:
        key = header.strip().lower()
        if key in user:
            target = user[key]
            if target is not None:
                tiers[0].setdefault(target, header)
            continue
        if key in columns:
            tiers[1].setdefault(key, header)
        elif BUILTIN_COLUMN_ALIASES.get(key) in columns:
            tiers[2].setdefault(BUILTIN_COLUMN_ALIASES[key], header)
    for tier in tiers:
        for column, header in tier.items():
            chosen.setdefault(column, header)
    return chosen


def value_mapping(table: str, column: str, profile: MappingProfile) -> dict[str, str]:
    """Export value (lower case, trimmed) → canonical value for an enum or score column."""
    mapping = dict(BUILTIN_VALUES.get((table, column), {}))
    for raw, canonical in profile.table(table).values.get(column, {}).items():
        mapping[raw.strip().lower()] = canonical
    return mapping


def bool_mapping(table: str, column: str, profile: MappingProfile) -> dict[str, bool]:
    mapping = dict(BOOL_VALUES)
    for raw, canonical in profile.table(table).values.get(column, {}).items():
        if canonical.lower() in BOOL_VALUES:
            mapping[raw.strip().lower()] = BOOL_VALUES[canonical.lower()]
    return mapping
