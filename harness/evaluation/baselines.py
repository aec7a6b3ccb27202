"""Baselines a router must beat: single models, best single, oracle, dataset oracle, random, cheapest.

Every choice that needs data (best single model, dataset oracle, cheapest
model) is made on calibration data only and then scored on test. Ties go
to the model with the lower mean calibration cost; a model whose cost is
unknown comes last.
"""

from __future__ import annotations

import numpy as np

from harness.errors import HarnessError


def _mean_cost(costs: np.ndarray) -> np.ndarray:
    """Return the mean known cost per model, shape (m,), with +inf where no cost is known."""
    known = ~np.isnan(costs)
    counts = known.sum(axis=0)
    sums = np.where(known, costs, 0.0).sum(axis=0)
    return np.where(counts > 0, sums / np.maximum(counts, 1), np.inf)


def benchmark_mean_accuracy(scores: np.ndarray, benchmarks: np.ndarray) -> np.ndarray:
    """Return each model's accuracy averaged over benchmarks, ignoring missing scores.

    Parameters
    ----------
    scores : numpy.ndarray
        Shape (n, m), NaN where missing.
    benchmarks : numpy.ndarray
        Shape (n,).

    Returns
    -------
    numpy.ndarray
        Shape (m,); NaN for a model with no score on some benchmark.
    """
    benchmarks = np.asarray(benchmarks, dtype=object)
    per_benchmark = []
    for name in sorted(set(benchmarks.tolist())):
        block = scores[benchmarks == name]
        known = ~np.isnan(block)
        counts = known.sum(axis=0)
        sums = np.where(known, block, 0.0).sum(axis=0)
        per_benchmark.append(np.where(counts > 0, sums / np.maximum(counts, 1), np.nan))
    return np.mean(per_benchmark, axis=0)


def _best_by_accuracy(accuracy: np.ndarray, mean_cost: np.ndarray, tolerance: float = 1e-12) -> int:
    if np.isnan(accuracy).all():
        raise HarnessError("no model has a calibration score on every benchmark, so no best model can be chosen")
    filled = np.where(np.isnan(accuracy), -np.inf, accuracy)
    tied = filled >= filled.max() - tolerance
    candidates = np.flatnonzero(tied)
    return int(candidates[np.argmin(mean_cost[candidates])])


def best_single_model(scores: np.ndarray, costs: np.ndarray, benchmarks: np.ndarray) -> int:
    """Return the index of the model with the highest calibration accuracy averaged over benchmarks.

    Ties go to the model with the lower mean calibration cost.
    """
    return _best_by_accuracy(benchmark_mean_accuracy(scores, benchmarks), _mean_cost(costs))


def cheapest_model(costs: np.ndarray) -> int:
    """Return the index of the model with the lowest mean known calibration cost."""
    mean_cost = _mean_cost(costs)
    if np.isinf(mean_cost).all():
        raise HarnessError("no model has a known calibration cost, so the cheapest model is undefined")
    return int(np.argmin(mean_cost))


def oracle_selection(scores: np.ndarray, costs: np.ndarray) -> np.ndarray:
    """Return per sample the best-scoring model, the cheapest on that sample among ties.

    Parameters
    ----------
    scores, costs : numpy.ndarray
        Shape (n, m) on the test set; scores must be complete.

    Returns
    -------
    numpy.ndarray
        Shape (n,), int model index.
    """
    best = scores.max(axis=1, keepdims=True)
    tied = scores >= best - 1e-12
    known = ~np.isnan(costs)
    filled = np.where(known, costs, 0.0)
    # Sort key: a tied model's known cost, then tied models of unknown cost, then the rest.
    unknown_key = filled.max() + 1.0
    key = np.where(tied, np.where(known, filled, unknown_key), 2.0 * unknown_key)
    return key.argmin(axis=1)


