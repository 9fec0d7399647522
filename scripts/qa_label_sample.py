"""Draw the stratified sample of JDDC chat messages that kefu's QA evaluation set labels.

    python scripts/qa_label_sample.py [--data ../shared/data/jddc_chats/chat_0.1per.txt]
        [--out tests/qa/data/jddc_labels.csv] [--sheet /tmp/label_sheet.txt]

Run once, on 2026-12-01, before any rule was changed: the strata use the rules
of that day (commit 7e99d29) plus the frozen candidate patterns below, not the
rules tuned later. To reproduce the sample exactly, run this script from a
checkout of 7e99d29's src (the QA rules have changed since); it refuses to
overwrite an existing labels file. Every message of
a stratum has the same inclusion probability n/N; its design weight is N/n.
The csv holds references and empty labels only (the JDDC texts may not be
redistributed); ``--sheet`` writes a private labelling sheet (text plus the two
previous turns, in shuffled order, without any rule output) outside the repo.
"""

from __future__ import annotations

import argparse
import csv
import random
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from kefu.qa import flag_messages  # noqa: E402
from kefu.qa.evaluation import LABELS, half_of, read_jddc  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SEED = 20261201
# Frozen on the sampling day: wide nets for the rare classes (brush-offs,
# refusals, apologies; buyer waiting, price protection, distrust).
AGENT_TOP = re.compile(
    r"没办法|没有办法|没法|无法|自己|前台|看到|看得到|不知道|不清楚|规定|做不到|办不到|不支持"
)
AGENT_HOT = re.compile(r"不能|不可以|查看|只能|抱歉|不好意思|对不起|理解|着急|放心|辛苦|久等|不便")
BUYER_TOP = re.compile(
    r"还没|没动静|到底|降价|保价|价保|不敢|不信|骗|投诉|差评|等了|一直|不满|失望|[!！]|[?？]{2}"
    r"|什么意思|凭什么|不给|不是说|垃圾|烦|急|慢"
)
BUYER_HOT = re.compile(r"怎么|为什么|几天|不行|差|退|还是|又")
SAMPLE_SIZES = {
    "agent_top": 150, "agent_hot": 130, "agent_warm": 90, "agent_cold": 150,
    "buyer_top": 200, "buyer_hot": 120, "buyer_warm": 110, "buyer_cold": 130,
}  # fmt: skip


def stratum(is_agent: bool, text: str, rule_hit: bool, negative: bool) -> str:
    role = "agent" if is_agent else "buyer"
    top, hot = (AGENT_TOP, AGENT_HOT) if is_agent else (BUYER_TOP, BUYER_HOT)
    if rule_hit or top.search(text):
        return f"{role}_top"
    if hot.search(text):
        return f"{role}_hot"
    return f"{role}_warm" if negative else f"{role}_cold"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path,
                        default=ROOT.parent / "shared/data/jddc_chats/chat_0.1per.txt")
    parser.add_argument("--out", type=Path, default=ROOT / "tests/qa/data/jddc_labels.csv")
    parser.add_argument("--sheet", type=Path, default=Path("/tmp/label_sheet.txt"))
    args = parser.parse_args()
    if args.out.exists():
        sys.exit(f"{args.out} exists (it holds the labels): choose another --out")
    messages = read_jddc(args.data)
    flags = flag_messages([m.text for m in messages], [m.is_agent for m in messages])
    hit = [
        any(flags.column(c)[i].as_py() for c in ("forbidden", "negative", "empathy", "upset"))
        for i in range(len(messages))
    ]
    sentiment = flags.column("sentiment").to_pylist()
    strata: dict[str, list[int]] = {name: [] for name in SAMPLE_SIZES}
    for i, m in enumerate(messages):
        if m.text.strip():
            strata[stratum(m.is_agent, m.text, hit[i], sentiment[i] < 0)].append(i)
    rng = random.Random(SEED)
    chosen: list[tuple[int, str, float]] = []
    for name, size in SAMPLE_SIZES.items():
        pool = strata[name]
        take = rng.sample(pool, min(size, len(pool)))
        chosen += [(i, name, len(pool) / len(take)) for i in take]
        print(f"{name}: {len(take)} of {len(pool)}")
    chosen.sort()
    with args.out.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["line", "session_id", "role", "stratum", "half", "weight", *LABELS])
        for i, name, weight in chosen:
            m = messages[i]
            role = "agent" if m.is_agent else "buyer"
            writer.writerow([
                m.line, m.session_id, role, name, half_of(m.session_id), f"{weight:.6f}",
                *[""] * len(LABELS),
            ])
    order = list(chosen)
    rng.shuffle(order)
    with args.sheet.open("w", encoding="utf-8") as sheet:
        for i, _, _ in order:
            m = messages[i]
            context = [p for p in messages[max(0, i - 2):i] if p.session_id == m.session_id]
            for p in context:
                sheet.write(f"    {'A' if p.is_agent else 'B'}: {p.text[:160]}\n")
            sheet.write(f"{m.line} {'A' if m.is_agent else 'B'}>> {m.text}\n\n")


if __name__ == "__main__":
    main()
