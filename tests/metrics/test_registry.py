"""The registry is the one list of metrics: everything computed, documented, labelled."""

from __future__ import annotations

import datetime as dt
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


def test_a_run_for_some_keys_gives_those_keys_exactly_as_a_full_run() -> None:
    """A scheme's segments compute only what they score; the values are the same."""
    ds = dataset([
        msg("s1:amy", "u1", "buyer", "2024-06-01 10:00:00", content="在吗"),
        msg("s1:amy", "u1", "agent", "2024-06-01 10:00:20", content="亲，在的"),
        msg("s1:bob", "u2", "buyer", "2024-06-01 11:00:00", content="太差了"),
        msg("s1:bob", "u2", "agent", "2024-06-01 11:02:00", content="非常抱歉"),
    ])
    from kefu.metrics import MetricParams, compute

    day = dt.date(2024, 6, 1)
    full = compute(ds, day, day, MetricParams(), qa=True)
    keys = {"avg_response_s_p90", "reply_rate", "polite_rate", "received"}
    part = compute(ds, day, day, MetricParams(), qa=True, keys=keys)
    assert set(part.keys) == keys
    for level in ("agents", "teams", "shops"):
        for entity, values in getattr(part, level).items():
            assert values == {k: getattr(full, level)[entity][k] for k in keys}
