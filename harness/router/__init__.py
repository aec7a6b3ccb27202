"""Cluster router: k-means over query embeddings, per-cluster model ranking, argmax routing."""

from harness.router.artifact import load_router, save_router
from harness.router.model import VARIANTS, ClusterRouter, RouteResult, pool_fingerprint, variant_knn_weight

__all__ = ["VARIANTS", "ClusterRouter", "RouteResult", "load_router", "pool_fingerprint", "save_router", "variant_knn_weight"]
