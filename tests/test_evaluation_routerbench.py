"""Replay evaluation on the RouterBench files next to the repository (slow: embeds about 3,200 prompts once)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from harness.commands.importer import routerbench_to_long
from harness.embedding import embed_query_text, encode_cached
from harness.evaluation import EvaluationConfig, EvaluationData, evaluate
from harness.matrix import to_arrays

ROUTERBENCH_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "routerbench"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not ROUTERBENCH_DIR.is_dir(), reason=f"RouterBench CSV files not found in {ROUTERBENCH_DIR}"
    ),
]


def load(split: str, model_ids: list[str] | None = None) -> EvaluationData:
    files = [ROUTERBENCH_DIR / f"{name}_{split}.csv" for name in ("arc_challenge", "mbpp", "winograde")]
    arrays = to_arrays(routerbench_to_long(files, keep_responses=False), model_ids=model_ids)
    embeddings = encode_cached([embed_query_text(prompt) for prompt in arrays.prompts])
    return EvaluationData.from_arrays(arrays, embeddings)


def test_routerbench_train_to_test():
    calibration = load("train")
    test = load("test", calibration.model_ids)
    config = EvaluationConfig(k=20, top_p=3, alphas=(1.0, 0.85), variants=("avengers-pro", "shrunk"), n_bootstrap=300)

    report = evaluate(calibration, test, config)
    again = evaluate(calibration, test, config)

    rows = {row.name: row for row in report.methods}
    assert rows["best-single"].model == "gpt-4-1106-preview"
    assert rows["dataset-oracle"].accuracy == pytest.approx(rows["best-single"].accuracy)
    assert report.test_counts[0]["dropped_incomplete"] == 6
    assert report.test_counts[0]["dropped_near_duplicates"] > 0
    for name in ("router:avengers-pro@1.00", "router:shrunk@1.00", "router:shrunk@0.85"):
        assert rows["cheapest"].accuracy < rows[name].accuracy <= rows["oracle"].accuracy
    assert rows["router:shrunk@0.85"].total_cost < rows["router:shrunk@1.00"].total_cost
    assert [(row.name, row.accuracy, row.total_cost) for row in report.methods] == [
        (row.name, row.accuracy, row.total_cost) for row in again.methods
    ]
    assert np.isfinite([row.total_cost for row in report.methods]).all()
