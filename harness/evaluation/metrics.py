"""Accuracy and cost of a routing decision, Pareto frontiers and 95% confidence intervals.

Accuracy comes in two averages: the mean over benchmarks of each benchmark's
mean score (the papers' figure, so every benchmark weighs the same) and the
mean over samples. A cost that is unknown (NaN) is never counted as zero:
any unknown cost among the chosen calls makes the total NaN, and the number
of such calls is reported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
from scipy import stats

from harness.errors import HarnessError


@dataclass(frozen=True)
class Summary:
    """Metrics of one method on one test set.

    Attributes
    ----------
    accuracy : float
        Mean over benchmarks of the per-benchmark mean score, in [0, 1].
    accuracy_samples : float
        Mean score over all samples, in [0, 1].
    total_cost : float
        US dollars summed over the chosen calls; NaN if any cost is unknown.
    cost_per_sample : float
        ``total_cost`` divided by the number of samples, US dollars.
    n_samples : int
        Test samples scored.
    unknown_costs : int
        Chosen calls whose cost is unknown.
    per_benchmark : dict
        Benchmark name -> mean score.
    """

    accuracy: float
    accuracy_samples: float
    total_cost: float
    cost_per_sample: float
    n_samples: int
    unknown_costs: int
    per_benchmark: dict[str, float] = field(default_factory=dict)


def take(selection: np.ndarray, scores: np.ndarray, costs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the score and cost of the chosen model per sample.

    Parameters
    ----------
    selection : numpy.ndarray
        Shape (n,), int model index per sample.
    scores, costs : numpy.ndarray
        Shape (n, m).

    Returns
    -------
    tuple of numpy.ndarray
        Scores and costs, each shape (n,).
    """
    rows = np.arange(scores.shape[0])
    selection = np.asarray(selection, dtype=np.int64)
    return scores[rows, selection], costs[rows, selection]


def summarise(sample_scores: np.ndarray, sample_costs: np.ndarray, benchmarks: np.ndarray) -> Summary:
    """Compute the :class:`Summary` of per-sample outcomes.

    Parameters
    ----------
    sample_scores : numpy.ndarray
        Shape (n,), score in [0, 1] of each sample's chosen call (or an
        expected score for a randomised method).
    sample_costs : numpy.ndarray
        Shape (n,), US dollars; NaN where unknown.
    benchmarks : numpy.ndarray
        Shape (n,), benchmark per sample.

    Raises
    ------
    HarnessError
        When a score is missing (the chosen model has no result) or no sample is given.
    """
    sample_scores = np.asarray(sample_scores, dtype=float)
    sample_costs = np.asarray(sample_costs, dtype=float)
    benchmarks = np.asarray(benchmarks, dtype=object)
    n = sample_scores.size
    if n == 0:
        raise HarnessError("no test samples left to score; check the split, the near-duplicate filter and missing results")
    if np.isnan(sample_scores).any():
        raise HarnessError(
            f"{int(np.isnan(sample_scores).sum())} chosen calls have no score; "
            "score only samples with a result from every model"
        )
    per_benchmark = {
        name: float(sample_scores[benchmarks == name].mean()) for name in sorted(set(benchmarks.tolist()))
    }
    unknown = int(np.isnan(sample_costs).sum())
    total = float(sample_costs.sum()) if unknown == 0 else float("nan")
    return Summary(
        accuracy=float(np.mean(list(per_benchmark.values()))),
        accuracy_samples=float(sample_scores.mean()),
        total_cost=total,
        cost_per_sample=total / n,
        n_samples=n,
        unknown_costs=unknown,
        per_benchmark=per_benchmark,
    )


def pareto_frontier(costs: Sequence[float], accuracies: Sequence[float]) -> np.ndarray:
    """Return the indices of the points no other point beats on both cost and accuracy.

    A point is dominated when another costs no more and is at least as
    accurate, and is strictly better on one of the two. Points with an
    unknown (NaN) cost or accuracy are left out.

    Returns
    -------
    numpy.ndarray
        Int indices of the frontier, ordered by increasing cost.
    """
    costs = np.asarray(costs, dtype=float)
    accuracies = np.asarray(accuracies, dtype=float)
    valid = np.flatnonzero(~(np.isnan(costs) | np.isnan(accuracies)))
    # Sort by cost, then by accuracy descending, so the first point of equal cost is the best one.
    order = valid[np.lexsort((-accuracies[valid], costs[valid]))]
    frontier = []
    best = -np.inf
    for index in order:
        if accuracies[index] > best:
            frontier.append(index)
            best = accuracies[index]
    return np.asarray(frontier, dtype=np.int64)


def mean_ci(values: Sequence[float], level: float = 0.95) -> tuple[float, float]:
    """Return the Student-t confidence interval of the mean of independent values (e.g. one per seed).

    With fewer than two values the interval is (NaN, NaN).
    """
    values = np.asarray(values, dtype=float)
    if values.size < 2:
        return float("nan"), float("nan")
    mean = values.mean()
    half = stats.t.ppf(0.5 + level / 2, values.size - 1) * values.std(ddof=1) / np.sqrt(values.size)
    return float(mean - half), float(mean + half)


def bootstrap_ci(
    sample_scores: np.ndarray,
    benchmarks: np.ndarray,
    n_resamples: int = 2000,
    seed: int = 0,
    level: float = 0.95,
    paired_with: np.ndarray | None = None,
) -> tuple[float, float]:
    """Return a percentile bootstrap interval of the accuracy averaged over benchmarks.

    Samples are resampled with replacement inside each benchmark, so every
    resample keeps the benchmark sizes. With ``paired_with`` the interval is
    for the difference ``sample_scores - paired_with`` on the same resamples.

    Parameters
    ----------
    sample_scores : numpy.ndarray
        Shape (n,), per-sample score.
    benchmarks : numpy.ndarray
        Shape (n,), benchmark per sample.
    n_resamples : int
        Bootstrap resamples.
    seed : int
        Seed of the resampling.
    level : float
        Coverage, 0.95 for a 95% interval.
    paired_with : numpy.ndarray, optional
        Shape (n,), the other method's per-sample score.
    """
    values = np.asarray(sample_scores, dtype=float)
    if paired_with is not None:
        values = values - np.asarray(paired_with, dtype=float)
    benchmarks = np.asarray(benchmarks, dtype=object)
    rng = np.random.default_rng(seed)
    per_benchmark = []
    for name in sorted(set(benchmarks.tolist())):
        group = values[benchmarks == name]
        picks = rng.integers(0, group.size, size=(n_resamples, group.size))
        per_benchmark.append(group[picks].mean(axis=1))
    resampled = np.mean(per_benchmark, axis=0)
    tail = (1.0 - level) / 2
    low, high = np.quantile(resampled, [tail, 1.0 - tail])
    return float(low), float(high)
