"""Router steps of the main job: fit on the calibration split, sweep alpha on the test split from the matrix."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from harness.embedding import embed_query_text, encode_cached
from harness.errors import HarnessError
from harness.matrix import to_arrays
from harness.evaluation.metrics import summarise
from harness.evaluation.sweeps import alpha_sweep
from harness.evaluation.tuning import DEFAULT_KNN_K_GRID, tune_router
from harness.router import ClusterRouter, load_router, save_router, variant_knn_weight

if TYPE_CHECKING:
    from harness.runner import RunConfig

logger = logging.getLogger(__name__)

# Below this many calibration samples, cross-validation folds are too small to compare k values.
MIN_SAMPLES_FOR_TUNING = 20
ALPHA_GRID = tuple(np.round(np.linspace(0.0, 1.0, 21), 2))


def _embed(prompts: list[str], embedder_name: str) -> np.ndarray:
    # Embeddings are cached on disk, so a rerun does not encode the same prompts again.
    return encode_cached([embed_query_text(p) for p in prompts], embedder_name)


def _k_grid(n_samples: int) -> tuple[int, ...]:
    """Return candidate cluster counts that leave about 4 or more calibration samples per cluster."""
    grid = tuple(k for k in (2, 4, 8, 12, 16, 24, 32, 40, 60) if k <= max(2, n_samples // 4))
    return grid or (1,)


def fit_router(calibration: pd.DataFrame, model_ids: list[str], config: "RunConfig", router_dir: Path) -> dict[str, Any]:
    """Fit the cluster router on the calibration rows of the matrix and save it to ``router_dir``."""
    if calibration.empty:
        raise HarnessError("no calibration results to fit the router on: every candidate call failed or no sample was selected")
    arrays = to_arrays(calibration.drop(columns=["served_by", "cached", "split"], errors="ignore"), model_ids)
    embeddings = _embed(arrays.prompts, config.embedder)

    k, top_p, knn_k = config.k, config.top_p, config.knn_k
    uses_knn = variant_knn_weight(config.variant) > 0
    if k is None and len(embeddings) < MIN_SAMPLES_FOR_TUNING:
        k = max(1, len(embeddings) // 4)
        logger.warning(
            "only %d calibration samples: k=%d without cross-validation; raise --limit for a tuned router",
            len(embeddings), k,
        )
    elif k is None or top_p is None or (uses_knn and knn_k is None):
        # Whatever the user did not set is chosen by cross-validation inside the calibration split only.
        tuned = tune_router(
            embeddings, arrays.scores, arrays.costs, np.asarray(arrays.benchmarks), model_ids,
            variants=[config.variant],
            k_grid=(k,) if k is not None else _k_grid(len(embeddings)),
            top_p_grid=(top_p,) if top_p is not None else (1, 2, 3),
            knn_k_grid=(knn_k,) if knn_k is not None else DEFAULT_KNN_K_GRID,
            n_folds=min(5, max(2, len(embeddings) // 10)), seed=config.seed,
        )[config.variant]
        k, top_p, knn_k = tuned.k, tuned.top_p, tuned.knn_k if knn_k is None else knn_k
    top_p = 1 if top_p is None else top_p
    knn = {"knn_k": min(knn_k, len(embeddings))} if uses_knn and knn_k is not None else {}
    if k > len(embeddings):
        raise HarnessError(f"--k {k} is larger than the {len(embeddings)} calibration samples; use a smaller k")
    router = ClusterRouter(k=k, top_p=min(top_p, k), alpha=config.alpha, variant=config.variant,
                           random_state=config.seed, embedder_name=config.embedder, **knn)
    router.fit(embeddings, arrays.scores, arrays.costs, model_ids)
    save_router(router, router_dir)
    return {
        "n_samples": len(embeddings),
        "k": k,
        "top_p": router.top_p,
        "alpha": config.alpha,
        "variant": config.variant,
        "embedder": config.embedder,
        "knn_k": router.knn_k if router.knn_weight > 0 else None,
        "summary": f"k={k}, top_p={router.top_p}, alpha={config.alpha}, variant={config.variant}"
        + (f", knn_k={router.knn_k}" if router.knn_weight > 0 else ""),
    }


def routed_test_matrix(matrix: pd.DataFrame, router_dir: Path) -> dict[str, Any]:
    """Sweep alpha on the test split using recorded answers only (no model calls).

    Returns the router's sweep points (accuracy as the mean over benchmarks,
    total cost in US dollars) and, per single model, (total cost, accuracy).
    """
    router = load_router(router_dir)
    test = matrix[matrix["split"] == "test"].drop(columns=["served_by", "cached", "split", "response"], errors="ignore")
    arrays = to_arrays(test, list(router.model_ids_))

    # The sweep needs every model's answer to each test sample; a sample with
    # a failed call for some model is left out of it (and counted).
    complete = ~np.isnan(arrays.scores).any(axis=1)
    if not complete.any():
        raise HarnessError("no test sample has an answer from every pool model, so the alpha sweep is empty; see failures.csv")
    if not complete.all():
        logger.warning("alpha sweep: %d test samples left out because a model's call failed on them", int((~complete).sum()))
    prompts = [p for p, keep in zip(arrays.prompts, complete) if keep]
    scores, costs = arrays.scores[complete], arrays.costs[complete]
    benchmarks = np.asarray(arrays.benchmarks)[complete]
    embeddings = _embed(prompts, router.embedder_name)

    sweep = alpha_sweep(router, embeddings, scores, costs, benchmarks, ALPHA_GRID)
    singles = {}
    for j, model_id in enumerate(arrays.model_ids):
        summary = summarise(scores[:, j], costs[:, j], benchmarks)
        singles[model_id] = (summary.total_cost, summary.accuracy)
    return {"sweep": sweep, "singles": singles}
