"""Scoring rules (metric value → 0–100 points) and small-sample handling."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from kefu.scoring.scheme import Item, Rule


def linear_points(value: float, floor: float, target: float) -> float:
    """0 at floor, 100 at target, straight line, clipped to 0–100 (either direction)."""
    raw = (value - floor) / (target - floor) * 100.0
    return min(100.0, max(0.0, raw))


def step_points(value: float, steps: Sequence[tuple[float, float]], op: str, below: float) -> float:
    """Points of the best threshold reached: value ≥ at (↑) or value ≤ at (↓)."""
    reached = [p for at, p in steps if (value >= at if op == ">=" else value <= at)]
    # The "best" threshold reached is the strictest one; for a well-formed table that is
    # the highest points, and taking max keeps an unsorted table meaningful.
    return max(reached) if reached else below


def points(item: Item, value: float | None, manual: float | None = None) -> float | None:
    """Points of an item; None when its value is not available."""
    if item.rule is Rule.manual:
        return manual
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if item.rule is Rule.linear:
        assert item.floor is not None and item.target is not None
        return linear_points(float(value), item.floor, item.target)
    steps = [(s.at, s.points) for s in item.steps or []]
    return step_points(float(value), steps, item.compare_op, item.below)


MIN_TEAM = 3  # agents with events needed to estimate a team prior


@dataclass(frozen=True)
class Prior:
    """Beta(alpha, beta) prior of a team, by the method of moments."""

    mean: float
    strength: float | None
    """alpha + beta; None = no shrinkage possible (too few agents), inf = all to the mean."""


def beta_prior(rates: Sequence[tuple[float, float]]) -> Prior | None:
    """Method-of-moments beta prior from (rate, n) pairs of a team's agents with n > 0.

    mean μ = Σx / Σn (the pooled team rate, x = rate·n); between-agent variance
    τ² = s² − μ(1 − μ)·mean(1/n), where s² is the sample variance (ddof 1) of the raw
    rates and the subtracted term is the expected binomial noise. τ² ≤ 0 means the
    spread is all noise: every agent is shrunk to μ (strength ∞). Otherwise
    α + β = μ(1 − μ)/τ² − 1 (0 when negative: no shrinkage).
    Fewer than three agents: None — a variance from one or two rates is too unreliable
    (two agents would often be pulled to the same value).
    """
    pts = [(r, n) for r, n in rates if n > 0]
    if len(pts) < MIN_TEAM:
        return None
    total_n = sum(n for _, n in pts)
    mu = sum(r * n for r, n in pts) / total_n
    mean_r = sum(r for r, _ in pts) / len(pts)
    s2 = sum((r - mean_r) ** 2 for r, _ in pts) / (len(pts) - 1)
    noise = mu * (1 - mu) * sum(1 / n for _, n in pts) / len(pts)
    tau2 = s2 - noise
    if mu * (1 - mu) == 0:
        return Prior(mu, 0.0)  # every rate is 0 or every rate is 1: nothing to shrink
    if tau2 <= 0:
        return Prior(mu, math.inf)
    return Prior(mu, max(0.0, mu * (1 - mu) / tau2 - 1))


def shrink_rate(rate: float, n: float, prior: Prior | None) -> float:
    """Posterior mean (x + α)/(n + α + β) with x = rate·n."""
    if prior is None or prior.strength is None or n <= 0:
        return rate
    if math.isinf(prior.strength):
        return prior.mean
    alpha = prior.mean * prior.strength
    return (rate * n + alpha) / (n + prior.strength)
