"""ClusterRouter fit and route on small synthetic data with a known best model per topic."""

from __future__ import annotations

import time

import numpy as np
import pytest

from harness.errors import HarnessError
from harness.router import VARIANTS, ClusterRouter

MODELS = ["cheap", "mid", "expensive"]
PRICES = np.array([0.001, 0.01, 0.1])


def three_topics(n_per_topic: int = 30, seed: int = 0):
    """Three well-separated topics in 8 dimensions.

    Topic 0: cheap and expensive always right, mid wrong.
    Topic 1: only mid right (expensive right half the time).
    Topic 2: only expensive right.
    """
    rng = np.random.default_rng(seed)
    centres = np.eye(8)[:3] * 5.0
    topics = np.repeat(np.arange(3), n_per_topic)
    embeddings = centres[topics] + rng.normal(scale=0.3, size=(topics.size, 8))
    embeddings /= np.linalg.norm(embeddings, axis=1, keepdims=True)
    scores = np.zeros((topics.size, 3))
    scores[topics == 0] = [1.0, 0.0, 1.0]
    scores[topics == 1, 1] = 1.0
    scores[topics == 1, 2] = np.tile([1.0, 0.0], n_per_topic // 2)
    scores[topics == 2] = [0.0, 0.0, 1.0]
    costs = np.tile(PRICES, (topics.size, 1))
    return embeddings.astype(np.float32), scores, costs, topics


def test_route_picks_topic_expert():
    embeddings, scores, costs, topics = three_topics()
    router = ClusterRouter(k=3, top_p=1, min_cluster_size=1).fit(embeddings, scores, costs, MODELS)

    chosen = router.route(embeddings, alpha=1.0)

    # Topic 0 ties cheap and expensive at accuracy 1: the cheaper one wins.
    assert (chosen[topics == 0] == 0).all()
    assert (chosen[topics == 1] == 1).all()
    assert (chosen[topics == 2] == 2).all()


def test_alpha_zero_picks_cheapest():
    embeddings, scores, costs, _ = three_topics()
    router = ClusterRouter(k=3, top_p=1, min_cluster_size=1).fit(embeddings, scores, costs, MODELS)

    assert (router.route(embeddings, alpha=0.0) == 0).all()


def test_published_score_table():
    embeddings, scores, costs, _ = three_topics()
    router = ClusterRouter(k=3, top_p=1, min_cluster_size=1).fit(embeddings, scores, costs, MODELS)
    topic_of_cluster = [int(np.argmax(center[:3])) for center in router.cluster_centers_]
    cluster = topic_of_cluster.index(1)

    table = router.cluster_scores(alpha=0.5)

    # Topic 1: accuracy (0, 1, 0.5) -> (0, 1, 0.5); cost (0.001, 0.01, 0.1) -> (0, 0.0909, 1).
    q_mid = (0.01 - 0.001) / (0.1 - 0.001)
    np.testing.assert_allclose(table[cluster], [0.5 * 0 + 0.5 * 1, 0.5 * 1 + 0.5 * (1 - q_mid), 0.5 * 0.5 + 0.5 * 0])


def test_tie_goes_to_cheaper_not_column_order():
    embeddings, scores, costs, topics = three_topics()
    # Put the expensive model first: on topic 0 both it and "cheap" are always right.
    order = [2, 1, 0]
    router = ClusterRouter(k=3, top_p=1, min_cluster_size=1).fit(
        embeddings, scores[:, order], costs[:, order], [MODELS[i] for i in order]
    )

    chosen = router.route_names(embeddings[topics == 0], alpha=1.0)

    assert set(chosen) == {"cheap"}


def test_small_cluster_falls_back_to_global():
    embeddings, scores, costs, topics = three_topics()
    keep = np.flatnonzero((topics != 1) | (np.arange(topics.size) % 30 < 3))  # topic 1 keeps 3 queries
    router = ClusterRouter(k=3, top_p=1, min_cluster_size=5).fit(embeddings[keep], scores[keep], costs[keep], MODELS)

    result = router.route_details(embeddings[topics == 1], alpha=1.0)

    assert router.fallback_clusters_.sum() == 1
    assert result.fallback.all()
    # Calibration-wide accuracy: cheap 30, mid 3, expensive 62 of 63 queries.
    assert (result.models == 2).all()
    assert not router.route_details(embeddings[topics == 0], alpha=1.0).fallback.any()


def test_missing_scores_use_known_values():
    embeddings, scores, costs, topics = three_topics()
    scores = scores.copy()
    scores[topics == 2, 1] = np.nan  # mid never ran on topic 2
    costs = costs.copy()
    costs[::7, 0] = np.nan  # a few unknown costs

    router = ClusterRouter(k=3, top_p=1, min_cluster_size=1).fit(embeddings, scores, costs, MODELS)

    assert np.isfinite(router.cluster_scores(0.7)).all()
    assert (router.route(embeddings[topics == 2], alpha=1.0) == 2).all()


def test_route_alphas_matches_route():
    embeddings, scores, costs, _ = three_topics()
    for variant in VARIANTS:
        router = ClusterRouter(k=4, top_p=2, variant=variant, min_cluster_size=1, knn_k=5).fit(
            embeddings, scores, costs, MODELS
        )
        swept = router.route_alphas(embeddings, [1.0, 0.6, 0.0])
        for alpha, result in swept.items():
            np.testing.assert_array_equal(result.models, router.route(embeddings, alpha=alpha), err_msg=f"{variant} alpha {alpha}")


def test_route_single_vector():
    embeddings, scores, costs, _ = three_topics()
    router = ClusterRouter(k=3, top_p=2).fit(embeddings, scores, costs, MODELS)

    chosen = router.route(embeddings[0])

    assert chosen.shape == (1,)
    assert chosen.dtype.kind == "i"


def test_reconfigured_shares_clusters():
    embeddings, scores, costs, _ = three_topics()
    base = ClusterRouter(k=3, top_p=1, min_cluster_size=1).fit(embeddings, scores, costs, MODELS)

    knn = base.reconfigured(variant="knn", top_p=2)
    fresh = ClusterRouter(k=3, top_p=2, variant="knn", min_cluster_size=1).fit(embeddings, scores, costs, MODELS)

    np.testing.assert_array_equal(knn.cluster_centers_, fresh.cluster_centers_)
    np.testing.assert_array_equal(knn.route(embeddings, 0.8), fresh.route(embeddings, 0.8))
    assert knn.shrinkage == VARIANTS["knn"]["shrinkage"]
    with pytest.raises(HarnessError, match="cannot change k"):
        base.reconfigured(k=5)


def test_softmax_weighting_favours_nearest():
    embeddings, scores, costs, topics = three_topics()
    plain = ClusterRouter(k=3, top_p=3, min_cluster_size=1).fit(embeddings, scores, costs, MODELS)
    soft = plain.reconfigured(variant="softmax", temperature=0.01)

    # Summing all three clusters gives every query the same choice;
    # a sharp softmax keeps each query's own cluster in charge.
    assert len(set(plain.route(embeddings, 1.0).tolist())) == 1
    np.testing.assert_array_equal(soft.route(embeddings, 1.0)[topics == 1], 1)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"variant": "nope"}, "unknown router variant 'nope'"),
        ({"alpha": 1.5}, "alpha must be in \\[0, 1\\]"),
        ({"top_p": 0}, "top_p must be >= 1"),
        ({"weighting": "max"}, "weighting must be one of"),
        ({"knn_weight": 2.0}, "knn_weight must be in \\[0, 1\\]"),
    ],
)
def test_invalid_parameters(kwargs, message):
    with pytest.raises(HarnessError, match=message):
        ClusterRouter(**kwargs)