def dataset_oracle_selection(
    calibration_scores: np.ndarray,
    calibration_costs: np.ndarray,
    calibration_benchmarks: np.ndarray,
    test_benchmarks: np.ndarray,
) -> np.ndarray:
    """Return per test sample the model that is best on its benchmark in calibration.

    A test benchmark absent from calibration gets the best single model.

    Returns
    -------
    numpy.ndarray
        Shape (n_test,), int model index.
    """
    calibration_benchmarks = np.asarray(calibration_benchmarks, dtype=object)
    test_benchmarks = np.asarray(test_benchmarks, dtype=object)
    mean_cost = _mean_cost(calibration_costs)
    fallback = best_single_model(calibration_scores, calibration_costs, calibration_benchmarks)
    selection = np.full(test_benchmarks.size, fallback, dtype=np.int64)
    for name in sorted(set(test_benchmarks.tolist())):
        rows = calibration_benchmarks == name
        if not rows.any():
            continue
        block = calibration_scores[rows]
        known = ~np.isnan(block)
        counts = known.sum(axis=0)
        accuracy = np.where(counts > 0, np.where(known, block, 0.0).sum(axis=0) / np.maximum(counts, 1), np.nan)
        selection[test_benchmarks == name] = _best_by_accuracy(accuracy, mean_cost)
    return selection


def dataset_router_selection(
    calibration_scores: np.ndarray,
    calibration_costs: np.ndarray,
    calibration_benchmarks: np.ndarray,
    test_benchmarks: np.ndarray,
    alpha: float,
) -> np.ndarray:
    """Return per test sample the model with the best alpha score on its benchmark in calibration.

    This is the router's scoring rule with one cluster per benchmark: the
    benchmark's mean accuracy and mean cost per model are min-max normalised
    across models and combined as ``alpha * p~ + (1 - alpha) * (1 - q~)``.
    At alpha = 1 it equals :func:`dataset_oracle_selection`. It is the
    control for how much of a router's curve comes from recognising the
    benchmark. A test benchmark absent from calibration uses calibration-wide
    means. Ties go to the model with the lower mean calibration cost.

    Returns
    -------
    numpy.ndarray
        Shape (n_test,), int model index.
    """
    calibration_benchmarks = np.asarray(calibration_benchmarks, dtype=object)
    test_benchmarks = np.asarray(test_benchmarks, dtype=object)
    mean_cost = _mean_cost(calibration_costs)
    finite_cost = np.where(np.isinf(mean_cost), np.nan, mean_cost)

    highest_cost = np.nanmax(finite_cost) if np.isfinite(finite_cost).any() else 0.0

    def best_for(rows: np.ndarray) -> int:
        accuracy = _column_means(calibration_scores[rows])
        cost = _column_means(calibration_costs[rows])
        # A model without a score here ranks as the worst; an unknown cost counts as the highest known one.
        accuracy = np.where(np.isnan(accuracy), np.nanmin(accuracy) if np.isfinite(accuracy).any() else 0.0, accuracy)
        cost = np.where(np.isnan(cost), highest_cost, cost)
        score = alpha * _min_max(accuracy) + (1.0 - alpha) * (1.0 - _min_max(cost))
        return _best_by_accuracy(score, mean_cost)

    every_row = np.ones(calibration_benchmarks.size, dtype=bool)
    selection = np.full(test_benchmarks.size, best_for(every_row), dtype=np.int64)
    for name in sorted(set(test_benchmarks.tolist())):
        rows = calibration_benchmarks == name
        if rows.any():
            selection[test_benchmarks == name] = best_for(rows)
    return selection


def _column_means(values: np.ndarray) -> np.ndarray:
    known = ~np.isnan(values)
    counts = known.sum(axis=0)
    return np.where(counts > 0, np.where(known, values, 0.0).sum(axis=0) / np.maximum(counts, 1), np.nan)


def _min_max(values: np.ndarray) -> np.ndarray:
    spread = values.max() - values.min()
    return (values - values.min()) / spread if spread > 0 else np.zeros_like(values)


def random_outcome(scores: np.ndarray, costs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the expected score and cost per sample of picking a model uniformly at random.

    The expectation replaces sampling, so the baseline has no sampling noise.
    A sample with any unknown cost gets an unknown (NaN) expected cost.

    Returns
    -------
    tuple of numpy.ndarray
        Expected scores and costs, each shape (n,).
    """
    return scores.mean(axis=1), costs.mean(axis=1)
