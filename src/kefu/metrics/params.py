"""Parameters of the metric definitions (metrics.md), declared with the settings."""

from kefu.config import MetricParams

__all__ = ["MetricParams"]
