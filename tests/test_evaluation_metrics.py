"""Metrics and baselines on a tiny matrix whose expected metrics are worked out by hand.

Models m0, m1, m2 cost $0.001, $0.01 and $0.1 per call. Test samples:

    sample  benchmark  scores (m0, m1, m2)
    A1      A          1 1 1
    A2      A          0 1 1
    B1      B          0 0 1
    B2      B          0 0 0
    B3      B          1 0 1
    B4      B          0 1 0
"""

from __future__ import annotations

import numpy as np
import pytest

from harness.evaluation import (
    best_single_model,
    bootstrap_ci,
    cheapest_model,
    dataset_oracle_selection,
    dataset_router_selection,
    mean_ci,
    oracle_selection,
    pareto_frontier,
    random_outcome,
    summarise,
    take,
)
from harness.errors import HarnessError

BENCHMARKS = np.array(["A", "A", "B", "B", "B", "B"], dtype=object)
SCORES = np.array([[1, 1, 1], [0, 1, 1], [0, 0, 1], [0, 0, 0], [1, 0, 1], [0, 1, 0]], dtype=float)
COSTS = np.tile([0.001, 0.01, 0.1], (6, 1))

# Calibration: on A, m1 and m2 are both perfect (m1 is cheaper); on B only m2 is.
CAL_BENCHMARKS = np.array(["A", "A", "B", "B"], dtype=object)
CAL_SCORES = np.array([[1, 1, 1], [0, 1, 1], [0, 1, 1], [0, 0, 1]], dtype=float)
CAL_COSTS = np.tile([0.001, 0.01, 0.1], (4, 1))


@pytest.mark.parametrize(
    ("model", "accuracy", "accuracy_samples", "total_cost"),
    [
        (0, (0.5 + 0.25) / 2, 2 / 6, 0.006),
        (1, (1.0 + 0.25) / 2, 3 / 6, 0.06),
        (2, (1.0 + 0.5) / 2, 4 / 6, 0.6),
    ],
)
def test_single_model_metrics(model, accuracy, accuracy_samples, total_cost):
    summary = summarise(*take(np.full(6, model), SCORES, COSTS), BENCHMARKS)

    assert summary.accuracy == pytest.approx(accuracy)
    assert summary.accuracy_samples == pytest.approx(accuracy_samples)
    assert summary.total_cost == pytest.approx(total_cost)
    assert summary.cost_per_sample == pytest.approx(total_cost / 6)
    assert summary.n_samples == 6


def test_oracle_prefers_cheaper_on_ties():
    selection = oracle_selection(SCORES, COSTS)

    # A1: all right -> m0; B2: all wrong -> m0; B3: m0 and m2 right -> m0.
    np.testing.assert_array_equal(selection, [0, 1, 2, 0, 0, 1])
    summary = summarise(*take(selection, SCORES, COSTS), BENCHMARKS)
    assert summary.accuracy == pytest.approx((1.0 + 0.75) / 2)
    assert summary.accuracy_samples == pytest.approx(5 / 6)
    assert summary.total_cost == pytest.approx(0.001 + 0.01 + 0.1 + 0.001 + 0.001 + 0.01)


def test_best_single_and_dataset_oracle():
    best = best_single_model(CAL_SCORES, CAL_COSTS, CAL_BENCHMARKS)
    selection = dataset_oracle_selection(CAL_SCORES, CAL_COSTS, CAL_BENCHMARKS, BENCHMARKS)

    assert best == 2  # benchmark means: m0 0.25, m1 0.75, m2 1.0
    np.testing.assert_array_equal(selection, [1, 1, 2, 2, 2, 2])
    summary = summarise(*take(selection, SCORES, COSTS), BENCHMARKS)
    assert summary.accuracy == pytest.approx((1.0 + 0.5) / 2)
    assert summary.total_cost == pytest.approx(2 * 0.01 + 4 * 0.1)


def test_best_single_tie_goes_to_cheaper_model():
    # Column 0 is the expensive model; both are right on everything.
    scores = np.ones((4, 2))
    costs = np.tile([0.5, 0.001], (4, 1))

    assert best_single_model(scores, costs, CAL_BENCHMARKS) == 1


def test_best_single_averages_over_benchmarks():
    # m0 wins on samples (3 of 4) but m1 wins averaged over benchmarks.
    benchmarks = np.array(["A", "A", "A", "B"], dtype=object)
    scores = np.array([[1, 0], [1, 0], [1, 1], [0, 1]], dtype=float)
    costs = np.full((4, 2), 0.01)

    assert best_single_model(scores, costs, benchmarks) == 1