def test_invalid_fit_input():
    embeddings, scores, costs, _ = three_topics()
    with pytest.raises(HarnessError, match="must both have shape"):
        ClusterRouter(k=2).fit(embeddings, scores[:, :2], costs, MODELS)
    with pytest.raises(HarnessError, match="scores must be in \\[0, 1\\]"):
        ClusterRouter(k=2).fit(embeddings, scores * 2, costs, MODELS)
    with pytest.raises(HarnessError, match="needs at least 500 calibration queries"):
        ClusterRouter(k=500).fit(embeddings, scores, costs, MODELS)
    with pytest.raises(HarnessError, match="not fitted"):
        ClusterRouter().route(embeddings)
    router = ClusterRouter(k=2).fit(embeddings, scores, costs, MODELS)
    with pytest.raises(HarnessError, match="shape \\(n, 8\\)"):
        router.route(np.ones((1, 5), dtype=np.float32))


def test_route_latency_single_query():
    rng = np.random.default_rng(1)
    embeddings = rng.normal(size=(2000, 384)).astype(np.float32)
    embeddings /= np.linalg.norm(embeddings, axis=1, keepdims=True)
    scores = rng.integers(0, 2, size=(2000, 11)).astype(float)
    costs = rng.uniform(0.0001, 0.01, size=(2000, 11))
    router = ClusterRouter(k=30, top_p=3, n_init=1).fit(embeddings, scores, costs, [f"m{i}" for i in range(11)])
    query = embeddings[:1]
    router.route(query)

    timings = []
    for _ in range(200):
        start = time.perf_counter()
        router.route(query)
        timings.append(time.perf_counter() - start)

    assert np.median(timings) < 1e-3


