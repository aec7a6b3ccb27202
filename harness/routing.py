"""Router steps of the main job: fit on the calibration split, sweep alpha on the test split from the matrix."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from harness.embedding import embed_query_text, get_embedder
from harness.errors import HarnessError
from harness.matrix import to_arrays
from harness.router import ClusterRouter, load_router, save_router

if TYPE_CHECKING:
    from harness.runner import RunConfig

logger = logging.getLogger(__name__)

ALPHA_GRID = tuple(np.round(np.linspace(0.0, 1.0, 21), 2))


def _embed(prompts: list[str], embedder_name: str) -> np.ndarray:
    embedder = get_embedder(embedder_name)
    return embedder.encode([embed_query_text(p) for p in prompts])


def _routed_utility(router: ClusterRouter, embeddings: np.ndarray, scores: np.ndarray, costs: np.ndarray, alpha: float) -> float:
    """Return alpha * accuracy - (1 - alpha) * relative cost of routing held-out rows; higher is better."""
    choice = router.route(embeddings, alpha=alpha)
    rows = np.arange(len(choice))
    accuracy = float(np.nanmean(scores[rows, choice]))
    cost = float(np.nansum(costs[rows, choice]))
    ceiling = float(np.nansum(np.nanmax(costs, axis=1))) or 1.0
    return alpha * accuracy - (1.0 - alpha) * cost / ceiling


def choose_k(embeddings: np.ndarray, scores: np.ndarray, costs: np.ndarray, model_ids: list[str], config: "RunConfig", folds: int = 3) -> int:
    """Pick the number of clusters by k-fold cross-validation inside the calibration split only."""
    n = len(embeddings)
    candidates = sorted({k for k in (2, 4, 6, 8, 12, 16, 24, 32) if k <= max(2, n // 4)})
    if len(candidates) == 1 or n < 2 * folds:
        return candidates[0]
    order = np.random.default_rng(config.seed).permutation(n)
    parts = np.array_split(order, folds)
    best_k, best_utility = candidates[0], -np.inf
    for k in candidates:
        utilities = []
        for held in parts:
            train = np.setdiff1d(order, held)
            router = ClusterRouter(k=min(k, len(train)), top_p=min(config.top_p, k), alpha=config.alpha,
                                   variant=config.variant, random_state=config.seed, embedder_name=config.embedder)
            router.fit(embeddings[train], scores[train], costs[train], model_ids)
            utilities.append(_routed_utility(router, embeddings[held], scores[held], costs[held], config.alpha))
        utility = float(np.mean(utilities))
        logger.debug("k=%d: cross-validated utility %.4f", k, utility)
        if utility > best_utility + 1e-12:
            best_k, best_utility = k, utility
    return best_k


def fit_router(calibration: pd.DataFrame, model_ids: list[str], config: "RunConfig", router_dir: Path) -> dict[str, Any]:
    """Fit the cluster router on the calibration rows of the matrix and save it to ``router_dir``."""
    if calibration.empty:
        raise HarnessError("no calibration results to fit the router on: every candidate call failed or no sample was selected")
    arrays = to_arrays(calibration.drop(columns=["served_by", "cached", "split"], errors="ignore"), model_ids)
    embeddings = _embed(arrays.prompts, config.embedder)

    k = config.k if config.k is not None else choose_k(embeddings, arrays.scores, arrays.costs, model_ids, config)
    if k > len(embeddings):
        raise HarnessError(f"--k {k} is larger than the {len(embeddings)} calibration samples; use a smaller k")
    router = ClusterRouter(k=k, top_p=min(config.top_p, k), alpha=config.alpha, variant=config.variant,
                           random_state=config.seed, embedder_name=config.embedder)
    router.fit(embeddings, arrays.scores, arrays.costs, model_ids)
    save_router(router, router_dir)
    return {
        "n_samples": len(embeddings),
        "k": k,
        "top_p": router.top_p,
        "alpha": config.alpha,
        "variant": config.variant,
        "embedder": config.embedder,
        "summary": f"k={k}, top_p={router.top_p}, alpha={config.alpha}, variant={config.variant}",
    }


def routed_test_matrix(matrix: pd.DataFrame, router_dir: Path) -> dict[str, pd.DataFrame]:
    """Sweep alpha on the test split using recorded answers only (no model calls).

    Returns the router's (alpha, accuracy, cost) points, with accuracy the
    mean over benchmarks and cost the total in US dollars, and the same two
    figures for each single model.
    """
    router = load_router(router_dir)
    test = matrix[matrix["split"] == "test"].drop(columns=["served_by", "cached", "split", "response"], errors="ignore")
    arrays = to_arrays(test, list(router.model_ids_))
    embeddings = _embed(arrays.prompts, router.embedder_name)
    benchmarks = np.asarray(arrays.benchmarks)
    rows = np.arange(len(embeddings))

    def summarise(chosen_scores: np.ndarray, chosen_costs: np.ndarray) -> tuple[float, float]:
        per_benchmark = [np.nanmean(chosen_scores[benchmarks == b]) for b in np.unique(benchmarks)]
        return float(np.nanmean(per_benchmark)), float(np.nansum(chosen_costs))

    sweep = []
    for alpha in ALPHA_GRID:
        choice = router.route(embeddings, alpha=float(alpha))
        accuracy, cost = summarise(arrays.scores[rows, choice], arrays.costs[rows, choice])
        sweep.append({"alpha": float(alpha), "accuracy": accuracy, "cost": cost})
    singles = []
    for j, model_id in enumerate(arrays.model_ids):
        accuracy, cost = summarise(arrays.scores[:, j], arrays.costs[:, j])
        singles.append({"name": model_id, "accuracy": accuracy, "cost": cost})
    return {"sweep": pd.DataFrame(sweep), "singles": pd.DataFrame(singles)}
