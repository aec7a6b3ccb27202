"""The cluster router fitted on a small slice of real recorded results, routing held-out queries."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from harness.commands.importer import routerbench_to_long
from harness.embedding import embed_query_text, get_embedder
from harness.matrix import to_arrays
from harness.router import ClusterRouter

ROUTERBENCH_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "routerbench"
ROWS_PER_BENCHMARK = 120

pytestmark = pytest.mark.skipif(
    not ROUTERBENCH_DIR.is_dir(), reason=f"RouterBench CSV files not found in {ROUTERBENCH_DIR}"
)


def load_slice(split: str, model_ids: list[str] | None = None):
    """Return the first rows of ARC-Challenge and MBPP with a result from every model."""
    frames = []
    for name in ("arc_challenge", "mbpp"):
        long = routerbench_to_long([ROUTERBENCH_DIR / f"{name}_{split}.csv"], keep_responses=False)
        counts = long.groupby("sample_id")["model"].transform("size")
        complete = long[counts == long["model"].nunique()]
        keep = complete["sample_id"].drop_duplicates().head(ROWS_PER_BENCHMARK)
        frames.append(complete[complete["sample_id"].isin(keep)])
    arrays = to_arrays(pd.concat(frames, ignore_index=True), model_ids=model_ids)
    embeddings = get_embedder().encode([embed_query_text(p) for p in arrays.prompts])
    return arrays, embeddings


@pytest.fixture(scope="module")
def real_slices():
    train, train_embeddings = load_slice("train")
    test, test_embeddings = load_slice("test", train.model_ids)
    return train, train_embeddings, test, test_embeddings


def routed(router, embeddings, arrays, alpha):
    choice = router.route(embeddings, alpha=alpha)
    rows = np.arange(len(choice))
    return choice, float(arrays.scores[rows, choice].mean()), float(arrays.costs[rows, choice].sum())


def test_router_on_real_slice(real_slices):
    train, train_embeddings, test, test_embeddings = real_slices
    router = ClusterRouter(k=8, top_p=1, random_state=0).fit(
        train_embeddings, train.scores, train.costs, train.model_ids
    )
    cheapest = int(np.argmin(train.costs.mean(axis=0)))
    best = int(np.argmax(train.scores.mean(axis=0)))

    choice_quality, accuracy_quality, cost_quality = routed(router, test_embeddings, test, 1.0)
    _, accuracy_cheap, cost_cheap = routed(router, test_embeddings, test, 0.0)

    assert len(choice_quality) == len(test.sample_keys) == 2 * ROWS_PER_BENCHMARK
    assert accuracy_quality > float(test.scores[:, cheapest].mean())
    assert accuracy_quality >= float(test.scores[:, best].mean()) - 0.05
    assert cost_cheap < cost_quality
    assert accuracy_cheap <= accuracy_quality


def test_router_real_slice_is_reproducible(real_slices):
    train, train_embeddings, test, test_embeddings = real_slices

    first = ClusterRouter(k=8, random_state=3).fit(train_embeddings, train.scores, train.costs, train.model_ids)
    second = ClusterRouter(k=8, random_state=3).fit(train_embeddings, train.scores, train.costs, train.model_ids)

    assert np.array_equal(first.route(test_embeddings), second.route(test_embeddings))
