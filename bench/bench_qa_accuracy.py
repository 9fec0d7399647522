"""How right the QA checks are on real chats: precision, recall and F1 per check.

    .venv/bin/python bench/bench_qa_accuracy.py [--data ../shared/data/jddc_chats/chat_0.1per.txt]

Reads the labelled set (tests/qa/data/jddc_labels.csv: references and labels
only) and the JDDC texts it points at, runs flag_messages with conversation
context over the whole file, and prints weighted precision, recall and F1 with
95 % bootstrap intervals (over sessions, within strata) and unweighted Wilson
intervals, for the tune half, the held-out half and the whole set, then the
floors of docs/qa.md and whether each is met. Takes about 10 s.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from kefu.qa.evaluation import (  # noqa: E402
    evaluate,
    floor_report,
    format_table,
    read_jddc,
    read_labels,
)


def main() -> None:
    parser = argparse.ArgumentParser(description="QA accuracy on the labelled JDDC set")
    parser.add_argument(
        "--data", type=Path, default=ROOT.parent / "shared/data/jddc_chats/chat_0.1per.txt"
    )
    parser.add_argument("--labels", type=Path, default=ROOT / "tests/qa/data/jddc_labels.csv")
    args = parser.parse_args()
    if not args.data.exists():
        sys.exit(f"{args.data} is absent: the JDDC sample is needed (see shared/data/README.md)")
    messages = read_jddc(args.data)
    rows = read_labels(args.labels)
    scores = evaluate(messages, rows)
    print(f"{len(rows):,} labelled messages of {len(messages):,} in {args.data.name}\n")
    print(format_table(scores))
    print("\nfloors (point estimates):")
    for check, measure, half, value, floor, met in floor_report(scores):
        print(f"  {check:24} {measure:9} {half:8} {value:.2f} (floor {floor:.2f}) "
              f"{'met' if met else 'NOT MET'}")


if __name__ == "__main__":
    main()
