"""The cluster router (Avengers-Pro, Zhang et al. 2025, arXiv 2508.12631) and its variants.

Fit: k-means clusters the L2-normalised query embeddings of a labelled
calibration set. For cluster j and model i, the mean score p(j, i) and the
mean cost q(j, i) are min-max normalised across models inside the cluster
and combined into the performance-efficiency score

    x(j, i) = alpha * p~(j, i) + (1 - alpha) * (1 - q~(j, i)).

Route: sum x over the query's ``top_p`` nearest centroids and pick the argmax
model; ties go to the model with the lower calibration-wide mean cost.
Clusters with fewer than ``min_cluster_size`` calibration queries use the
calibration-wide ranking instead of their own statistics.

Variants (``variant=``), each a preset of three switches that can also be
set one by one:

- ``avengers-pro``: the published method (no shrinkage, plain sum, no kNN).
- ``shrunk``: each cluster's accuracy and cost are shrunk toward the
  calibration-wide values, ``(n p + tau p_global) / (n + tau)``, so a small
  cluster needs more evidence to overturn the global ranking.
- ``softmax``: the top-p clusters are weighted by a softmax over negative
  squared distance with ``temperature`` in place of a plain sum.
- ``knn``: shrunk cluster scores blended with the same score computed on the
  query's ``knn_k`` nearest calibration queries, weight ``knn_weight``.
- ``neighbours``: the kNN score alone (``knn_weight`` 1): each query is
  routed by the shrunk statistics of its ``knn_k`` nearest calibration
  queries, so the clusters play no part. With a large ``knn_k`` this is a
  smooth, query-centred version of the cluster statistics.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from sklearn.cluster import KMeans

from harness.embedding import DEFAULT_EMBEDDER
from harness.errors import HarnessError
from harness.router.stats import (
    argmax_cheapest,
    column_means,
    fill_unknown_costs,
    group_means,
    min_max_rows,
    tie_ranks,
)

logger = logging.getLogger(__name__)

VARIANTS: dict[str, dict[str, object]] = {
    "avengers-pro": {"shrinkage": 0.0, "weighting": "sum", "knn_weight": 0.0},
    "shrunk": {"shrinkage": 10.0, "weighting": "sum", "knn_weight": 0.0},
    "softmax": {"shrinkage": 0.0, "weighting": "softmax", "knn_weight": 0.0},
    "knn": {"shrinkage": 10.0, "weighting": "sum", "knn_weight": 0.5},
    "neighbours": {"shrinkage": 10.0, "weighting": "sum", "knn_weight": 1.0},
}
WEIGHTINGS = ("sum", "softmax")


def variant_knn_weight(variant: str) -> float:
    """Return the preset weight of kNN evidence of a variant: 0 for clusters only, 1 for neighbours only."""
    return float(VARIANTS[variant]["knn_weight"])

# Batches up to this size route with single-threaded BLAS. A multi-threaded
# matrix-vector product on a busy 2-core machine took about 10 ms where one
# thread took 0.15 ms (2,218 x 384 float32, OpenBLAS from numpy 2.4).
SINGLE_THREAD_MAX_QUERIES = 256
_thread_controller = None


def _single_thread_blas():
    """Return a context manager that limits BLAS to one thread (a no-op when threadpoolctl is unavailable)."""
    global _thread_controller
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:
        return contextlib.nullcontext()
    if _thread_controller is None:
        _thread_controller = ThreadpoolController()
    return _thread_controller.limit(limits=1, user_api="blas")


def pool_fingerprint(model_ids: list[str]) -> str:
    """Return the SHA-256 hex digest of the model ids in order, one per line."""
    return hashlib.sha256("\n".join(model_ids).encode("utf-8")).hexdigest()


def _check_alpha(alpha: float) -> float:
    alpha = float(alpha)
    if not 0.0 <= alpha <= 1.0:
        raise HarnessError(f"alpha must be in [0, 1] (1 = accuracy only, 0 = cost only), got {alpha}")
    return alpha


@dataclass(frozen=True)
class RouteResult:
    """Routing decisions with the evidence behind them.

    Attributes
    ----------
    models : numpy.ndarray
        Shape (n,), int index into ``model_ids_`` per query.
    fallback : numpy.ndarray
        Shape (n,), bool, True where a chosen cluster was too small and the
        calibration-wide ranking stood in for it.
    clusters : numpy.ndarray
        Shape (n, top_p), int indices of the chosen clusters, nearest first.
    scores : numpy.ndarray
        Shape (n, m), the summed score per model that the argmax ran on.
    """

    models: np.ndarray
    fallback: np.ndarray
    clusters: np.ndarray
    scores: np.ndarray


class ClusterRouter:
    """Route each query to one model of a pool by its nearest k-means clusters.

    Parameters
    ----------
    k : int
        Number of k-means clusters.
    top_p : int
        Number of nearest clusters whose scores are combined per query.
    alpha : float
        Default trade-off in [0, 1]: 1 ranks by accuracy only, 0 by cost only.
    variant : str
        A name in :data:`VARIANTS`; sets ``shrinkage``, ``weighting`` and
        ``knn_weight`` unless those are passed explicitly.
    random_state : int
        Seed of k-means.
    min_cluster_size : int
        Clusters with fewer calibration queries fall back to the
        calibration-wide ranking.
    shrinkage : float, optional
        Pseudo-count ``tau`` pulling cluster statistics toward the global ones.
    weighting : {"sum", "softmax"}, optional
        How the top-p clusters' scores combine.
    temperature : float
        Softmax temperature over squared Euclidean distance (``softmax`` weighting).
    knn_k : int
        Neighbours used by the kNN evidence.
    knn_weight : float, optional
        Weight in [0, 1] of the kNN evidence against the cluster score.
    embedder_name : str
        Name of the encoder that produced the embeddings; stored with the router.
    n_init : int
        k-means restarts.
    """

    def __init__(
        self,
        k: int = 30,
        top_p: int = 2,
        alpha: float = 1.0,
        variant: str = "avengers-pro",
        random_state: int = 0,
        min_cluster_size: int = 5,
        shrinkage: float | None = None,
        weighting: str | None = None,
        temperature: float = 0.05,
        knn_k: int = 20,
        knn_weight: float | None = None,
        embedder_name: str = DEFAULT_EMBEDDER,
        n_init: int = 4,
    ) -> None:
        if variant not in VARIANTS:
            raise HarnessError(f"unknown router variant {variant!r}; choose one of {', '.join(VARIANTS)}")
        preset = VARIANTS[variant]
        self.k = int(k)
        self.top_p = int(top_p)
        self.alpha = _check_alpha(alpha)
        self.variant = variant
        self.random_state = int(random_state)
        self.min_cluster_size = int(min_cluster_size)
        self.shrinkage = float(preset["shrinkage"] if shrinkage is None else shrinkage)
        self.weighting = str(preset["weighting"] if weighting is None else weighting)
        self.temperature = float(temperature)
        self.knn_k = int(knn_k)
        self.knn_weight = float(preset["knn_weight"] if knn_weight is None else knn_weight)
        self.embedder_name = embedder_name
        self.n_init = int(n_init)
        self._check_params()

    def _check_params(self) -> None:
        if self.k < 1:
            raise HarnessError(f"k must be >= 1 clusters, got {self.k}")
        if self.top_p < 1:
            raise HarnessError(f"top_p must be >= 1 cluster, got {self.top_p}")
        if self.weighting not in WEIGHTINGS:
            raise HarnessError(f"weighting must be one of {', '.join(WEIGHTINGS)}, got {self.weighting!r}")
        if self.shrinkage < 0:
            raise HarnessError(f"shrinkage must be >= 0, got {self.shrinkage}")
        if self.temperature <= 0:
            raise HarnessError(f"temperature must be > 0, got {self.temperature}")
        if not 0.0 <= self.knn_weight <= 1.0:
            raise HarnessError(f"knn_weight must be in [0, 1], got {self.knn_weight}")
        if self.knn_weight > 0 and self.knn_k < 1:
            raise HarnessError(f"knn_k must be >= 1 neighbour, got {self.knn_k}")

    def get_params(self) -> dict[str, object]:
        """Return the constructor parameters as a dict."""
        return {
            "k": self.k,
            "top_p": self.top_p,
            "alpha": self.alpha,
            "variant": self.variant,
            "random_state": self.random_state,
            "min_cluster_size": self.min_cluster_size,
            "shrinkage": self.shrinkage,
            "weighting": self.weighting,
            "temperature": self.temperature,
            "knn_k": self.knn_k,
            "knn_weight": self.knn_weight,
            "embedder_name": self.embedder_name,
            "n_init": self.n_init,
        }

    def __repr__(self) -> str:
        shown = ", ".join(f"{key}={value!r}" for key, value in self.get_params().items())
        return f"ClusterRouter({shown})"

    # ----------------------------------------------------------------- fit

    def fit(self, embeddings: np.ndarray, scores: np.ndarray, costs: np.ndarray, model_ids: list[str]) -> "ClusterRouter":
        """Cluster the calibration queries and learn per-cluster model statistics.

        Parameters
        ----------
        embeddings : numpy.ndarray
            Shape (n, d), L2-normalised query embeddings (rows are renormalised).
        scores : numpy.ndarray
            Shape (n, m), score in [0, 1] per query and model; NaN where missing.
        costs : numpy.ndarray
            Shape (n, m), cost in US dollars; NaN where unknown.
        model_ids : list of str
            The m model ids, in column order.

        Returns
        -------
        ClusterRouter
            ``self``, with ``cluster_centers_`` (k, d), ``labels_`` (n,),
            ``cluster_sizes_`` (k,), ``cluster_accuracy_`` and ``cluster_cost_``
            (k, m) raw means, ``global_accuracy_`` and ``global_cost_`` (m,),
            ``fallback_clusters_`` (k,) and ``model_ids_`` set.
        """
        embeddings, scores, costs = self._check_fit_input(embeddings, scores, costs, model_ids)
        n = embeddings.shape[0]
        if self.k > n:
            raise HarnessError(f"k = {self.k} clusters needs at least {self.k} calibration queries, got {n}; lower k")

        kmeans = KMeans(n_clusters=self.k, n_init=self.n_init, random_state=self.random_state)
        labels = kmeans.fit_predict(embeddings)
        self.cluster_centers_ = kmeans.cluster_centers_.astype(np.float32)
        self.labels_ = labels.astype(np.int64)
        self.model_ids_ = list(model_ids)
        self.n_features_in_ = embeddings.shape[1]
        self.cluster_sizes_ = np.bincount(labels, minlength=self.k).astype(np.int64)

        self.global_accuracy_, _ = column_means(scores)
        if np.isnan(self.global_accuracy_).any():
            empty = [model_ids[i] for i in np.flatnonzero(np.isnan(self.global_accuracy_))]
            raise HarnessError(f"no calibration score for model(s) {', '.join(empty)}; remove them from the pool or add results")
        raw_global_cost, _ = column_means(costs)
        self.global_cost_ = fill_unknown_costs(raw_global_cost, self.model_ids_)
        self.tie_ranks_ = tie_ranks(self.global_cost_)

        self.cluster_accuracy_, self.cluster_score_counts_ = group_means(scores, labels, self.k)
        self.cluster_cost_, self.cluster_cost_counts_ = group_means(costs, labels, self.k)
        self.fallback_clusters_ = self.cluster_sizes_ < self.min_cluster_size

        # Kept for the kNN evidence and for reconfigured(); saved only by kNN variants.
        self.calibration_embeddings_ = embeddings
        self.calibration_scores_ = scores
        self.calibration_costs_ = costs
        self._prepare()
        logger.debug(
            "fitted %s on %d queries: %d clusters (sizes %d..%d), %d below min_cluster_size",
            self.variant,
            n,
            self.k,
            self.cluster_sizes_.min(),
            self.cluster_sizes_.max(),
            int(self.fallback_clusters_.sum()),
        )
        return self

    def _check_fit_input(self, embeddings, scores, costs, model_ids):
        embeddings = np.asarray(embeddings, dtype=np.float32)
        scores = np.asarray(scores, dtype=float)
        costs = np.asarray(costs, dtype=float)
        if embeddings.ndim != 2:
            raise HarnessError(f"embeddings must have shape (n, d), got {embeddings.shape}")
        n = embeddings.shape[0]
        m = len(model_ids)
        if m == 0:
            raise HarnessError("model_ids is empty; the pool needs at least one model")
        if len(set(model_ids)) != m:
            raise HarnessError(f"model_ids contains duplicates: {model_ids}")
        if scores.shape != (n, m) or costs.shape != (n, m):
            raise HarnessError(
                f"scores {scores.shape} and costs {costs.shape} must both have shape (n, m) = ({n}, {m}) "
                "to match the embeddings and model_ids"
            )
        if not np.isfinite(embeddings).all():
            raise HarnessError("embeddings contain NaN or infinite values")
        known = scores[~np.isnan(scores)]
        if known.size and (known.min() < 0 or known.max() > 1):
            raise HarnessError(f"scores must be in [0, 1] or NaN, found values in [{known.min()}, {known.max()}]")
        known_costs = costs[~np.isnan(costs)]
        if known_costs.size and known_costs.min() < 0:
            raise HarnessError(f"costs must be >= 0 US dollars or NaN, found {known_costs.min()}")
        norms = np.linalg.norm(embeddings, axis=1, keepdims=True)
        embeddings = embeddings / np.where(norms > 0, norms, 1.0)
        return embeddings, scores, costs

    def _prepare(self) -> None:
        """Derive the normalised per-cluster tables that routing reads (from the learned statistics)."""
        accuracy = np.where(np.isnan(self.cluster_accuracy_), self.global_accuracy_[None, :], self.cluster_accuracy_)
        cost = np.where(np.isnan(self.cluster_cost_), self.global_cost_[None, :], self.cluster_cost_)
        if self.shrinkage > 0:
            tau = self.shrinkage
            n_acc = self.cluster_score_counts_
            n_cost = self.cluster_cost_counts_
            accuracy = (n_acc * accuracy + tau * self.global_accuracy_[None, :]) / (n_acc + tau)
            cost = (n_cost * cost + tau * self.global_cost_[None, :]) / (n_cost + tau)
        self._norm_accuracy = min_max_rows(accuracy)
        self._norm_cost = min_max_rows(cost)
        self._global_norm_accuracy = min_max_rows(self.global_accuracy_[None, :])[0]
        self._global_norm_cost = min_max_rows(self.global_cost_[None, :])[0]
        fallback = self.fallback_clusters_[:, None]
        self._route_accuracy = np.where(fallback, self._global_norm_accuracy[None, :], self._norm_accuracy)
        self._route_cost = np.where(fallback, self._global_norm_cost[None, :], self._norm_cost)
        self._center_sq_norms = (self.cluster_centers_.astype(np.float64) ** 2).sum(axis=1)
        self._centers_t = np.ascontiguousarray(self.cluster_centers_.T)

    def cluster_scores(self, alpha: float | None = None) -> np.ndarray:
        """Return x(j, i) for every cluster, shape (k, m); fallback clusters contain the global score."""
        alpha = self.alpha if alpha is None else _check_alpha(alpha)
        return alpha * self._route_accuracy + (1.0 - alpha) * (1.0 - self._route_cost)

    def reconfigured(self, **params: object) -> "ClusterRouter":
        """Return a copy with new routing parameters that reuses this router's clusters and statistics.

        ``k``, ``random_state``, ``n_init`` and ``embedder_name`` are fixed
        because the clustering depends on them. Passing ``variant`` resets
        ``shrinkage``, ``weighting`` and ``knn_weight`` to that variant's
        preset unless they are passed too.
        """
        self._require_fitted()
        fixed = {"k", "random_state", "n_init", "embedder_name"}
        changed = sorted(name for name in fixed & params.keys() if params[name] != getattr(self, name))
        if changed:
            raise HarnessError(f"reconfigured() cannot change {', '.join(changed)}; fit a new router instead")
        merged = self.get_params()
        if "variant" in params:
            for name in ("shrinkage", "weighting", "knn_weight"):
                merged.pop(name)
        merged.update(params)
        clone = ClusterRouter(**merged)
        for name, value in vars(self).items():
            if name.endswith("_") and not name.startswith("_"):
                setattr(clone, name, value)
        if clone.knn_weight > 0 and getattr(clone, "calibration_embeddings_", None) is None:
            raise HarnessError("this router stores no calibration data (it was loaded from a non-kNN artifact), so it cannot use kNN evidence; refit it")
        clone.fallback_clusters_ = clone.cluster_sizes_ < clone.min_cluster_size
        clone._prepare()
        return clone

    # --------------------------------------------------------------- route

    def _require_fitted(self) -> None:
        if not hasattr(self, "cluster_centers_"):
            raise HarnessError("this ClusterRouter is not fitted; call fit() or load_router() first")

    def _check_queries(self, embeddings: np.ndarray) -> np.ndarray:
        self._require_fitted()
        queries = np.asarray(embeddings, dtype=np.float32)
        if queries.ndim == 1:
            queries = queries[None, :]
        if queries.ndim != 2 or queries.shape[1] != self.n_features_in_:
            raise HarnessError(
                f"embeddings must have shape (n, {self.n_features_in_}) like the calibration embeddings, "
                f"got {np.asarray(embeddings).shape}; was the same embedder ({self.embedder_name}) used?"
            )
        return queries

    def route_details(self, embeddings: np.ndarray, alpha: float | None = None) -> RouteResult:
        """Route queries and return the choice together with its evidence.

        Parameters
        ----------
        embeddings : numpy.ndarray
            Shape (n, d) or (d,), L2-normalised query embeddings.
        alpha : float, optional
            Overrides the fitted ``alpha`` for this call.

        Returns
        -------
        RouteResult
        """
        queries = self._check_queries(embeddings)
        if queries.shape[0] <= SINGLE_THREAD_MAX_QUERIES:
            with _single_thread_blas():
                return self._route(queries, alpha)
        return self._route(queries, alpha)

    def _evidence(self, queries: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return the alpha-independent parts of routing.

        The score is linear in alpha, ``alpha * A + (1 - alpha) * (1 - C)``,
        so one pass yields ``A`` (combined normalised accuracy) and ``C``
        (combined normalised cost), both shape (n, m), plus the chosen
        clusters, shape (n, top_p).
        """
        n = queries.shape[0]
        p = min(self.top_p, self.k)

        # Squared Euclidean distance to each centroid, without the constant |query|^2.
        distances = self._center_sq_norms[None, :] - 2.0 * (queries @ self._centers_t)
        if p < self.k:
            nearest = np.argpartition(distances, p - 1, axis=1)[:, :p]
        else:
            nearest = np.broadcast_to(np.arange(self.k), (n, self.k))
        nearest_distances = np.take_along_axis(distances, nearest, axis=1)
        order = np.argsort(nearest_distances, axis=1, kind="stable")
        nearest = np.take_along_axis(nearest, order, axis=1)
        nearest_distances = np.take_along_axis(nearest_distances, order, axis=1)

        if self.weighting == "softmax":
            logits = -(nearest_distances - nearest_distances[:, :1]) / self.temperature
            weights = np.exp(logits)
            weights /= weights.sum(axis=1, keepdims=True)
        else:
            weights = np.full(nearest.shape, 1.0 / p)
        accuracy = np.einsum("np,npm->nm", weights, self._route_accuracy[nearest])
        cost = np.einsum("np,npm->nm", weights, self._route_cost[nearest])

        if self.knn_weight > 0:
            knn_accuracy, knn_cost = self._knn_evidence(queries)
            accuracy = (1.0 - self.knn_weight) * accuracy + self.knn_weight * knn_accuracy
            cost = (1.0 - self.knn_weight) * cost + self.knn_weight * knn_cost
        return nearest, accuracy, cost

    def _decide(self, nearest: np.ndarray, accuracy: np.ndarray, cost: np.ndarray, alpha: float) -> RouteResult:
        combined = alpha * accuracy + (1.0 - alpha) * (1.0 - cost)
        models = argmax_cheapest(combined, self.tie_ranks_)
        if self.knn_weight >= 1.0:
            # Routing by neighbours alone never reads a cluster, so it never falls back.
            fallback = np.zeros(nearest.shape[0], dtype=bool)
        else:
            fallback = self.fallback_clusters_[nearest].any(axis=1)
        return RouteResult(models=models, fallback=fallback, clusters=nearest, scores=combined)

    def _route(self, queries: np.ndarray, alpha: float | None) -> RouteResult:
        alpha = self.alpha if alpha is None else _check_alpha(alpha)
        return self._decide(*self._evidence(queries), alpha)

    def route_alphas(self, embeddings: np.ndarray, alphas: Sequence[float]) -> dict[float, RouteResult]:
        """Route the same queries at several alphas, computing the nearest clusters and neighbours once.

        Returns
        -------
        dict
            alpha -> :class:`RouteResult`.
        """
        queries = self._check_queries(embeddings)
        checked = [_check_alpha(alpha) for alpha in alphas]
        evidence = self._evidence(queries)
        return {alpha: self._decide(*evidence, alpha) for alpha in checked}

    def route(self, embeddings: np.ndarray, alpha: float | None = None) -> np.ndarray:
        """Return the index into ``model_ids_`` of the chosen model per query, shape (n,), int."""
        return self.route_details(embeddings, alpha).models

    def route_names(self, embeddings: np.ndarray, alpha: float | None = None) -> list[str]:
        """Return the id of the chosen model per query."""
        return [self.model_ids_[i] for i in self.route(embeddings, alpha)]

    def _knn_evidence(self, queries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return normalised accuracy and cost per model over each query's nearest calibration queries.

        Neighbour means are shrunk toward the calibration-wide means with the
        same pseudo-count as the clusters. Both arrays have shape (n, m).
        """
        calibration = self.calibration_embeddings_
        k = min(self.knn_k, calibration.shape[0])
        similarity = queries @ calibration.T
        if k < calibration.shape[0]:
            neighbours = np.argpartition(-similarity, k - 1, axis=1)[:, :k]
        else:
            neighbours = np.broadcast_to(np.arange(calibration.shape[0]), (queries.shape[0], k))
        scores = self.calibration_scores_[neighbours]
        costs = self.calibration_costs_[neighbours]
        known = ~np.isnan(scores)
        count = known.sum(axis=1)
        tau = max(self.shrinkage, 1e-9)
        accuracy = (np.where(known, scores, 0.0).sum(axis=1) + tau * self.global_accuracy_) / (count + tau)
        known_cost = ~np.isnan(costs)
        cost_count = known_cost.sum(axis=1)
        cost = (np.where(known_cost, costs, 0.0).sum(axis=1) + tau * self.global_cost_) / (cost_count + tau)
        return min_max_rows(accuracy), min_max_rows(cost)

    # --------------------------------------------------------- artifacts

    def check_compatible(self, model_ids: list[str], embedder_name: str) -> None:
        """Raise HarnessError unless the router was fitted for this pool and embedder.

        The pool must contain exactly the router's models (in any order;
        ``route`` returns indices into ``model_ids_``).
        """
        self._require_fitted()
        if embedder_name != self.embedder_name:
            raise HarnessError(
                f"router was fitted with embedder {self.embedder_name!r} but {embedder_name!r} was given; "
                "embed queries with the router's embedder or refit the router"
            )
        missing = sorted(set(self.model_ids_) - set(model_ids))
        extra = sorted(set(model_ids) - set(self.model_ids_))
        if missing or extra:
            parts = []
            if missing:
                parts.append(f"missing from the pool: {', '.join(missing)}")
            if extra:
                parts.append(f"not known to the router: {', '.join(extra)}")
            raise HarnessError(
                f"router pool (fingerprint {pool_fingerprint(self.model_ids_)[:12]}) does not match the given pool: "
                f"{'; '.join(parts)}; refit the router on a matrix of this pool"
            )

    def save(self, path_dir) -> None:
        """Write the fitted router to a folder of JSON and .npz files with a SHA-256 manifest."""
        from harness.router.artifact import save_router

        save_router(self, path_dir)
