"""How right the QA checks are on real chats: precision, recall and F1 per check.

    .venv/bin/python bench/bench_qa_accuracy.py [--data ../shared/data/jddc_chats/chat_0.1per.txt]
        [--labels FILE ...] [--rules-src OTHER/src]

Reads the labelled sets (tests/qa/data/jddc_labels.csv, halves tune and
held_out, and jddc_labels_test.csv, the fresh batch ``test``: references and
labels only) and the JDDC texts they point at, runs flag_messages with
conversation context over the whole file, and prints weighted precision,
recall and F1 with 95 % bootstrap intervals (over sessions, within strata) and
unweighted Wilson intervals for tune, held_out, test and all, then the floors
of docs/qa.md and whether each is met. ``--rules-src`` measures the rules of
another checkout (e.g. main, for a before/after table): its flag_messages runs
in a child process. Takes about 10 s.

The third batch (``jddc_labels_test2.csv``, half ``test2``) is not read by
default: it is to be measured once, by passing every file with ``--labels``
(the first, the fresh batch and the third), after the rules to test are frozen
(docs/qa.md, "The third batch").
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from kefu.qa.evaluation import (  # noqa: E402
    HONEST_HALF,
    ChatMessage,
    evaluate,
    floor_report,
    format_table,
    predict,
    read_jddc,
    read_labels,
    verdicts_meeting_floors,
)

LABEL_FILES = [ROOT / "tests/qa/data/jddc_labels.csv", ROOT / "tests/qa/data/jddc_labels_test.csv"]
# Run in a child process whose sys.path starts with the other src.
_PREDICT_ELSEWHERE = """
import json, sys
sys.path.insert(0, sys.argv[1])
from kefu.qa.api import flag_messages
texts, agents, sessions = json.load(sys.stdin)
table = flag_messages(texts, agents, conversation=sessions)
out = {c: table.column(c).to_pylist() for c in table.column_names}
json.dump(out, sys.stdout)
"""


def verdicts_of(src: Path, messages: Sequence[ChatMessage]) -> dict[str, np.ndarray]:
    """predict()'s columns, computed by the kefu found in ``src``."""
    payload = json.dumps([[m.text for m in messages], [m.is_agent for m in messages],
                          [m.session_id for m in messages]])
    done = subprocess.run([sys.executable, "-c", _PREDICT_ELSEWHERE, str(src)], input=payload,
                          capture_output=True, text=True, check=True)
    table = json.loads(done.stdout)
    columns = {c: np.array(v, dtype=bool) for c, v in table.items() if c != "sentiment"}
    columns["sentiment_negative"] = np.round(np.array(table["sentiment"]), 4) < 0
    return columns


def main() -> None:
    parser = argparse.ArgumentParser(description="QA accuracy on the labelled JDDC set")
    parser.add_argument(
        "--data", type=Path, default=ROOT.parent / "shared/data/jddc_chats/chat_0.1per.txt"
    )
    parser.add_argument("--labels", type=Path, action="append",
                        help="a labels csv (repeatable; default: both files of the project)")
    parser.add_argument("--rules-src", type=Path, help="measure the kefu src of another checkout")
    args = parser.parse_args()
    if not args.data.exists():
        sys.exit(f"{args.data} is absent: the JDDC sample is needed (see shared/data/README.md)")
    messages = read_jddc(args.data)
    rows = read_labels(*(args.labels or LABEL_FILES))
    verdicts = verdicts_of(args.rules_src, messages) if args.rules_src else predict(messages)
    scores = evaluate(messages, rows, verdicts)
    source = f" (rules of {args.rules_src})" if args.rules_src else ""
    print(f"{len(rows):,} labelled messages of {len(messages):,} in {args.data.name}{source}\n")
    print(format_table(scores))
    print("\nfloors (point estimates):")
    for check, measure, half, value, floor, met in floor_report(scores):
        print(f"  {check:24} {measure:9} {half:8} {value:.2f} (floor {floor:.2f}) "
              f"{'met' if met else 'NOT MET'}")
    if any(r.half == HONEST_HALF for r in rows):
        print(f"\nverdicts meeting every floor on {HONEST_HALF} (tuning data since round 3: "
              "kefu.qa.floors.MEETS_FLOOR waits for the third batch, and may turn on only "
              "verdicts that are met here):")
        for verdict, met in verdicts_meeting_floors(scores).items():
            print(f"  {verdict:22} {met}")


if __name__ == "__main__":
    main()
