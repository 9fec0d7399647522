"""Precision and recall of the checks on the project's labelled JDDC sets (docs/qa.md).

The first set (tests/qa/data/jddc_labels.csv, halves tune and held_out), the
fresh test batch (jddc_labels_test.csv, half test) and the third batch
(jddc_labels_test2.csv, half test2) hold references and labels only; the texts
come from shared/data at run time, so the measured tests skip where it is absent.
Since the third round of rules (2026-12-01) the errors of the first set and of
the fresh batch were read, so their figures here are regression guards a
little under today's, no test of the rules. The floors of kefu issue 12 decide
which verdicts the quality metrics use (kefu.qa.floors.MEETS_FLOOR) once
measured on the third batch; here a verdict that MEETS_FLOOR uses must at least
meet its floors on the fresh batch. The third batch was measured once, by hand,
on the frozen rules of round 3 (commit 24dbd4f, docs/qa.md "The third batch:
measured once"); MEETS_FLOOR must agree with that measurement wherever the batch
can show a figure.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from kefu.qa.evaluation import (
    LABELS,
    SESSION_HALVES,
    ChatMessage,
    LabelledMessage,
    Score,
    evaluate,
    half_of,
    read_jddc,
    read_labels,
    score,
    verdicts_meeting_floors,
    wilson,
)
from kefu.qa.floors import MEETS_FLOOR

from ._data import require_shared_data

LABELS_CSV = Path(__file__).parent / "data" / "jddc_labels.csv"
TEST_CSV = Path(__file__).parent / "data" / "jddc_labels_test.csv"
TEST2_CSV = Path(__file__).parent / "data" / "jddc_labels_test2.csv"
BUYER_LABELS = {"upset", "negative"}

# Regression guards: (check, measure, half) -> floor, about 0.05 under the figures
# of docs/qa.md (2026-12-01, third round of rules; every half was read for tuning).
GUARDS = {
    ("buyer_upset", "f1", "tune"): 0.89,
    ("buyer_upset", "f1", "held_out"): 0.79,
    ("buyer_upset", "f1", "test"): 0.78,
    ("buyer_upset", "f1", "all"): 0.82,
    ("chat_negative (buyer)", "precision", "tune"): 0.7,
    ("chat_negative (buyer)", "precision", "held_out"): 0.78,
    ("chat_negative (buyer)", "precision", "test"): 0.8,
    ("chat_negative (buyer)", "precision", "all"): 0.76,
    ("forbidden", "precision", "held_out"): 0.95,
    ("forbidden", "recall", "held_out"): 0.58,
    ("forbidden", "precision", "test"): 0.95,
    ("forbidden", "recall", "test"): 0.73,
    ("forbidden", "precision", "all"): 0.95,
    ("forbidden", "recall", "all"): 0.75,
    ("chat_negative (agent)", "precision", "all"): 0.95,
    ("policy_refusal", "precision", "all"): 0.76,
    ("empathy", "precision", "held_out"): 0.95,
    ("empathy", "precision", "test"): 0.92,
    ("empathy", "precision", "all"): 0.93,
    ("polite", "f1", "held_out"): 0.95,
    ("polite", "f1", "test"): 0.95,
    ("polite", "f1", "all"): 0.95,
}


@pytest.fixture(scope="module")
def rows() -> list[LabelledMessage]:
    """The measured sets: the third batch stays out until it is measured once."""
    return read_labels(LABELS_CSV, TEST_CSV)


@pytest.fixture(scope="module")
def every_row() -> list[LabelledMessage]:
    """Every labelled file, for the checks of the files themselves."""
    return read_labels(LABELS_CSV, TEST_CSV, TEST2_CSV)


def batch_of(row: LabelledMessage) -> str:
    """first (both halves of jddc_labels.csv), test or test2."""
    return "first" if row.half in SESSION_HALVES else row.half


@pytest.fixture(scope="module")
def scores(rows: list[LabelledMessage]) -> dict[tuple[str, str], Score]:
    messages = read_jddc(require_shared_data("jddc_chats", "chat_0.1per.txt"))
    return {(s.check, s.half): s for s in evaluate(messages, rows)}


class TestLabelledSet:
    """The files themselves: always checked, no shared data needed."""

    def test_size_roles_and_rare_classes(self, every_row: list[LabelledMessage]) -> None:
        for batch, size in (("first", 1000), ("test", 500), ("test2", 800)):
            chosen = [r for r in every_row if batch_of(r) == batch]
            assert len(chosen) >= size
            roles = Counter(r.role for r in chosen)
            assert roles["agent"] >= 0.4 * size and roles["buyer"] >= 0.4 * size
        positives = Counter(name for r in every_row for name, on in r.labels.items() if on)
        assert positives["rude"] >= 10 and positives["upset"] >= 100
        assert positives["empathy"] >= 50 and positives["policy_refusal"] >= 50

    def test_the_third_batch_is_every_message_of_89_sessions(
        self, every_row: list[LabelledMessage]
    ) -> None:
        """A census (docs/qa.md, "The third batch"): 399 agent and 410 buyer
        messages; the top strata have no message in those sessions."""
        third = [r for r in every_row if r.half == "test2"]
        assert len({r.session_id for r in third}) == 89
        assert Counter(r.role for r in third) == {"agent": 399, "buyer": 410}
        assert Counter(r.stratum for r in third) == {
            "agent_hot": 15, "agent_warm": 68, "agent_cold": 316,
            "buyer_hot": 24, "buyer_warm": 158, "buyer_cold": 228,
        }

    def test_labels_apply_by_role(self, every_row: list[LabelledMessage]) -> None:
        for r in every_row:
            expected = BUYER_LABELS if r.role == "buyer" else set(LABELS) - {"upset"}
            assert set(r.labels) == expected, r.line
            if r.role == "buyer" and r.labels["negative"]:
                assert r.labels["upset"], f"line {r.line}: negative buyer turns are upset"

    def test_halves_by_session_and_batches_of_other_sessions(
        self, every_row: list[LabelledMessage]
    ) -> None:
        sessions: dict[str, set[str]] = {}
        for r in every_row:
            assert r.stratum.startswith(r.role)
            if batch_of(r) == "first":
                assert r.half == half_of(r.session_id)
            sessions.setdefault(batch_of(r), set()).add(r.session_id)
        assert set(sessions) == {"first", "test", "test2"}
        for batch, ids in sessions.items():
            for other, other_ids in sessions.items():
                assert other == batch or not ids & other_ids, (batch, other)
        assert len({r.line for r in every_row}) == len(every_row)

    def test_weights_count_each_stratum_of_the_whole_file_in_every_batch(
        self, every_row: list[LabelledMessage]
    ) -> None:
        """One weight per stratum and batch, N/n with N the stratum's size in the whole
        chat file: so every batch estimates figures over all messages alike."""
        weights: dict[tuple[str, str], set[float]] = {}
        sampled: Counter[tuple[str, str]] = Counter()
        for r in every_row:
            key = (batch_of(r), r.stratum)
            weights.setdefault(key, set()).add(r.weight)
            sampled[key] += 1
        assert all(len(w) == 1 and min(w) >= 1 for w in weights.values())
        size = {key: round(next(iter(w)) * sampled[key]) for key, w in weights.items()}
        for (batch, stratum), n in size.items():
            assert n == size[("first", stratum)], (batch, stratum)
        # the third batch's, by hand: N of the whole file over its census n
        assert size[("test2", "agent_cold")] == 4112 and sampled[("test2", "agent_cold")] == 316
        assert size[("test2", "buyer_warm")] == 2192 and sampled[("test2", "buyer_warm")] == 158


def test_the_third_batch_holds_every_message_of_its_sessions(
    every_row: list[LabelledMessage],
) -> None:
    """A census: every non-empty message of the 89 sessions is labelled, none twice."""
    messages = read_jddc(require_shared_data("jddc_chats", "chat_0.1per.txt"))
    third = {r.line for r in every_row if r.half == "test2"}
    sessions = {r.session_id for r in every_row if r.half == "test2"}
    expected = {m.line for m in messages if m.session_id in sessions and m.text.strip()}
    assert third == expected


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


def test_verdicts_in_use_meet_their_floors_on_the_fresh_batch(
    scores: dict[tuple[str, str], Score],
) -> None:
    """A verdict the quality metrics use (kefu.qa.floors) must meet its floors on the
    fresh batch. Since round 3 that batch is tuning data, so meeting them there does
    not turn a verdict on: that waits for the third batch (docs/qa.md)."""
    met = verdicts_meeting_floors(list(scores.values()))
    assert set(met) == set(MEETS_FLOOR)
    assert all(met[verdict] for verdict, used in MEETS_FLOOR.items() if used)


@pytest.fixture(scope="module")
def third_batch_scores() -> list[Score]:
    messages = read_jddc(require_shared_data("jddc_chats", "chat_0.1per.txt"))
    return evaluate(messages, read_labels(TEST2_CSV))


# The third batch has no labelled empathy (and no upset buyer whom the agent
# answered with it), so empathy keeps the verdict of its blind measurement on
# the fresh batch in round 2 (precision 0.97; its rules have not changed since).
NOT_SHOWN_ON_THE_THIRD_BATCH = {"empathy"}


def test_verdicts_in_use_are_those_meeting_their_floors_on_the_third_batch(
    third_batch_scores: list[Score],
) -> None:
    """MEETS_FLOOR is the blind measurement: on the third batch polite meets its
    floor (F1 0.99) and upset, both chat_negative verdicts and forbidden miss
    theirs (buyer_upset F1 0.38; no rude agent message found), docs/qa.md."""
    met = verdicts_meeting_floors(third_batch_scores, half="test2")
    assert set(met) == set(MEETS_FLOOR)
    shown = {v: met[v] for v in met if v not in NOT_SHOWN_ON_THE_THIRD_BATCH}
    assert shown == {v: MEETS_FLOOR[v] for v in shown}
    upset = next(s for s in third_batch_scores if (s.check, s.half) == ("buyer_upset", "test2"))
    assert (upset.positives, upset.flagged, upset.true_positives) == (11, 6, 4)
    empathy = next(s for s in third_batch_scores if (s.check, s.half) == ("empathy", "test2"))
    assert (empathy.positives, empathy.flagged) == (0, 0)


@pytest.mark.parametrize(("check", "measure", "half"), list(GUARDS))
def test_regression_guards(
    scores: dict[tuple[str, str], Score], check: str, measure: str, half: str
) -> None:
    assert getattr(scores[(check, half)], measure) >= GUARDS[(check, measure, half)]


def test_the_model_alone_is_no_chat_verdict(scores: dict[tuple[str, str], Score]) -> None:
    """Why qa scan's `negative` (sentiment < 0) feeds no metric: precision ~0.1."""
    assert scores[("sentiment < 0 (buyer)", "all")].precision < 0.2
    assert scores[("sentiment < 0 (agent)", "all")].precision < 0.1


