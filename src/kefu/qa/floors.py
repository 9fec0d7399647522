"""Which chat verdicts meet the floors of kefu issue 12 on a blind batch.

The quality metrics use a verdict only when it meets its floor on the batch
that docs/qa.md calls honest: the fresh test batch, labelled blind and measured
once ("What each quality metric uses now"); since round 3, the third batch.
A verdict whose floor is not met, or cannot be shown (no flag at all), feeds no
metric: the metric is unavailable and schemes rescale as for any unavailable
metric. Since the third round of
rules (2026-12-01) read the fresh batch's errors, that batch is tuning data:
the third batch (jddc_labels_test2.csv), labelled blind and measured once on
the frozen round-3 rules, decides; tests/qa/test_chat_eval.py fails when this
table and that measurement disagree.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType

MEETS_FLOOR: Mapping[str, bool] = MappingProxyType({
    "polite": True,  # third batch: polite F1 0.99 (floor 0.95)
    "empathy": True,  # fresh batch, round 2: precision 0.97 (floor 0.80); none in the third
    "upset": False,  # third batch: buyer_upset F1 0.38, 4 of 11 found (floor 0.60)
    "buyer_chat_negative": False,  # third batch: 0 of 1 flag right (floor 0.50)
    "forbidden": False,  # third batch: no flag, 0 of 1 rude message (floor 0.50)
    "agent_chat_negative": False,  # third batch: no flag; precision (floor 0.50) not shown
})
"""verdict -> whether it meets every floor of the issue on the blind batch that measured it."""


def usable(*verdicts: str, trusted: Iterable[str] = ()) -> bool:
    """True when every named verdict meets its floors or the shop trusts it
    (KeyError names an unknown one)."""
    trusted = set(trusted)
    return all(MEETS_FLOOR[verdict] or verdict in trusted for verdict in verdicts)


def trusted_verdicts(names: Iterable[str]) -> frozenset[str]:
    """The verdicts a shop counts although kefu's blind measurement misses their floor
    (docs/qa.md, "Counting a verdict kefu has not shown"); ValueError for unknown names."""
    chosen = frozenset(name.strip() for name in names if name.strip())
    unknown = sorted(chosen - set(MEETS_FLOOR))
    if unknown:
        raise ValueError(f"unknown QA verdict(s) {', '.join(unknown)}; "
                         f"known: {', '.join(MEETS_FLOOR)}")
    return chosen
