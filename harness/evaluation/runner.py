"""One evaluation round: baselines and router variants on one calibration/test pair.

:func:`harness.evaluation.evaluate` repeats a round per seed (and per
held-out benchmark in leave-one-benchmark-out mode) and aggregates.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from harness.errors import HarnessError
from harness.evaluation.baselines import (
    best_single_model,
    cheapest_model,
    dataset_oracle_selection,
    dataset_router_selection,
    oracle_selection,
    random_outcome,
)
from harness.evaluation.data import EvaluationData
from harness.evaluation.metrics import summarise, take
from harness.evaluation.sweeps import DEFAULT_SWEEP_ALPHAS, SweepPoint, alpha_sweep
from harness.evaluation.tuning import DEFAULT_K_GRID, DEFAULT_KNN_K_GRID, DEFAULT_TOP_P_GRID, TuningResult, tune_router
from harness.router import VARIANTS, ClusterRouter, variant_knn_weight

logger = logging.getLogger(__name__)

AUTO = "auto"


@dataclass(frozen=True)
class EvaluationConfig:
    """Settings of an evaluation.

    Attributes
    ----------
    seeds : int
        Rounds with seeds 0 .. seeds-1. Without a separate test matrix each
        seed draws its own 70/30 split; with one, the seed changes k-means
        and the cross-validation folds.
    alphas : tuple
        Alphas reported as table rows; ``"auto"`` is chosen by cross-validation.
    sweep_alphas : tuple of float
        Alphas of the sweep behind the Pareto plot.
    variants : tuple of str
        Router variants, names of :data:`harness.router.VARIANTS`.
    k, top_p : int or None
        Fixed values, or None to choose them by cross-validation.
    k_grid, top_p_grid : tuple of int
        Candidates for cross-validation.
    min_cluster_size : int
        Clusters smaller than this fall back to the calibration-wide ranking.
    dedup_threshold : float or None
        Drop test samples with cosine similarity at or above this to a
        calibration sample; None keeps them.
    calibration_fraction : float
        Share of each benchmark used for calibration when splitting one matrix.
    n_folds : int
        Cross-validation folds inside calibration.
    n_bootstrap : int
        Bootstrap resamples for confidence intervals.
    loo : bool
        Also run leave-one-benchmark-out.
    """

    seeds: int = 1
    alphas: tuple[float | str, ...] = (1.0, AUTO)
    sweep_alphas: tuple[float, ...] = DEFAULT_SWEEP_ALPHAS
    variants: tuple[str, ...] = tuple(VARIANTS)
    k: int | None = None
    top_p: int | None = None
    k_grid: tuple[int, ...] = DEFAULT_K_GRID
    top_p_grid: tuple[int, ...] = DEFAULT_TOP_P_GRID
    knn_k: int | None = None
    knn_k_grid: tuple[int, ...] = DEFAULT_KNN_K_GRID
    min_cluster_size: int = 5
    dedup_threshold: float | None = 0.95
    calibration_fraction: float = 0.7
    n_folds: int = 5
    n_bootstrap: int = 2000
    loo: bool = False

    def __post_init__(self) -> None:
        if self.seeds < 1:
            raise HarnessError(f"seeds must be >= 1, got {self.seeds}")
        unknown = [name for name in self.variants if name not in VARIANTS]
        if unknown or not self.variants:
            raise HarnessError(f"unknown router variant(s) {unknown}; choose from {', '.join(VARIANTS)}")
        for alpha in self.alphas:
            if alpha != AUTO and not (isinstance(alpha, (int, float)) and 0.0 <= float(alpha) <= 1.0):
                raise HarnessError(f"alpha {alpha!r} is invalid: use a number in [0, 1] or 'auto'")
        if self.dedup_threshold is not None and not 0.0 < self.dedup_threshold <= 1.0:
            raise HarnessError(f"near-duplicate threshold must be in (0, 1], got {self.dedup_threshold}")

    @property
    def needs_tuning(self) -> bool:
        """True when k, top_p or an alpha is chosen by cross-validation."""
        uses_knn = any(variant_knn_weight(name) > 0 for name in self.variants)
        return self.k is None or self.top_p is None or (uses_knn and self.knn_k is None) or AUTO in self.alphas


@dataclass
class Outcome:
    """Per-sample result of one method in one round.

    Attributes
    ----------
    kind : str
        ``router``, ``baseline`` or ``single``.
    scores, costs : numpy.ndarray
        Shape (n,), score and US dollar cost of each test sample's call.
    alpha : float or None
        Alpha used by a router.
    requested_alpha : float or str or None
        The alpha as requested (a number or ``"auto"``).
    model : str or None
        Model of a baseline that uses one model for every sample.
    fallback_rate : float or None
        Share of a router's queries that used a fallback cluster.
    variant : str or None
        Router variant.
    """

    kind: str
    scores: np.ndarray
    costs: np.ndarray
    alpha: float | None = None
    requested_alpha: float | str | None = None
    model: str | None = None
    fallback_rate: float | None = None
    variant: str | None = None


@dataclass
class RoundResult:
    """Everything one round produced: method outcomes keyed by name, sweeps, tuning choices.

    ``sweeps`` maps each router variant to its alpha sweep;
    ``baseline_sweeps`` contains the dataset oracle over the same alphas.
    """

    outcomes: dict[str, Outcome]
    sweeps: dict[str, list[SweepPoint]] = field(default_factory=dict)
    tuning: dict[str, TuningResult] = field(default_factory=dict)
    baseline_sweeps: dict[str, list[SweepPoint]] = field(default_factory=dict)


def router_name(variant: str, requested_alpha: float | str) -> str:
    """Return the method name of a router row, e.g. ``router:shrunk@1.00`` or ``router:knn@auto``."""
    label = AUTO if requested_alpha == AUTO else f"{float(requested_alpha):.2f}"
    return f"router:{variant}@{label}"


def _tune(calibration: EvaluationData, config: EvaluationConfig, seed: int) -> dict[str, TuningResult]:
    k_grid = (config.k,) if config.k is not None else config.k_grid
    top_p_grid = (config.top_p,) if config.top_p is not None else config.top_p_grid
    knn_k_grid = (config.knn_k,) if config.knn_k is not None else config.knn_k_grid
    return tune_router(
        calibration.embeddings,
        calibration.scores,
        calibration.costs,
        calibration.benchmarks,
        calibration.model_ids,
        config.variants,
        k_grid=k_grid,
        top_p_grid=top_p_grid,
        alphas=config.sweep_alphas,
        knn_k_grid=knn_k_grid,
        n_folds=config.n_folds,
        seed=seed,
        router_params={"min_cluster_size": config.min_cluster_size},
    )


def fit_routers(
    calibration: EvaluationData, config: EvaluationConfig, seed: int, tuning: dict[str, TuningResult]
) -> dict[str, ClusterRouter]:
    """Fit one router per variant on all calibration samples, sharing k-means fits between equal k."""
    bases: dict[int, ClusterRouter] = {}
    routers = {}
    for variant in config.variants:
        chosen = tuning.get(variant)
        k = config.k if config.k is not None else chosen.k
        top_p = config.top_p if config.top_p is not None else chosen.top_p
        if k > len(calibration):
            raise HarnessError(f"k = {k} exceeds the {len(calibration)} calibration samples; use a smaller --k")
        if k not in bases:
            bases[k] = ClusterRouter(k=k, random_state=seed, min_cluster_size=config.min_cluster_size).fit(
                calibration.embeddings, calibration.scores, calibration.costs, calibration.model_ids
            )
        extra = {}
        knn_k = config.knn_k
        if knn_k is None and chosen is not None:
            knn_k = chosen.knn_k
        if variant_knn_weight(variant) > 0 and knn_k is not None:
            extra["knn_k"] = min(knn_k, len(calibration))
        routers[variant] = bases[k].reconfigured(variant=variant, top_p=top_p, **extra)
    return routers


def run_round(
    calibration: EvaluationData,
    test: EvaluationData,
    config: EvaluationConfig,
    seed: int,
    with_sweeps: bool = True,
    with_dataset_oracle: bool = True,
) -> RoundResult:
    """Score every baseline and router variant on one calibration/test pair.

    ``test`` must hold only samples with a result from every model.
    """
    models = calibration.model_ids
    outcomes: dict[str, Outcome] = {}
    scores, costs = test.scores, test.costs
    n = len(test)

    best = best_single_model(calibration.scores, calibration.costs, calibration.benchmarks)
    cheapest = cheapest_model(calibration.costs)
    outcomes["oracle"] = Outcome("baseline", *take(oracle_selection(scores, costs), scores, costs))
    if with_dataset_oracle:
        selection = dataset_oracle_selection(calibration.scores, calibration.costs, calibration.benchmarks, test.benchmarks)
        outcomes["dataset-oracle"] = Outcome("baseline", *take(selection, scores, costs))
    outcomes["best-single"] = Outcome("baseline", *take(np.full(n, best), scores, costs), model=models[best])
    outcomes["cheapest"] = Outcome("baseline", *take(np.full(n, cheapest), scores, costs), model=models[cheapest])
    outcomes["random"] = Outcome("baseline", *random_outcome(scores, costs))
    for index, model in enumerate(models):
        outcomes[f"single:{model}"] = Outcome("single", scores[:, index], costs[:, index], model=model)

    tuning = _tune(calibration, config, seed) if config.needs_tuning else {}
    routers = fit_routers(calibration, config, seed, tuning)
    sweeps = {}
    for variant, router in routers.items():
        for requested in config.alphas:
            alpha = tuning[variant].alpha if requested == AUTO else float(requested)
            result = router.route_details(test.embeddings, alpha=alpha)
            outcomes[router_name(variant, requested)] = Outcome(
                "router",
                *take(result.models, scores, costs),
                alpha=alpha,
                requested_alpha=requested,
                fallback_rate=float(result.fallback.mean()),
                variant=variant,
            )
        if with_sweeps:
            sweeps[variant] = alpha_sweep(router, test.embeddings, scores, costs, test.benchmarks, config.sweep_alphas)
    baseline_sweeps = {}
    if with_sweeps and with_dataset_oracle:
        baseline_sweeps["dataset-oracle"] = dataset_oracle_sweep(calibration, test, config.sweep_alphas)
    return RoundResult(outcomes=outcomes, sweeps=sweeps, tuning=tuning, baseline_sweeps=baseline_sweeps)


def dataset_oracle_sweep(calibration: EvaluationData, test: EvaluationData, alphas: Sequence[float]) -> list[SweepPoint]:
    """Score the dataset oracle (one model per benchmark) at each alpha, like a router's sweep."""
    points = []
    for alpha in alphas:
        selection = dataset_router_selection(
            calibration.scores, calibration.costs, calibration.benchmarks, test.benchmarks, float(alpha)
        )
        summary = summarise(*take(selection, test.scores, test.costs), test.benchmarks)
        points.append(
            SweepPoint(
                alpha=float(alpha),
                accuracy=summary.accuracy,
                accuracy_samples=summary.accuracy_samples,
                total_cost=summary.total_cost,
                cost_per_sample=summary.cost_per_sample,
            )
        )
    return points


def concatenate_rounds(parts: Sequence[RoundResult]) -> RoundResult:
    """Join rounds on disjoint test sets (one per held-out benchmark) into one round.

    Methods missing from any part are dropped. A router row's alpha becomes
    the mean of the parts' alphas.
    """
    names = [name for name in parts[0].outcomes if all(name in part.outcomes for part in parts)]
    joined = {}
    for name in names:
        pieces = [part.outcomes[name] for part in parts]
        first = pieces[0]
        sizes = np.array([piece.scores.size for piece in pieces], dtype=float)
        joined[name] = Outcome(
            kind=first.kind,
            scores=np.concatenate([piece.scores for piece in pieces]),
            costs=np.concatenate([piece.costs for piece in pieces]),
            alpha=None if first.alpha is None else float(np.mean([piece.alpha for piece in pieces])),
            requested_alpha=first.requested_alpha,
            model=first.model if all(piece.model == first.model for piece in pieces) else "varies",
            fallback_rate=None
            if first.fallback_rate is None
            else float(np.average([piece.fallback_rate for piece in pieces], weights=sizes)),
            variant=first.variant,
        )
    return RoundResult(outcomes=joined)
