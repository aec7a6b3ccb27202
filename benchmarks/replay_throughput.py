"""Measure the throughput of replaying a results matrix through the router, as the evaluation does.

Run from the repository root:

    python benchmarks/replay_throughput.py --rows 1000 10000 100000 --out results/bench/replay_throughput.json

A synthetic long-format matrix (5 models, 4 benchmarks, distinct short
prompts) is replayed with recorded answers only, no model calls. The
stages are those of ``harness.routing.routed_test_matrix``: pivot with
``harness.matrix.to_arrays``, reduce prompts with ``embed_query_text``,
encode them, route every sample at the 21 alphas 0, 0.05, ..., 1 and
average the chosen scores per benchmark. Each stage is timed alone, then
``routed_test_matrix`` end to end.

Two before/after pairs show the cuts that batching makes, against the
per-sample path of the ``router/`` inspect provider: routing one sample per
call against one call for all samples, and encoding one prompt per call
against batches of 64. The embedding disk cache (``encode_cached``) is
timed cold and warm, for a replay that runs a second time. The encoder
runs once per size through that cache; ``routed_test_matrix`` encodes
again without it, so the end-to-end run is limited to the smaller sizes.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import logging
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness.embedding import embed_query_text, encode_cached, get_embedder  # noqa: E402
from harness.matrix import from_arrays, to_arrays  # noqa: E402
from harness.router import ClusterRouter, save_router  # noqa: E402
from harness.routing import ALPHA_GRID, routed_test_matrix  # noqa: E402
from routing_latency import machine_info  # noqa: E402

logger = logging.getLogger("benchmarks.replay_throughput")

MODELS = ["tiny", "small", "medium", "large", "huge"]
BENCHMARKS = ["arith", "geo", "code", "law"]
TOPIC_WORDS = {
    "arith": ["sum", "product", "fraction", "percent", "square", "remainder"],
    "geo": ["river", "capital", "desert", "border", "island", "mountain"],
    "code": ["function", "loop", "recursion", "string", "array", "exception"],
    "law": ["contract", "tort", "statute", "appeal", "liability", "treaty"],
}
# Accuracy of each model per benchmark (rows: benchmarks, columns: models).
ACCURACY = np.array([[0.2, 0.5, 0.7, 0.8, 0.9], [0.6, 0.6, 0.7, 0.8, 0.85], [0.1, 0.3, 0.5, 0.8, 0.85],
                     [0.4, 0.5, 0.55, 0.6, 0.9]])
PRICE = np.array([1e-7, 5e-7, 2e-6, 8e-6, 3e-5])


def synthetic_matrix(n_samples: int, seed: int, split: str) -> pd.DataFrame:
    """Return a long-format matrix of ``n_samples`` x 5 models with distinct prompts and a ``split`` column."""
    rng = np.random.default_rng(seed)
    benchmark_index = rng.integers(0, len(BENCHMARKS), size=n_samples)
    benchmarks = [BENCHMARKS[b] for b in benchmark_index]
    prompts = []
    for i, name in enumerate(benchmarks):
        words = " ".join(rng.choice(TOPIC_WORDS[name], size=3))
        prompts.append(f"{name} item {seed}-{i}: explain the {words} in case {rng.integers(1_000_000)}.")
    scores = (rng.random((n_samples, len(MODELS))) < ACCURACY[benchmark_index]).astype(float)
    tokens = rng.integers(20, 400, size=(n_samples, 1))
    costs = tokens * PRICE[None, :]
    sample_ids = [f"{seed}-{i}" for i in range(n_samples)]
    matrix = from_arrays(sample_ids, benchmarks, prompts, MODELS, scores, costs)
    return matrix.assign(split=split)


def timed(function, *args, **kwargs) -> tuple[Any, float]:
    """Return the function's result and its wall time in seconds."""
    started = time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - started


def fit_calibration_router(folder: Path, n_samples: int = 1000) -> ClusterRouter:
    """Fit and save a router (k = 30) on a separate synthetic calibration matrix of ``n_samples`` samples."""
    calibration = synthetic_matrix(n_samples, seed=1, split="train")
    arrays = to_arrays(calibration, MODELS)
    embeddings = get_embedder().encode([embed_query_text(p) for p in arrays.prompts])
    router = ClusterRouter(k=30, top_p=1, alpha=1.0, random_state=0, n_init=1)
    router.fit(embeddings, arrays.scores, arrays.costs, MODELS)
    save_router(router, folder)
    return router


def sweep(router: ClusterRouter, embeddings: np.ndarray, scores: np.ndarray, benchmarks: np.ndarray) -> list[float]:
    """Route every sample at each alpha of the grid and return the mean-over-benchmarks accuracy per alpha."""
    rows = np.arange(len(embeddings))
    names = np.unique(benchmarks)
    accuracies = []
    for alpha in ALPHA_GRID:
        chosen = scores[rows, router.route(embeddings, alpha=float(alpha))]
        accuracies.append(float(np.mean([np.nanmean(chosen[benchmarks == b]) for b in names])))
    return accuracies


