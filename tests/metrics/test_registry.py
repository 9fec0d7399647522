"""The registry is the one list of metrics: everything computed, documented, labelled."""

from __future__ import annotations

from pathlib import Path

from kefu.metrics.registry import BY_KEY, METRICS
from tests.metrics.conftest import dataset, msg, run

DOCS = Path(__file__).resolve().parents[2] / "docs" / "metrics.md"


def test_every_metric_is_computed_in_registry_order() -> None:
    result = run(dataset([msg("s1:amy", "u1", "buyer", "2024-06-01 10:00:00")]), qa=True)
    assert list(result.agents["s1:amy"]) == [m.key for m in METRICS]
    assert result.keys == tuple(m.key for m in METRICS)


def test_every_metric_is_documented() -> None:
    text = DOCS.read_text(encoding="utf-8")
    missing = [m.key for m in METRICS if f"| {m.key} | {m.label_zh} |" not in text]
    assert not missing, f"docs/metrics.md lacks {missing}"


def test_keys_are_unique_and_labelled() -> None:
    assert len(BY_KEY) == len(METRICS)
    assert all(m.label_zh and m.label_en and m.definition for m in METRICS)
