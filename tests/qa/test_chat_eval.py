"""Precision and recall of the checks on the project's labelled JDDC set (docs/qa.md).

The set (tests/qa/data/jddc_labels.csv) holds references and labels only; the
texts come from shared/data at run time, so the measured tests skip where it is
absent. The floors are those of kefu issue 12 on the whole set; the per-half
floors are regression guards a little under today's figures, so that a rule
change that helps the tune half and hurts the held-out half is caught.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from kefu.qa.evaluation import (
    FLOORS,
    LABELS,
    ChatMessage,
    LabelledMessage,
    Score,
    evaluate,
    half_of,
    read_jddc,
    read_labels,
    score,
    wilson,
)

from ._data import require_shared_data

LABELS_CSV = Path(__file__).parent / "data" / "jddc_labels.csv"
BUYER_LABELS = {"upset", "negative"}

# Regression guards per half: (check, measure, half) -> floor, about 0.05
# under the figures of docs/qa.md (2026-12-01).
HALF_FLOORS = {
    ("buyer_upset", "f1", "tune"): 0.85,
    ("buyer_upset", "f1", "held_out"): 0.44,
    ("chat_negative (buyer)", "precision", "tune"): 0.62,
    ("chat_negative (buyer)", "precision", "held_out"): 0.40,
    ("forbidden", "precision", "held_out"): 0.9,
    ("forbidden", "recall", "held_out"): 0.55,
    ("chat_negative (agent)", "precision", "held_out"): 0.9,
    ("policy_refusal", "precision", "held_out"): 0.75,
    ("empathy", "precision", "held_out"): 0.9,
    ("polite", "f1", "held_out"): 0.95,
}


@pytest.fixture(scope="module")
def rows() -> list[LabelledMessage]:
    return read_labels(LABELS_CSV)


@pytest.fixture(scope="module")
def scores(rows: list[LabelledMessage]) -> dict[tuple[str, str], Score]:
    messages = read_jddc(require_shared_data("jddc_chats", "chat_0.1per.txt"))
    return {(s.check, s.half): s for s in evaluate(messages, rows)}


class TestLabelledSet:
    """The file itself: always checked, no shared data needed."""

    def test_size_roles_and_rare_classes(self, rows: list[LabelledMessage]) -> None:
        assert len(rows) >= 1000
        roles = Counter(r.role for r in rows)
        assert roles["agent"] >= 500 and roles["buyer"] >= 500
        positives = Counter(name for r in rows for name, on in r.labels.items() if on)
        assert positives["rude"] >= 10 and positives["upset"] >= 100
        assert positives["empathy"] >= 50 and positives["policy_refusal"] >= 50

    def test_labels_apply_by_role(self, rows: list[LabelledMessage]) -> None:
        for r in rows:
            expected = BUYER_LABELS if r.role == "buyer" else set(LABELS) - {"upset"}
            assert set(r.labels) == expected, r.line
            if r.role == "buyer" and r.labels["negative"]:
                assert r.labels["upset"], f"line {r.line}: negative buyer turns are upset"

    def test_one_weight_per_stratum_and_halves_by_session(
        self, rows: list[LabelledMessage]
    ) -> None:
        weights: dict[str, set[float]] = {}
        for r in rows:
            weights.setdefault(r.stratum, set()).add(r.weight)
            assert r.half == half_of(r.session_id)
            assert r.stratum.startswith(r.role)
        assert all(len(w) == 1 and min(w) >= 1 for w in weights.values())
        assert len({r.line for r in rows}) == len(rows)


class TestScoring:
    """The weighted estimator and the intervals, on hand-made rows."""

    @staticmethod
    def _row(line: int, weight: float, positive: bool, stratum: str = "s") -> LabelledMessage:
        return LabelledMessage(line, f"sess{line}", "agent", stratum, "tune", weight,
                               {"rude": positive})

    def test_design_weights_count_each_message_as_its_stratum_share(self) -> None:
        rows = [self._row(1, 1.0, True), self._row(2, 9.0, False), self._row(3, 1.0, True)]
        # flagged 1 (right, weight 1) and 2 (wrong, weight 9); missed 3 (weight 1)
        result = score("x", "tune", rows, "rude", [True, True, False], rounds=50)
        assert result.precision == pytest.approx(1 / 10)
        assert result.recall == pytest.approx(1 / 2)
        assert result.f1 == pytest.approx(2 * 1 / (2 * 1 + 9 + 1))
        assert (result.true_positives, result.flagged, result.positives) == (1, 2, 2)

    def test_wilson_interval(self) -> None:
        low, high = wilson(8, 8)
        assert low == pytest.approx(0.676, abs=1e-3) and high == pytest.approx(1.0)
        low, high = wilson(5, 10)
        assert low == pytest.approx(0.2366, abs=1e-3) and high == pytest.approx(0.7634, abs=1e-3)


@pytest.mark.parametrize(("check", "measure"), list(FLOORS))
def test_issue_floors_on_the_whole_set(
    scores: dict[tuple[str, str], Score], check: str, measure: str
) -> None:
    assert getattr(scores[(check, "all")], measure) >= FLOORS[(check, measure)]


@pytest.mark.parametrize(("check", "measure", "half"), list(HALF_FLOORS))
def test_regression_floors_per_half(
    scores: dict[tuple[str, str], Score], check: str, measure: str, half: str
) -> None:
    assert getattr(scores[(check, half)], measure) >= HALF_FLOORS[(check, measure, half)]


def test_the_model_alone_is_no_chat_verdict(scores: dict[tuple[str, str], Score]) -> None:
    """Why qa scan's `negative` (sentiment < 0) feeds no metric: precision ~0.1."""
    assert scores[("sentiment < 0 (buyer)", "all")].precision < 0.2
    assert scores[("sentiment < 0 (agent)", "all")].precision < 0.1


def test_a_missing_line_is_an_error() -> None:
    messages = [ChatMessage(1, "s", True, "您好")]
    rows = [LabelledMessage(2, "s", "agent", "agent_cold", "tune", 1.0, {"polite": True})]
    with pytest.raises(ValueError, match="not in the chat file"):
        evaluate(messages, rows, verdicts={"polite": np.array([True])})
