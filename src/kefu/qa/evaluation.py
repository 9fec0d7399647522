"""Measuring the checks on a labelled set of real chat messages (docs/qa.md, "Evaluation on chats").

The set is references plus labels (``tests/qa/data/jddc_labels.csv``); the
texts are read at run time from the JDDC sample, which may not be copied.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

LABELS = ("upset", "negative", "rude", "policy_refusal", "polite", "empathy")
"""upset and negative apply to buyer rows; negative, rude, policy_refusal,
polite and empathy to agent rows (docs/qa.md has the labelling guide)."""


@dataclass(frozen=True)
class ChatMessage:
    """One line of a JDDC chat file (``line`` is 1-based)."""

    line: int
    session_id: str
    is_agent: bool
    text: str


def read_jddc(path: Path) -> list[ChatMessage]:
    """Every message of a JDDC chat file (tab-separated: session, user, is_agent, …, content)."""
    messages = []
    with Path(path).open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            fields = line.rstrip("\n").split("\t")
            if len(fields) < 7:
                raise ValueError(f"{path}, line {number}: expected 7 tab-separated fields")
            text = "\t".join(fields[6:])
            messages.append(ChatMessage(number, fields[0], fields[2] == "1", text))
    return messages
