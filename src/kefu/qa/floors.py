"""Which chat verdicts meet the floors of kefu issue 12 on the fresh test batch.

The quality metrics use a verdict only when it meets its floor on the batch
that docs/qa.md calls honest: the fresh test batch, labelled blind and measured
once ("What each quality metric uses now"). A verdict whose floor is not met,
or cannot be shown (no flag at all), feeds no metric: the metric is unavailable
and schemes rescale as for any unavailable metric. Since the third round of
rules (2026-12-01) read the fresh batch's errors, that batch is tuning data: a
verdict is turned on here only after a measurement on the third batch, and
tests/qa/test_chat_eval.py fails when a verdict used here misses its floors on
the fresh batch.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

MEETS_FLOOR: Mapping[str, bool] = MappingProxyType({
    "polite": True,  # polite F1 0.98 (floor 0.95)
    "empathy": True,  # empathy precision 0.97 (floor 0.80)
    "upset": False,  # buyer_upset F1 0.48 (floor 0.60)
    "buyer_chat_negative": False,  # precision 0.47 (floor 0.50)
    "forbidden": False,  # recall 0.00, 0 of 3 rude messages (floor 0.50); no flag
    "agent_chat_negative": False,  # no flag: precision (floor 0.50) not shown; 0 of 3 found
})
"""verdict -> whether it meets every floor of the issue on the fresh test batch."""


def usable(*verdicts: str) -> bool:
    """True when every named verdict meets its floors (KeyError names an unknown one)."""
    return all(MEETS_FLOOR[verdict] for verdict in verdicts)
