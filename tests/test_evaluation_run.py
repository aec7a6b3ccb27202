"""End-to-end evaluation on synthetic data: reproducibility, sections, outputs and the CLI."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from harness.cli import main
from harness.evaluation import EvaluationConfig, EvaluationData, evaluate
from harness.evaluation.report import format_table, report_to_json, write_outputs
from harness.plots import plot_pareto
from harness.evaluation.sweeps import SweepPoint

MODELS = ["cheap", "mid", "expensive"]


def synthetic_data(n_per_topic: int = 40, seed: int = 0, topics_per_benchmark: int = 2) -> EvaluationData:
    """Two benchmarks of two topics each; each topic has its own best model.

    Topic expert: topic 0 -> cheap, 1 -> mid, 2 and 3 -> expensive.
    Every model is right 30% of the time outside its topics.
    """
    rng = np.random.default_rng(seed)
    n_topics = 2 * topics_per_benchmark
    centres = np.eye(16)[:n_topics] * 4.0
    topics = np.repeat(np.arange(n_topics), n_per_topic)
    embeddings = centres[topics] + rng.normal(scale=0.5, size=(topics.size, 16))
    embeddings /= np.linalg.norm(embeddings, axis=1, keepdims=True)
    expert = np.array([0, 1, 2, 2])[topics]
    scores = (rng.random((topics.size, 3)) < 0.3).astype(float)
    scores[np.arange(topics.size), expert] = (rng.random(topics.size) < 0.95).astype(float)
    costs = np.tile([0.001, 0.01, 0.1], (topics.size, 1)) * rng.uniform(0.8, 1.2, size=(topics.size, 1))
    benchmarks = np.where(topics < topics_per_benchmark, "bench-a", "bench-b").astype(object)
    keys = np.array([f"{b}/{i}" for i, b in enumerate(benchmarks)], dtype=object)
    return EvaluationData(keys, benchmarks, list(MODELS), scores, costs, embeddings.astype(np.float32))


def small_config(**changes) -> EvaluationConfig:
    settings = dict(
        k_grid=(2, 4, 8),
        top_p_grid=(1, 2),
        n_folds=3,
        n_bootstrap=200,
        sweep_alphas=(1.0, 0.8, 0.5, 0.0),
        alphas=(1.0, "auto"),
        variants=("avengers-pro", "shrunk", "knn"),
    )
    settings.update(changes)
    return EvaluationConfig(**settings)


def rows_by_name(report, section="in-distribution"):
    return {row.name: row for row in report.methods if row.section == section}


def test_seeded_run_reproduces_exactly():
    data = synthetic_data()
    first = report_to_json(evaluate(data, None, small_config(seeds=2)))
    second = report_to_json(evaluate(data, None, small_config(seeds=2)))

    assert json.dumps(first, sort_keys=True) == json.dumps(second, sort_keys=True)


def test_router_finds_topic_experts():
    report = evaluate(synthetic_data(), None, small_config())
    rows = rows_by_name(report)

    router = rows["router:avengers-pro@1.00"]
    assert rows["best-single"].model == "expensive"
    assert router.accuracy > rows["best-single"].accuracy + 0.1
    assert router.total_cost < rows["best-single"].total_cost
    assert router.accuracy <= rows["oracle"].accuracy
    assert 0.0 <= router.fallback_rate < 0.1
    assert rows["cheapest"].model == "cheap"


def test_split_counts_and_seed_ci():
    report = evaluate(synthetic_data(), None, small_config(seeds=3))
    rows = rows_by_name(report)

    assert [count["seed"] for count in report.test_counts] == [0, 1, 2]
    assert all(count["kept"] + count["dropped_near_duplicates"] == 48 for count in report.test_counts)  # 30% of 160
    assert rows["oracle"].ci_method == "seeds"
    assert len(rows["oracle"].accuracy_per_seed) == 3
    assert rows["oracle"].ci_low <= rows["oracle"].accuracy <= rows["oracle"].ci_high


def test_fixed_test_drops_near_duplicates_and_incomplete():
    calibration = synthetic_data(seed=1)
    test = synthetic_data(seed=2, n_per_topic=10)
    scores = test.scores.copy()
    scores[0, 1] = np.nan
    embeddings = test.embeddings.copy()
    embeddings[1:4] = calibration.embeddings[5:8]  # three exact copies
    test = EvaluationData(test.sample_keys, test.benchmarks, test.model_ids, scores, test.costs, embeddings)

    report = evaluate(calibration, test, small_config(alphas=(1.0,), k=4, top_p=1, knn_k=10))

    counts = report.test_counts[0]
    assert counts["dropped_incomplete"] == 1
    assert counts["dropped_near_duplicates"] >= 3
    assert counts["kept"] == 40 - 1 - counts["dropped_near_duplicates"]
    assert rows_by_name(report)["oracle"].ci_method == "bootstrap"
    assert report.tuning == []  # k, top_p, knn_k and alpha were all given


def test_leave_one_benchmark_out_section():
    report = evaluate(synthetic_data(), None, small_config(loo=True, variants=("shrunk",)))
    loo = rows_by_name(report, "leave-one-benchmark-out")

    assert "dataset-oracle" not in loo
    assert "router:shrunk@1.00" in loo
    assert loo["oracle"].n_test == rows_by_name(report)["oracle"].n_test
    assert loo["router:shrunk@1.00"].accuracy <= loo["oracle"].accuracy


def test_write_outputs(tmp_path):
    report = evaluate(synthetic_data(), None, small_config(variants=("avengers-pro",)))

    written = write_outputs(report, tmp_path)

    names = {path.name for path in written}
    assert {"methods.csv", "sweep.csv", "tuning.csv", "report.json", "pareto.png", "test_counts.csv"} <= names
    assert (tmp_path / "pareto.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    methods = pd.read_csv(tmp_path / "methods.csv")
    assert "accuracy[bench-a]" in methods.columns
    sweep = pd.read_csv(tmp_path / "sweep.csv")
    assert set(sweep["variant"]) == {"avengers-pro", "dataset-oracle"}
    assert "router:avengers-pro@auto" in format_table(report)


def test_plot_pareto_accepts_bare_sequence(tmp_path):
    points = [SweepPoint(alpha=a, accuracy=0.5 + a / 4, accuracy_samples=0.5, total_cost=0.1 + a, cost_per_sample=0.01) for a in (0.0, 0.5, 1.0)]

    path = plot_pareto(points, {"model-x": (0.5, 0.6)}, tmp_path / "sub" / "p.png", "toy")

    assert path.stat().st_size > 1000


def test_evaluate_cli_json(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HARNESS_EMBEDDING_CACHE", str(tmp_path / "embeddings"))
    rng = np.random.default_rng(0)
    subjects = {"math": ["Add {} and {}.", "Multiply {} by {}.", "Subtract {} from {}."], "geo": ["Which river flows through city {}{}?", "Name the capital of region {}{}."]}
    rows = []
    for benchmark, templates in subjects.items():
        for i in range(24):
            prompt = templates[i % len(templates)].format(i, i + 7)
            right = {"math": [1.0, 0.0], "geo": [0.0, 1.0]}[benchmark]
            for model, score, cost in zip(["m-a", "m-b"], right, [0.001, 0.002]):
                noisy = score if rng.random() < 0.9 else 1.0 - score
                rows.append({"sample_id": f"{benchmark}-{i}", "benchmark": benchmark, "prompt": prompt, "model": model, "score": noisy, "cost": cost})
    matrix = tmp_path / "matrix.csv"
    pd.DataFrame(rows).to_csv(matrix, index=False)

    code = main(["evaluate", str(matrix), "--k", "2", "--top-p", "1", "--alphas", "1,0.5", "--seeds", "2",
                 "--variants", "avengers-pro,shrunk", "--no-dedup", "--json", "--out", str(tmp_path / "out")])  # fmt: skip

    assert code == 0
    payload = json.loads(capsys.readouterr().out)
    names = {row["name"] for row in payload["methods"]}
    assert {"oracle", "dataset-oracle", "best-single", "random", "cheapest", "router:shrunk@0.50", "single:m-a"} <= names
    router = next(row for row in payload["methods"] if row["name"] == "router:avengers-pro@1.00")
    assert router["ci_method"] == "seeds"
    assert 0.0 <= router["accuracy_mean_over_benchmarks"] <= 1.0
    assert router["total_cost_usd"] > 0
    assert (tmp_path / "out" / "pareto.png").is_file()


def test_evaluate_cli_rejects_bad_alpha(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["evaluate", str(tmp_path / "m.csv"), "--alphas", "1.5"])
    assert "outside [0, 1]" in capsys.readouterr().err


def test_tuning_chooses_knn_k_on_calibration_only():
    from harness.evaluation.tuning import tune_router

    data = synthetic_data(n_per_topic=30)
    # knn_k 400 exceeds every training fold, so it is capped at the smallest one.
    # Every fold must try the same values, and that many neighbours blur the topics.
    tuned = tune_router(
        data.embeddings, data.scores, data.costs, data.benchmarks, data.model_ids,
        variants=("avengers-pro", "neighbours"), k_grid=(2,), top_p_grid=(1, 2), knn_k_grid=(8, 400),
        alphas=(1.0,), n_folds=3, seed=0,
    )  # fmt: skip

    assert tuned["avengers-pro"].knn_k is None
    assert tuned["neighbours"].knn_k == 8
    assert {row["top_p"] for row in tuned["neighbours"].table} == {1}  # kNN alone ignores top_p
    assert {row["knn_k"] for row in tuned["neighbours"].table} == {8, 80}
    assert tuned["neighbours"].cv_accuracy > tuned["avengers-pro"].cv_accuracy
