"""Choose the router's k, top_p, knn_k and alpha by cross-validation inside the calibration data.

No test sample is seen here. Each fold fits one k-means per k on the other
folds and routes the held-out fold with every (variant, top_p, alpha);
held-out outcomes of all folds are pooled and scored like a test set.

- k, top_p and, for variants with kNN evidence, knn_k: highest pooled
  accuracy at alpha = 1 (mean over benchmarks); ties go to the lower cost,
  then the smaller k, top_p and knn_k. A variant that routes by kNN alone
  (``knn_weight`` 1) ignores top_p, so only the first top_p is tried.
- alpha ("auto"): the cheapest alpha whose pooled accuracy is at least that
  of the best single model. The best single model is chosen on each fold's
  training part and scored on the held-out fold. When no alpha reaches it,
  the most accurate alpha is taken.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from harness.errors import HarnessError
from harness.evaluation.baselines import best_single_model
from harness.evaluation.metrics import summarise, take
from harness.evaluation.splits import complete_rows, stratified_folds
from harness.evaluation.sweeps import DEFAULT_SWEEP_ALPHAS
from harness.router import ClusterRouter, variant_knn_weight

logger = logging.getLogger(__name__)

DEFAULT_K_GRID: tuple[int, ...] = (10, 20, 30, 40, 60)
DEFAULT_TOP_P_GRID: tuple[int, ...] = (1, 2, 3, 4)
DEFAULT_KNN_K_GRID: tuple[int, ...] = (20, 50, 100, 200)


@dataclass(frozen=True)
class TuningResult:
    """Hyperparameters chosen for one variant.

    Attributes
    ----------
    variant : str
        Router variant.
    k, top_p : int
        Chosen cluster count and number of nearest clusters.
    knn_k : int or None
        Chosen number of neighbours, None for variants without kNN evidence.
    alpha : float
        Cheapest alpha matching the best single model in cross-validation.
    cv_accuracy : float
        Pooled cross-validated accuracy at alpha = 1 with the chosen k and top_p.
    best_single_cv_accuracy : float
        Pooled cross-validated accuracy of the best single model.
    table : list of dict
        One row per (k, top_p, knn_k, alpha): accuracy and total_cost.
    """

    variant: str
    k: int
    top_p: int
    alpha: float
    cv_accuracy: float
    best_single_cv_accuracy: float
    table: list[dict[str, float]] = field(default_factory=list)
    knn_k: int | None = None


def _cost_key(cost: float) -> float:
    return np.inf if np.isnan(cost) else cost


def _routing_grid(
    variant: str, top_p_grid: Sequence[int], knn_k_grid: Sequence[int], n_train: int
) -> list[tuple[int, int | None]]:
    """Return the (top_p, knn_k) pairs to try for one variant; knn_k is None without kNN evidence."""
    knn_weight = variant_knn_weight(variant)
    if knn_weight <= 0:
        return [(top_p, None) for top_p in top_p_grid]
    knn_values = sorted({min(int(value), n_train) for value in knn_k_grid})
    capped = sorted(int(value) for value in knn_k_grid if int(value) > n_train)
    if capped:
        logger.info("knn_k %s above the %d training queries of a fold: using %d", capped, n_train, n_train)
    top_p_values = list(top_p_grid)[:1] if knn_weight >= 1 else list(top_p_grid)
    return [(top_p, knn_k) for top_p in top_p_values for knn_k in knn_values]


def tune_router(
    embeddings: np.ndarray,
    scores: np.ndarray,
    costs: np.ndarray,
    benchmarks: np.ndarray,
    model_ids: list[str],
    variants: Sequence[str],
    k_grid: Sequence[int] = DEFAULT_K_GRID,
    top_p_grid: Sequence[int] = DEFAULT_TOP_P_GRID,
    alphas: Sequence[float] = DEFAULT_SWEEP_ALPHAS,
    knn_k_grid: Sequence[int] = DEFAULT_KNN_K_GRID,
    n_folds: int = 5,
    seed: int = 0,
    router_params: dict[str, object] | None = None,
) -> dict[str, TuningResult]:
    """Cross-validate every variant over the grids and return the choice per variant.

    Parameters
    ----------
    embeddings : numpy.ndarray
        Shape (n, d), calibration embeddings.
    scores, costs : numpy.ndarray
        Shape (n, m), calibration results; NaN where missing or unknown.
    benchmarks : numpy.ndarray
        Shape (n,).
    model_ids : list of str
        The m models.
    variants : sequence of str
        Router variants to tune.
    k_grid, top_p_grid, knn_k_grid : sequence of int
        Candidate values; pass one value to fix it. ``knn_k_grid`` applies
        only to variants with kNN evidence; values above the smallest
        training fold are lowered to its size (and logged).
    alphas : sequence of float
        Candidate alphas; 1.0 is always added.
    n_folds : int
        Cross-validation folds, stratified by benchmark.
    seed : int
        Seed of the folds and of k-means.
    router_params : dict, optional
        Further ClusterRouter parameters (e.g. ``min_cluster_size``).

    Returns
    -------
    dict
        Variant name -> :class:`TuningResult`.
    """
    router_params = dict(router_params or {})
    alphas = sorted(set(float(a) for a in alphas) | {1.0}, reverse=True)
    folds = stratified_folds(benchmarks, n_folds, seed)
    complete = complete_rows(scores)
    held_out = np.flatnonzero(complete)
    if held_out.size == 0:
        raise HarnessError("cross-validation needs calibration samples with a result from every model; none found")

    n = scores.shape[0]
    chosen_scores: dict[tuple, np.ndarray] = {}
    chosen_costs: dict[tuple, np.ndarray] = {}
    best_scores = np.full(n, np.nan)
    best_costs = np.full(n, np.nan)
    usable_k = set()

    smallest_train = min(int((folds != fold).sum()) for fold in range(n_folds))
    too_large = sorted(k for k in k_grid if k > smallest_train)
    if too_large:
        logger.info("k %s skipped in some folds: more clusters than training queries", too_large)
    # Every fold must try the same knn_k values, so they are capped by the smallest training part.
    grids = {variant: _routing_grid(variant, top_p_grid, knn_k_grid, smallest_train) for variant in variants}
    for fold in range(n_folds):
        train = np.flatnonzero(folds != fold)
        test = np.flatnonzero((folds == fold) & complete)
        if test.size == 0:
            continue
        best = best_single_model(scores[train], costs[train], benchmarks[train])
        best_scores[test], best_costs[test] = scores[test, best], costs[test, best]
        for k in k_grid:
            if k > train.size:
                continue
            usable_k.add(k)
            base = ClusterRouter(k=k, random_state=seed, **router_params).fit(
                embeddings[train], scores[train], costs[train], model_ids
            )
            for variant in variants:
                for top_p, knn_k in grids[variant]:
                    extra = {} if knn_k is None else {"knn_k": knn_k}
                    router = base.reconfigured(variant=variant, top_p=top_p, **extra)
                    routed = router.route_alphas(embeddings[test], alphas)
                    for alpha in alphas:
                        key = (variant, k, top_p, knn_k, alpha)
                        if key not in chosen_scores:
                            chosen_scores[key] = np.full(n, np.nan)
                            chosen_costs[key] = np.full(n, np.nan)
                        picked = routed[alpha].models
                        chosen_scores[key][test], chosen_costs[key][test] = take(picked, scores[test], costs[test])
    if not usable_k:
        raise HarnessError(f"every k in {list(k_grid)} exceeds the calibration fold size; use a smaller k")

    best_summary = summarise(best_scores[held_out], best_costs[held_out], benchmarks[held_out])
    results = {}
    for variant in variants:
        table = []
        for key, values in chosen_scores.items():
            name, k, top_p, knn_k, alpha = key
            if name != variant:
                continue
            summary = summarise(values[held_out], chosen_costs[key][held_out], benchmarks[held_out])
            table.append(
                {
                    "k": k,
                    "top_p": top_p,
                    "knn_k": knn_k,
                    "alpha": alpha,
                    "accuracy": summary.accuracy,
                    "total_cost": summary.total_cost,
                }
            )
        at_one = [row for row in table if row["alpha"] == 1.0]
        top = max(
            at_one,
            key=lambda row: (
                round(row["accuracy"], 12),
                -_cost_key(row["total_cost"]),
                -row["k"],
                -row["top_p"],
                -(row["knn_k"] or 0),
            ),
        )
        candidates = [
            row for row in table if (row["k"], row["top_p"], row["knn_k"]) == (top["k"], top["top_p"], top["knn_k"])
        ]
        matching = [row for row in candidates if row["accuracy"] >= best_summary.accuracy - 1e-12]
        if matching:
            auto = min(matching, key=lambda row: (_cost_key(row["total_cost"]), -row["alpha"]))
        else:
            auto = max(candidates, key=lambda row: (round(row["accuracy"], 12), -_cost_key(row["total_cost"])))
        results[variant] = TuningResult(
            variant=variant,
            k=int(top["k"]),
            top_p=int(top["top_p"]),
            alpha=float(auto["alpha"]),
            cv_accuracy=float(top["accuracy"]),
            best_single_cv_accuracy=best_summary.accuracy,
            table=table,
            knn_k=None if top["knn_k"] is None else int(top["knn_k"]),
        )
        logger.info(
            "tuned %s: k=%d top_p=%d knn_k=%s alpha=%.2f (CV accuracy %.4f at alpha=1, best single %.4f)",
            variant,
            top["k"],
            top["top_p"],
            top["knn_k"],
            auto["alpha"],
            top["accuracy"],
            best_summary.accuracy,
        )
    return results