def test_neighbours_variant_routes_without_clusters():
    embeddings, scores, costs, topics = three_topics()
    # One cluster: the cluster statistics are the calibration-wide ones.
    published = ClusterRouter(k=1, top_p=1, min_cluster_size=1).fit(embeddings, scores, costs, MODELS)
    # No shrinkage: with it, topic 0's tie would tilt toward the model that is better overall.
    neighbours = published.reconfigured(variant="neighbours", knn_k=10, shrinkage=0.0)

    assert len(set(published.route(embeddings, 1.0).tolist())) == 1
    chosen = neighbours.route(embeddings, alpha=1.0)
    assert (chosen[topics == 0] == 0).all()  # cheap ties expensive at 1.0 and is cheaper
    assert (chosen[topics == 1] == 1).all()
    assert (chosen[topics == 2] == 2).all()


def test_neighbours_score_by_hand():
    # Four calibration queries on a line; the query's 2 nearest are rows 0 and 1.
    embeddings = np.array([[1.0, 0.0], [0.96, 0.28], [0.0, 1.0], [-1.0, 0.0]], dtype=np.float32)
    scores = np.array([[1.0, 0.0], [1.0, 1.0], [0.0, 1.0], [0.0, 1.0]])
    costs = np.tile([0.01, 0.02], (4, 1))
    router = ClusterRouter(k=1, variant="neighbours", knn_k=2, shrinkage=1.0, min_cluster_size=1).fit(
        embeddings, scores, costs, ["a", "b"]
    )
    # Shrunk neighbour accuracy, (sum + tau * global) / (count + tau) with tau 1:
    # a: (2 + 0.5) / 3 = 0.833, b: (1 + 0.75) / 3 = 0.583, so a wins at alpha 1.
    assert router.route(np.array([[1.0, 0.0]]), alpha=1.0).tolist() == [0]
    # Far side: neighbours are rows 2 and 3, where only b is right.
    assert router.route(np.array([[-0.6, 0.8]]), alpha=1.0).tolist() == [1]


def test_neighbours_never_reports_fallback():
    embeddings, scores, costs, _ = three_topics()
    # min_cluster_size above every cluster's size: each cluster would fall back.
    base = ClusterRouter(k=3, top_p=1, min_cluster_size=1000).fit(embeddings, scores, costs, MODELS)

    assert base.route_details(embeddings).fallback.all()
    assert not base.reconfigured(variant="neighbours").route_details(embeddings).fallback.any()
