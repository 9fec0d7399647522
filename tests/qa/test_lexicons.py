"""Lexicon files: format, per-shop overrides and the matcher built from them."""

from __future__ import annotations

from pathlib import Path

import pytest

from kefu.qa import AGENT_CHECKS, BUYER_CHECKS, find_hits, load_lexicons
from kefu.qa.lexicons import LEXICON_DIR, LEXICON_NAMES


def test_every_check_has_a_rich_shipped_lexicon() -> None:
    lexicons = load_lexicons()
    for name in (*AGENT_CHECKS, *BUYER_CHECKS):
        assert (LEXICON_DIR / f"{name}.txt").is_file()
        assert len(lexicons.phrases[name]) >= 20, name
    assert "不是" in lexicons.phrases["negation"]


def test_comments_and_blank_lines_are_ignored() -> None:
    lexicons = load_lexicons()
    for phrases in lexicons.phrases.values():
        assert all(p and not p.startswith("#") for p in phrases)


def test_override_adds_and_removes(tmp_path: Path) -> None:
    (tmp_path / "forbidden.txt").write_text("# shop rules\n找别家去\n-不清楚\n", encoding="utf-8")
    (tmp_path / "polite.txt").write_text("-!亲自\n", encoding="utf-8")
    shop = load_lexicons(tmp_path)
    assert "找别家去" in shop.phrases["forbidden"]
    assert "不清楚" not in shop.phrases["forbidden"]
    assert "亲自" not in shop.exceptions["polite"]
    checks = {"forbidden", "polite"}
    assert [h.phrase for h in find_hits("你找别家去吧", checks, shop)] == ["找别家去"]
    assert find_hits("这个不清楚", checks, shop) == []
    assert [h.phrase for h in find_hits("我亲自看", checks, shop)] == ["亲"]
    # The built-ins are untouched by an override.
    assert "不清楚" in load_lexicons().phrases["forbidden"]


def test_override_folder_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="does not exist"):
        load_lexicons(tmp_path / "missing")
    (tmp_path / "forbiden.txt").write_text("x\n", encoding="utf-8")
    with pytest.raises(ValueError, match="unknown lexicon file"):
        load_lexicons(tmp_path)


def test_lexicon_names_are_the_checks() -> None:
    assert set(LEXICON_NAMES) == {*AGENT_CHECKS, *BUYER_CHECKS, "negation"}