def test_a_missing_line_is_an_error() -> None:
    messages = [ChatMessage(1, "s", True, "您好")]
    rows = [LabelledMessage(2, "s", "agent", "agent_cold", "tune", 1.0, {"polite": True})]
    with pytest.raises(ValueError, match="not in the chat file"):
        evaluate(messages, rows, verdicts={"polite": np.array([True])})


def test_a_line_labelled_twice_or_an_unknown_half_is_an_error(tmp_path: Path) -> None:
    header = ",".join(["line", "session_id", "role", "stratum", "weight", "half", *LABELS]) + "\n"
    row = "7,s,buyer,buyer_top,2.5,{half},1,0,,,,\n"
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    first.write_text(header + row.format(half="tune"), encoding="utf-8")
    second.write_text(header + row.format(half="test"), encoding="utf-8")
    assert [r.half for r in read_labels(first)] == ["tune"]
    with pytest.raises(ValueError, match="chat line 7 labelled twice"):
        read_labels(first, second)
    second.write_text(header + row.format(half="test2"), encoding="utf-8")
    assert [r.half for r in read_labels(second)] == ["test2"]
    second.write_text(header + row.format(half="later"), encoding="utf-8")
    with pytest.raises(ValueError, match="half 'later'"):
        read_labels(second)
