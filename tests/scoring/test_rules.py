"""Scoring rules and small-sample shrinkage, with numbers worked by hand."""

from __future__ import annotations

import math

import pytest

from kefu.scoring.rules import beta_prior, linear_points, points, shrink_rate, step_points
from kefu.scoring.scheme import Item


def item(**kw: object) -> Item:
    return Item.model_validate(kw)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0.8, 0), (0.9, 50), (1.0, 100), (0.75, 0), (1.1, 100), (0.95, 75)],
)
def test_linear_up(value: float, expected: float) -> None:
    # reply_rate ↑: floor 0.8 → 0 points, target 1.0 → 100; (0.9 − 0.8)/(1.0 − 0.8) = 50 %
    it = item(key="reply_rate", floor=0.8, target=1.0)
    assert points(it, value) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(120, 0), (75, 50), (48, 80), (30, 100), (20, 100), (150, 0)],
)
def test_linear_down(value: float, expected: float) -> None:
    # avg_response_s ↓: floor 120 s → 0, target 30 s → 100; 48 s: (48 − 120)/(30 − 120) = 0.8
    it = item(key="avg_response_s", floor=120, target=30)
    assert points(it, value) == pytest.approx(expected)


def test_linear_points_function_is_symmetric_in_direction() -> None:
    assert linear_points(5, 0, 10) == 50
    assert linear_points(5, 10, 0) == 50


@pytest.mark.parametrize(
    ("value", "expected"), [(4.9, 100), (4.8, 100), (4.6, 85), (4.2, 70), (4.19, 0)]
)
def test_steps_up_thresholds_are_inclusive(value: float, expected: float) -> None:
    it = item(
        key="csat_avg",
        rule="steps",
        steps=[{"at": 4.5, "points": 85}, {"at": 4.8, "points": 100}, {"at": 4.2, "points": 70}],
    )
    assert points(it, value) == expected


@pytest.mark.parametrize(("value", "expected"), [(30, 100), (45, 80), (60, 80), (61, 20)])
def test_steps_down_with_below(value: float, expected: float) -> None:
    # ↓ metric: a step is reached when value ≤ at; nothing reached → `below`
    it = item(
        key="first_response_s",
        rule="steps",
        steps=[{"at": 30, "points": 100}, {"at": 60, "points": 80}],
        below=20,
    )
    assert points(it, value) == expected


def test_steps_on_a_metric_without_direction_needs_compare() -> None:
    it = item(key="conversations", rule="steps", compare=">=", steps=[{"at": 100, "points": 100}])
    assert points(it, 120) == 100 and points(it, 99) == 0
    assert step_points(3, [(5, 100)], "<=", 0) == 100


def test_manual_and_unavailable() -> None:
    assert points(item(key="执行力", rule="manual"), None, manual=90) == 90
    assert points(item(key="执行力", rule="manual"), None, manual=None) is None
    assert points(item(key="reply_rate", floor=0.8, target=1), None) is None


def test_shrinkage_on_a_tiny_team() -> None:
    # Four agents: 3/3 satisfied, 60/100, 90/100, 75/100.
    # μ = 228/303 = 0.752475; raw rates 1, .6, .9, .75 → mean .8125, s² (ddof 1) = .030625
    # noise = μ(1−μ)·mean(1/n) = 0.186256 × (1/3 + 3/100)/4 = 0.016918
    # τ² = .030625 − .016918 = .013707;  α+β = μ(1−μ)/τ² − 1 = 12.5887
    # 3/3 → (3 + 0.752475 × 12.5887)/(3 + 12.5887) = 0.80011: the lucky 100 % falls below 90 %
    rates = [(1.0, 3), (0.6, 100), (0.9, 100), (0.75, 100)]
    prior = beta_prior(rates)
    assert prior is not None
    assert prior.mean == pytest.approx(228 / 303)
    assert prior.strength == pytest.approx(12.5887, abs=1e-4)
    assert shrink_rate(1.0, 3, prior) == pytest.approx(0.80011, abs=1e-5)
    assert shrink_rate(0.9, 100, prior) == pytest.approx(0.88351, abs=1e-5)
    assert shrink_rate(0.6, 100, prior) == pytest.approx(0.61705, abs=1e-5)


def test_shrinkage_when_spread_is_all_noise_goes_to_the_mean() -> None:
    # 1/1, 1/2, 1/2: μ = 3/5, rates 1, .5, .5 → s² = 1/12 = 0.0833
    # noise = .6 × .4 × (1 + 1/2 + 1/2)/3 = 0.16 > s² → all to μ
    prior = beta_prior([(1.0, 1), (0.5, 2), (0.5, 2)])
    assert prior is not None and math.isinf(prior.strength or 0)
    assert shrink_rate(1.0, 1, prior) == pytest.approx(0.6)


def test_no_shrinkage_without_a_team_of_three() -> None:
    assert beta_prior([(1.0, 3)]) is None
    assert beta_prior([(1.0, 3), (0.5, 100)]) is None
    assert shrink_rate(1.0, 3, None) == 1.0
