"""Alpha sweeps: the router's accuracy and cost as alpha trades performance against cost."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from harness.evaluation.metrics import summarise, take
from harness.router import ClusterRouter

# Dense near 1 because a small step below 1 already moves queries away from
# the most accurate model; coarse below 0.8, where cost barely changes.
DEFAULT_SWEEP_ALPHAS: tuple[float, ...] = (
    1.0, 0.99, 0.98, 0.97, 0.96, 0.95, 0.94, 0.93, 0.92, 0.91, 0.90,
    0.88, 0.86, 0.84, 0.82, 0.80, 0.75, 0.70, 0.60, 0.50, 0.40, 0.30, 0.20, 0.10, 0.0,
)  # fmt: skip


@dataclass(frozen=True)
class SweepPoint:
    """The router at one alpha.

    Attributes
    ----------
    alpha : float
        Trade-off in [0, 1].
    accuracy : float
        Mean over benchmarks, in [0, 1].
    accuracy_samples : float
        Mean over samples, in [0, 1].
    total_cost : float
        US dollars; NaN if any chosen cost is unknown.
    cost_per_sample : float
        US dollars.
    fallback_rate : float
        Share of queries routed with at least one fallback cluster.
    """

    alpha: float
    accuracy: float
    accuracy_samples: float
    total_cost: float
    cost_per_sample: float
    fallback_rate: float = 0.0


def alpha_sweep(
    router: ClusterRouter,
    embeddings: np.ndarray,
    scores: np.ndarray,
    costs: np.ndarray,
    benchmarks: np.ndarray,
    alphas: Sequence[float] = DEFAULT_SWEEP_ALPHAS,
) -> list[SweepPoint]:
    """Route the test set at each alpha and score the choices.

    Parameters
    ----------
    router : ClusterRouter
        A fitted router.
    embeddings : numpy.ndarray
        Shape (n, d), test query embeddings.
    scores, costs : numpy.ndarray
        Shape (n, m), test results in the router's model order.
    benchmarks : numpy.ndarray
        Shape (n,).
    alphas : sequence of float
        Values in [0, 1].

    Returns
    -------
    list of SweepPoint
        One point per alpha, in the given order.
    """
    points = []
    routed = router.route_alphas(embeddings, [float(alpha) for alpha in alphas])
    for alpha in alphas:
        result = routed[float(alpha)]
        summary = summarise(*take(result.models, scores, costs), benchmarks)
        points.append(
            SweepPoint(
                alpha=float(alpha),
                accuracy=summary.accuracy,
                accuracy_samples=summary.accuracy_samples,
                total_cost=summary.total_cost,
                cost_per_sample=summary.cost_per_sample,
                fallback_rate=float(result.fallback.mean()) if result.fallback.size else 0.0,
            )
        )
    return points