def test_dataset_oracle_over_alpha():
    at_one = dataset_router_selection(CAL_SCORES, CAL_COSTS, CAL_BENCHMARKS, BENCHMARKS, 1.0)
    at_half = dataset_router_selection(CAL_SCORES, CAL_COSTS, CAL_BENCHMARKS, BENCHMARKS, 0.5)
    at_zero = dataset_router_selection(CAL_SCORES, CAL_COSTS, CAL_BENCHMARKS, BENCHMARKS, 0.0)

    np.testing.assert_array_equal(at_one, dataset_oracle_selection(CAL_SCORES, CAL_COSTS, CAL_BENCHMARKS, BENCHMARKS))
    # alpha 0.5 on A: p~ = (0, 1, 1), q~ = (0, 0.091, 1) -> x = (0.5, 0.955, 0.5).
    # On B: p~ = (0, 0.5, 1) -> x = (0.5, 0.705, 0.5). m1 wins both.
    np.testing.assert_array_equal(at_half, [1, 1, 1, 1, 1, 1])
    np.testing.assert_array_equal(at_zero, [0, 0, 0, 0, 0, 0])


def test_dataset_oracle_unseen_benchmark_uses_best_single():
    selection = dataset_oracle_selection(CAL_SCORES, CAL_COSTS, CAL_BENCHMARKS, np.array(["C", "A"], dtype=object))

    np.testing.assert_array_equal(selection, [2, 1])


def test_random_is_expected_value():
    scores, costs = random_outcome(SCORES, COSTS)
    summary = summarise(scores, costs, BENCHMARKS)

    assert summary.accuracy == pytest.approx((5 / 6 + 1 / 3) / 2)
    assert summary.total_cost == pytest.approx(6 * 0.111 / 3)


def test_cheapest_model():
    assert cheapest_model(CAL_COSTS) == 0
    costs = CAL_COSTS.copy()
    costs[:, 0] = np.nan  # unknown is not cheap
    assert cheapest_model(costs) == 1


def test_missing_cost_is_not_zero():
    costs = COSTS.copy()
    costs[5, 1] = np.nan

    single = summarise(*take(np.full(6, 1), SCORES, costs), BENCHMARKS)
    oracle = summarise(*take(oracle_selection(SCORES, costs), SCORES, costs), BENCHMARKS)

    assert np.isnan(single.total_cost)
    assert np.isnan(single.cost_per_sample)
    assert single.unknown_costs == 1
    assert single.accuracy == pytest.approx(0.625)
    assert oracle.unknown_costs == 1  # B4: only m1 is right, so its unknown cost is chosen


def test_oracle_prefers_known_cost_on_ties():
    costs = COSTS.copy()
    costs[1, 1] = np.nan  # A2: m1 and m2 both right, m1's cost unknown

    assert oracle_selection(SCORES, costs)[1] == 2


def test_summarise_rejects_missing_scores():
    with pytest.raises(HarnessError, match="1 chosen calls have no score"):
        summarise(np.array([1.0, np.nan]), np.array([0.1, 0.1]), np.array(["A", "A"], dtype=object))
    with pytest.raises(HarnessError, match="no test samples"):
        summarise(np.array([]), np.array([]), np.array([], dtype=object))


def test_pareto_frontier():
    costs = [1.0, 2.0, 2.0, 3.0, 0.5, np.nan]
    accuracies = [0.6, 0.7, 0.65, 0.7, 0.6, 0.99]

    # 0.5 -> 0.6 dominates (1.0, 0.6); (2.0, 0.7) dominates (2.0, 0.65) and (3.0, 0.7).
    np.testing.assert_array_equal(pareto_frontier(costs, accuracies), [4, 1])


def test_mean_ci():
    low, high = mean_ci([0.8, 0.82, 0.84])

    # t(0.975, 2) = 4.3027; sd = 0.02; half width = 4.3027 * 0.02 / sqrt(3).
    assert low == pytest.approx(0.82 - 0.049683, abs=1e-5)
    assert high == pytest.approx(0.82 + 0.049683, abs=1e-5)
    assert np.isnan(mean_ci([0.5])[0])


def test_bootstrap_ci_brackets_mean_and_is_seeded():
    rng = np.random.default_rng(3)
    scores = rng.integers(0, 2, size=200).astype(float)
    benchmarks = np.array(["A"] * 120 + ["B"] * 80, dtype=object)
    mean = (scores[:120].mean() + scores[120:].mean()) / 2

    low, high = bootstrap_ci(scores, benchmarks, n_resamples=500, seed=1)

    assert low < mean < high
    assert (low, high) == bootstrap_ci(scores, benchmarks, n_resamples=500, seed=1)
    same = bootstrap_ci(scores, benchmarks, n_resamples=500, seed=1, paired_with=scores)
    assert same == (0.0, 0.0)