def measure_size(rows: int, router: ClusterRouter, router_dir: Path, profile: bool, end_to_end: bool,
                 per_call_samples: int) -> dict[str, Any]:
    """Time every stage on a matrix of ``rows`` long-format rows (``rows / 5`` samples).

    The encoder runs once per size, through the disk cache, so the cold
    stage is the batched encoder plus the cache writes. The end-to-end run
    encodes again (``routed_test_matrix`` does not use the cache), so it is
    skipped when ``end_to_end`` is False.
    """
    n_samples = rows // len(MODELS)
    matrix = synthetic_matrix(n_samples, seed=100 + rows, split="test")
    result: dict[str, Any] = {"rows": len(matrix), "samples": n_samples}

    arrays, result["pivot_s"] = timed(to_arrays, matrix, MODELS)
    texts, result["query_text_s"] = timed(lambda: [embed_query_text(p) for p in arrays.prompts])
    with tempfile.TemporaryDirectory() as cache_dir:
        os.environ["HARNESS_EMBEDDING_CACHE"] = cache_dir
        embeddings, result["encode_cold_s"] = timed(encode_cached, texts)
        _, result["encode_warm_cache_s"] = timed(encode_cached, texts)
        os.environ.pop("HARNESS_EMBEDDING_CACHE")
    result["encode_cold_ms_per_sample"] = result["encode_cold_s"] * 1000 / n_samples
    _, result["sweep_21_alphas_s"] = timed(sweep, router, embeddings, arrays.scores, arrays.benchmarks)
    _, result["route_one_call_s"] = timed(router.route, embeddings, 1.0)
    result["route_one_call_ms_per_sample"] = result["route_one_call_s"] * 1000 / n_samples

    if per_call_samples:
        # Before: one call per sample, as the router/ provider routes and encodes.
        count = min(n_samples, per_call_samples)
        _, per_row = timed(lambda: [router.route(embeddings[i:i + 1], 1.0) for i in range(count)])
        result["route_per_sample_calls_ms_per_sample"] = per_row * 1000 / count
        _, per_query = timed(lambda: [get_embedder().encode([t]) for t in texts[:count]])
        result["encode_per_query_calls_ms_per_sample"] = per_query * 1000 / count

    if end_to_end:
        profiler = cProfile.Profile() if profile else None
        if profiler is not None:
            profiler.enable()
        _, result["end_to_end_s"] = timed(routed_test_matrix, matrix, router_dir)
        if profiler is not None:
            profiler.disable()
            buffer = io.StringIO()
            pstats.Stats(profiler, stream=buffer).sort_stats("tottime").print_stats(12)
            result["profile_top_tottime"] = buffer.getvalue()
        result["rows_per_s_end_to_end"] = round(len(matrix) / result["end_to_end_s"], 1)

    replay_without_encoder = result["pivot_s"] + result["query_text_s"] + result["sweep_21_alphas_s"]
    result["rows_per_s_cold_encoder"] = round(len(matrix) / (replay_without_encoder + result["encode_cold_s"]), 1)
    result["rows_per_s_warm_embedding_cache"] = round(
        len(matrix) / (replay_without_encoder + result["encode_warm_cache_s"]), 1)
    result["rows_per_s_without_encoder"] = round(len(matrix) / replay_without_encoder, 1)
    for key, value in list(result.items()):
        if isinstance(value, float):
            result[key] = round(value, 4 if key.endswith("_s") else 5)
    logger.info("%s", {k: v for k, v in result.items() if k != "profile_top_tottime"})
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1000, 10000, 100000], help="matrix sizes in rows")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    parser.add_argument("--profile-rows", type=int, default=10000, help="profile the end-to-end run at this size")
    parser.add_argument("--end-to-end-max", type=int, default=10000,
                        help="run routed_test_matrix end to end only up to this many rows, since it encodes again")
    parser.add_argument("--per-call-samples", type=int, default=100,
                        help="samples timed one call at a time (the before case), at the smallest size only")
    parser.add_argument("--out", type=Path, default=None, help="write the results as JSON to this file")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    logging.getLogger("harness").setLevel(logging.WARNING)

    if args.threads is not None:
        import torch

        torch.set_num_threads(args.threads)
    info = machine_info()
    with tempfile.TemporaryDirectory() as work:
        router_dir = Path(work) / "router"
        router, fit_s = timed(fit_calibration_router, router_dir)
        get_embedder().encode(["warm-up"])
        results = [measure_size(rows, router, router_dir, profile=rows == args.profile_rows,
                                end_to_end=rows <= args.end_to_end_max,
                                per_call_samples=args.per_call_samples if rows == min(args.rows) else 0)
                   for rows in args.rows]
    info["load_average_after"] = [round(value, 2) for value in os.getloadavg()]

    print("| rows | pivot s | encode s, cold | encode s, warm cache | 21-alpha sweep s | end to end s | "
          "rows/s, cold encoder | rows/s, warm cache | rows/s, without encoder |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['rows']} | {r['pivot_s']} | {r['encode_cold_s']} | {r['encode_warm_cache_s']} | "
              f"{r['sweep_21_alphas_s']} | {r.get('end_to_end_s', '-')} | {r['rows_per_s_cold_encoder']} | "
              f"{r['rows_per_s_warm_embedding_cache']} | {r['rows_per_s_without_encoder']} |")
    for r in results:
        if "route_per_sample_calls_ms_per_sample" in r:
            print(f"\nper sample at {r['rows']} rows: route {r['route_per_sample_calls_ms_per_sample']} ms one call "
                  f"each, {r['route_one_call_ms_per_sample']} ms in one call; encode "
                  f"{r['encode_per_query_calls_ms_per_sample']} ms one call each, "
                  f"{r['encode_cold_ms_per_sample']} ms batched (with cache writes)")
    for r in results:
        if "profile_top_tottime" in r:
            print(f"\nprofile of routed_test_matrix at {r['rows']} rows:\n{r['profile_top_tottime']}")
    print(json.dumps({"router_fit_s": round(fit_s, 2), "machine": info}))
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({"benchmark": "replay_throughput", "threads": args.threads,
                                        "router_fit_s": round(fit_s, 2), "machine": info, "results": results},
                                       indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
