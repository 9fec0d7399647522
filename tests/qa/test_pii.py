"""Personal data in chat text: what is found, what is not, and masking."""

from __future__ import annotations

import pytest

from kefu.qa import find_pii, mask_pii
from kefu.qa.pii import valid_id_card


def kinds(text: str) -> list[tuple[str, str]]:
    return [(s.kind, text[s.start : s.end]) for s in find_pii(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("电话13812345678", [("mobile", "13812345678")]),
        ("打 138 1234 5678 找我", [("mobile", "138 1234 5678")]),
        ("138-1234-5678", [("mobile", "138-1234-5678")]),
        ("+86 13912345678", [("mobile", "+86 13912345678")]),
        ("１３８１２３４５６７８", [("mobile", "１３８１２３４５６７８")]),
        ("身份证11010519491231002X", [("id_card", "11010519491231002X")]),
        ("邮箱 abc.d@qq.com 谢谢", [("email", "abc.d@qq.com")]),
        ("寄到北京市朝阳区建国路88号", [("address", "北京市朝阳区建国路88号")]),
        ("幸福小区3栋2单元501室", [("address", "幸福小区3栋2单元501室")]),
        ("广东省深圳市南山区科技园路", [("address", "广东省深圳市南山区科技园路")]),
    ],
)
def test_finds_personal_data(text: str, expected: list[tuple[str, str]]) -> None:
    assert kinds(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "订单号 213812345678901",  # a mobile-like run inside a longer number
        "运单号1381234567890",
        "12812345678",  # 12x is no mobile prefix
        "身份证110105194912310021",  # checksum fails
        "上海市浦东新区",  # a district is not a personal address
        "这个问题3号处理",
        "您的订单号是12345",
        "",
    ],
)
def test_ignores_look_alikes(text: str) -> None:
    assert kinds(text) == []


def test_id_card_checksum() -> None:
    assert valid_id_card("11010519491231002X")
    assert valid_id_card("11010519491231002x")
    assert not valid_id_card("110105194912310021")
    assert not valid_id_card("1101051949123100")


def test_mask_keeps_length_and_mobile_ends() -> None:
    text = "电话138-1234-5678，邮箱 a@b.cn，住幸福小区3栋2单元501室"
    masked = mask_pii(text)
    assert len(masked) == len(text)
    assert "138-****-5678" in masked
    assert "a@b.cn" not in masked and "501室" not in masked
    assert masked.startswith("电话") and "邮箱" in masked
    assert mask_pii("") == ""
    assert mask_pii("没有个人信息") == "没有个人信息"
