"""Draw a stratified sample of JDDC chat messages for kefu's QA evaluation set.

    python scripts/qa_label_sample.py [--data ../shared/data/jddc_chats/chat_0.1per.txt]
        [--out tests/qa/data/jddc_labels.csv] [--sheet /tmp/label_sheet.txt]
        [--rules-src DIR] [--exclude-sessions-of LABELS.csv --half test --seed N
         --sizes agent_top=105,...] (--exclude-sessions-of may be repeated)

Run once, on 2026-12-01, before any rule was changed: the strata use the rules
of that day (commit 7e99d29; its src is that of 5a271f8) plus the frozen
candidate patterns below, not the rules tuned later. To reproduce a sample
exactly, pass ``--rules-src`` a checkout of that src
(``git archive 5a271f8 src | tar -x -C /tmp/rules5a``, then
``--rules-src /tmp/rules5a/src``); the script refuses to overwrite an existing
labels file.

The first set (``jddc_labels.csv``): default options. Every message of a
stratum had the same inclusion probability n/N; its design weight is N/n.

The fresh test batch (``jddc_labels_test.csv``, drawn the same day after the
first set had been tuned on): ``--exclude-sessions-of
tests/qa/data/jddc_labels.csv --half test --seed 20261202 --sizes
agent_top=105,agent_hot=45,agent_warm=30,agent_cold=45,buyer_top=90,buyer_hot=65,buyer_warm=60,buyer_cold=65``.
Only sessions with no labelled message are drawn from, by the same strata.
Its weight is N/n with N the stratum's size in the **whole file**, so the
strata count in the whole file's proportions, as in the first set, and
precision and recall refer to all messages (see docs/qa.md, "The fresh test
batch").

The third batch (``jddc_labels_test2.csv``, 2026-12-01, a census of the 89
sessions left with no labelled message): ``--exclude-sessions-of`` given once per
earlier file (``jddc_labels.csv`` and ``jddc_labels_test.csv``), ``--half test2
--seed 20261203 --sizes
agent_top=0,agent_hot=15,agent_warm=68,agent_cold=316,buyer_top=0,buyer_hot=24,buyer_warm=158,buyer_cold=228``
(every message of each stratum in those sessions; the top strata are empty
there). Weights N/n as above.

The csv holds references and empty labels only (the JDDC texts may not be
redistributed); ``--sheet`` writes a private labelling sheet (text plus the two
previous turns, in shuffled order, without any rule output) outside the repo.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import random
import re
import sys
from pathlib import Path

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


def half_of(session_id: str) -> str:
    """kefu.qa.evaluation.half_of, copied: the sampling day's src predates it."""
    return ("tune", "held_out")[int(hashlib.md5(session_id.encode()).hexdigest()[:8], 16) % 2]


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--data", type=Path,
                        default=ROOT.parent / "shared/data/jddc_chats/chat_0.1per.txt")
    parser.add_argument("--out", type=Path, default=ROOT / "tests/qa/data/jddc_labels.csv")
    parser.add_argument("--sheet", type=Path, default=Path("/tmp/label_sheet.txt"))
    parser.add_argument("--rules-src", type=Path, default=ROOT / "src",
                        help="the kefu src whose rules define the strata (the sampling day's)")
    parser.add_argument("--exclude-sessions-of", type=Path, action="append", default=[],
                        help="a labels csv whose sessions are not drawn from")
    parser.add_argument("--half", default="", help="the half written for every row "
                        "(default: half_of(session))")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--sizes", default="",
                        help="stratum=n,... (default: the first set's sizes)")
    return parser.parse_args()


def main() -> None:
    args = _arguments()
    if args.out.exists():
        sys.exit(f"{args.out} exists (it holds the labels): choose another --out")
    sys.path.insert(0, str(args.rules_src))
    from kefu.qa import flag_messages
    from kefu.qa.evaluation import LABELS, read_jddc

    sizes = dict(SAMPLE_SIZES)
    for item in filter(None, args.sizes.split(",")):
        name, size = item.split("=")
        sizes[name] = int(size)
    excluded = {
        row["session_id"]
        for path in args.exclude_sessions_of
        for row in csv.DictReader(path.open(encoding="utf-8", newline=""))
    }
    messages = read_jddc(args.data)
    flags = flag_messages([m.text for m in messages], [m.is_agent for m in messages])
    hit = [
        any(flags.column(c)[i].as_py() for c in ("forbidden", "negative", "empathy", "upset"))
        for i in range(len(messages))
    ]
    sentiment = flags.column("sentiment").to_pylist()
    strata: dict[str, list[int]] = {name: [] for name in sizes}
    stratum_size = dict.fromkeys(sizes, 0)  # in the whole file
    for i, m in enumerate(messages):
        if m.text.strip():
            name = stratum(m.is_agent, m.text, hit[i], sentiment[i] < 0)
            stratum_size[name] += 1
            if m.session_id not in excluded:
                strata[name].append(i)
    rng = random.Random(args.seed)
    chosen: list[tuple[int, str, float]] = []
    for name, size in sizes.items():
        pool = strata[name]
        take = rng.sample(pool, min(size, len(pool)))
        chosen += [(i, name, stratum_size[name] / len(take)) for i in take]
        print(f"{name}: {len(take)} of {len(pool)} (stratum: {stratum_size[name]})")
    chosen.sort()
    with args.out.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["line", "session_id", "role", "stratum", "weight", "half", *LABELS])
        for i, name, weight in chosen:
            m = messages[i]
            role = "agent" if m.is_agent else "buyer"
            writer.writerow([
                m.line, m.session_id, role, name, f"{weight:.6f}",
                args.half or half_of(m.session_id), *[""] * len(LABELS),
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
