"""Every fact about a metric lives in the registry: no module keeps its own metric list."""

from __future__ import annotations

import ast
from pathlib import Path

from kefu.ingest.schema import TABLES
from kefu.metrics.registry import BY_KEY, METRICS

SRC = Path(__file__).resolve().parents[2] / "src" / "kefu"
REGISTRY = SRC / "metrics" / "registry.py"


def _metric_keys(node: ast.AST) -> set[str]:
    """Metric keys named in ``node``; keys that are also table names (orders …) are not counted."""
    return {n.value for n in ast.walk(node)
            if isinstance(n, ast.Constant) and isinstance(n.value, str) and n.value in BY_KEY
            and n.value not in TABLES}


def test_no_module_keeps_its_own_metric_list() -> None:
    """A module-level or class-level collection naming 3+ metric keys is a second registry."""
    offenders = []
    for path in sorted(SRC.rglob("*.py")):
        if path == REGISTRY:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        scopes = [tree, *(n for n in ast.walk(tree) if isinstance(n, ast.ClassDef))]
        for scope in scopes:
            for statement in scope.body:
                if isinstance(statement, ast.Assign | ast.AnnAssign | ast.For):
                    keys = _metric_keys(statement)
                    if len(keys) >= 3:
                        offenders.append(f"{path.relative_to(SRC)}:{statement.lineno} "
                                         f"{sorted(keys)[:4]}")
    assert not offenders, "metric lists outside the registry:\n" + "\n".join(offenders)


def test_registry_facts_are_consistent() -> None:
    for metric in METRICS:
        if metric.count_metric is not None:
            assert metric.count_metric in BY_KEY, metric.key
            assert BY_KEY[metric.count_metric].additive, metric.key
        if metric.unit == "count":
            assert metric.additive, metric.key
        if metric.unit == "ratio":
            assert not metric.additive, metric.key


def test_every_mean_or_rate_knows_its_weight() -> None:
    """Combining days or agents needs the count behind each non-additive value.

    Two rates count things that are no metric of their own (human agent messages,
    conversations with an upset buyer): they are never combined from reports.
    """
    no_count_metric = {"negative_emotion_rate", "empathy_rate"}
    for metric in METRICS:
        if not metric.additive and metric.unit != "points" and not metric.pooled:
            assert (metric.weight in BY_KEY) != (metric.key in no_count_metric), metric.key
