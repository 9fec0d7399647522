"""Metrics: every KPI of metrics.md from a Dataset, per agent, team and shop.

Public surface: ``compute(dataset, start, end, params) -> MetricsResult``, the
registry (``kefu.metrics.registry``) and ``MetricParams``.
"""

from kefu.metrics.engine import compute
from kefu.metrics.params import MetricParams
from kefu.metrics.result import MetricsResult

__all__ = ["MetricParams", "MetricsResult", "compute"]
