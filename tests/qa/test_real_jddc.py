"""The checks on real JD customer-service chats (JDDC sample, shared/data/jddc_chats).

Hand verification (line numbers are 1-based lines of chat_0.1per.txt):
- polite: 60 agent messages drawn with ``random.Random(7).sample(agent_lines, 60)``
  were read one by one; the polite flag was right on all 60 (33 polite, e.g.
  line 9312 "亲爱的客户，还麻烦您提供下订单号", line 1941 "给您添麻烦了，您看…";
  27 without a polite phrase, e.g. line 9184 "是的 您取消一下哦", line 11745
  "这边帮您查看", line 9330 "有什么问题我可以帮您处理或解决呢?", which is a
  greeting formula but no polite phrase). Over all 6,029 agent messages the
  polite rate is 0.605.
- forbidden: every one of the 20 agent messages below was read; each really
  uses a forbidden phrase (mostly 没办法/没有办法, 不清楚, 不知道, 办不到).
  Line 10371 "要您自己查看的哦" is the borderline one (您自己查).
- agent_negative: no real hostile message exists in the sample; line 2097
  "财源滚滚" was a false 滚 hit and is now an exception.
- pii: 4 buyer messages, all real postal addresses (lines 5345, 8038, 10516, 11766).
- buyer_upset: all 43 buyer hits were read. Phrase hits are mostly right
  (line 232 "差评处" names the review page, a false hit); of the 12 hits from
  sentiment alone (<= -0.95, 6+ characters) about 5 are real anger or
  complaint (9417 "你们客服也不知道?", 7656 "什么意思? 看不懂", 6975), the others
  are plain questions about a problem (3523 "现在能不能退货", 7436 "签收完才能更改吗?").
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kefu.qa import flag_messages, scan_texts

from ._data import require_shared_data

FORBIDDEN_LINES = {
    897, 1328, 2009, 3632, 4475, 5371, 6138, 6386, 6390, 6764,
    7617, 8537, 8844, 9954, 10371, 10429, 10519, 10667, 11597, 11943,
}  # fmt: skip
PII_BUYER_LINES = {5345, 8038, 10516, 11766}


def _messages() -> Iterator[tuple[int, bool, str]]:
    path = require_shared_data("jddc_chats", "chat_0.1per.txt")
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            fields = line.rstrip("\n").split("\t")
            yield number, fields[2] == "1", fields[6]


@pytest.fixture(scope="module")
def jddc() -> list[tuple[int, bool, str]]:
    return list(_messages())


def test_polite_rate_of_agent_messages(jddc: list[tuple[int, bool, str]]) -> None:
    agent = [(n, t) for n, is_agent, t in jddc if is_agent]
    assert len(agent) == 6029
    table = flag_messages([t for _, t in agent], [True] * len(agent))
    polite = table.column("polite").to_pylist()
    assert 0.58 <= sum(polite) / len(agent) <= 0.63
    by_line = dict(zip((n for n, _ in agent), polite, strict=True))
    assert by_line[9312] and by_line[1941] and by_line[5340]
    assert not by_line[9184] and not by_line[11745] and not by_line[9330]


def test_forbidden_hits_are_the_hand_checked_lines(jddc: list[tuple[int, bool, str]]) -> None:
    agent = [(n, t) for n, is_agent, t in jddc if is_agent]
    table = flag_messages([t for _, t in agent], [True] * len(agent))
    forbidden = {
        n for (n, _), hit in zip(agent, table.column("forbidden").to_pylist(), strict=True) if hit
    }
    offsite = sum(table.column("offsite").to_pylist())
    negative = sum(table.column("negative").to_pylist())
    assert forbidden == FORBIDDEN_LINES
    assert offsite == 0  # JD agents never steer buyers off the platform in this sample
    assert negative <= 1


def test_buyer_pii_and_upset(jddc: list[tuple[int, bool, str]]) -> None:
    buyer = [(n, t) for n, is_agent, t in jddc if not is_agent]
    records = scan_texts([t for _, t in buyer], "buyer")
    pii = {
        n
        for (n, _), r in zip(buyer, records, strict=True)
        if any(h["check"] == "pii" for h in r["hits"])
    }
    assert pii == PII_BUYER_LINES
    upset = sum(any(h["check"] == "buyer_upset" for h in r["hits"]) for r in records)
    # 43 of 6,107 buyer turns (0.7%): JDDC buyers are mostly calm askers.
    assert 0.004 <= upset / len(buyer) <= 0.012


def test_flags_agree_with_scan_records(jddc: list[tuple[int, bool, str]]) -> None:
    """flag_messages and kefu qa scan judge every real message the same way."""
    texts = [t for _, _, t in jddc]
    is_agent = [a for _, a, _ in jddc]
    table = flag_messages(texts, is_agent).to_pylist()
    agent_records = scan_texts(texts, "agent")
    buyer_records = scan_texts(texts, "buyer")
    column_of = {"agent_negative": "negative", "buyer_upset": "upset"}
    for row, agent, agent_record, buyer_record in zip(
        table, is_agent, agent_records, buyer_records, strict=True
    ):
        record = agent_record if agent else buyer_record
        checks = {column_of.get(h["check"], h["check"]) for h in record["hits"]}
        assert {name for name, value in row.items() if value is True} == checks
        assert row["sentiment"] == pytest.approx(record["sentiment"], abs=5e-5)
