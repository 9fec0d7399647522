"""Normalisation keeps one character per character, so spans stay valid."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from kefu.qa.normalize import normalise


@given(st.text())
def test_normalise_keeps_length(text: str) -> None:
    assert len(normalise(text)) == len(text)


def test_normalise_folds_width_case_and_traditional() -> None:
    assert normalise("ＡＢｃ１２３！？") == "abc123!?"
    assert normalise("謝謝，沒辦法") == "谢谢,没办法"
    assert normalise("简体中文不变") == "简体中文不变"
    assert normalise("😀㈱") == "😀㈱"  # expansions are kept as they are


def test_traditional_characters_come_from_opencc_and_simplified_text_stays() -> None:
    # 鬱 and 齣 are in no hand-written list: OpenCC's character table knows them
    assert normalise("憂鬱 一齣戲") == "忧郁 一出戏"
    # 著 is also a simplified character (著名): never changed
    assert normalise("著名品牌") == "著名品牌"
    assert normalise("妳的帳號") == "你的账号"  # chat variants kefu adds
