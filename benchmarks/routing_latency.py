"""Measure the router's decision latency per query: embedding, nearest centroids and scoring.

Run from the repository root:

    python benchmarks/routing_latency.py --threads 1 2 --out results/bench/routing_latency.json

For each torch thread count it times, single and batched, for a short
(about 10 words) and a long (about 400 words, cut by the encoder to 256
tokens) prompt:

- ``embed``: the encoder alone, the floor of any routing decision;
- ``route``: ``ClusterRouter.route_details`` on a ready embedding;
- ``decision``: ``embed_query_text`` + encoder + ``route_details``, what
  ``harness serve`` runs per routed request.

Beside the wall time, each encoder case reports the process CPU time per
call. With one torch thread that is close to the wall time on an idle
machine, so it estimates the latency without the other processes that
share the cores.

The router is fitted on random unit vectors of the encoder's width
(k = 30 clusters, 5 models, 2,000 calibration rows), because the cost of
routing depends on those sizes and not on what the vectors mean. The
``knn`` variant, which also searches the calibration rows, is timed beside
the default ``avengers-pro``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import sys
import time
from pathlib import Path
from typing import Callable

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness.embedding import DEFAULT_EMBEDDER, embed_query_text, get_embedder  # noqa: E402
from harness.router import ClusterRouter  # noqa: E402

logger = logging.getLogger("benchmarks.routing_latency")

SHORT_WORDS = ["capital", "river", "integral", "protein", "sonnet", "voltage", "treaty", "enzyme", "prime", "glacier"]


def machine_info() -> dict[str, object]:
    """Return what a reader needs to compare numbers: CPU, cores, load, library versions."""
    import torch

    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "load_average_1_5_15": [round(value, 2) for value in os.getloadavg()],
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "platform": platform.platform(),
    }


def percentiles_ms(samples_s: list[float]) -> dict[str, float]:
    """Return p50, p99, mean and count of durations given in seconds, in milliseconds."""
    values = np.asarray(samples_s) * 1000.0
    return {
        "p50_ms": round(float(np.percentile(values, 50)), 3),
        "p99_ms": round(float(np.percentile(values, 99)), 3),
        "mean_ms": round(float(values.mean()), 3),
        "n": int(values.size),
    }


def time_calls(function: Callable[[int], object], repeats: int, warmup: int = 3) -> list[float]:
    """Call ``function(i)`` ``repeats`` times after ``warmup`` calls and return each duration in seconds."""
    for i in range(warmup):
        function(-1 - i)
    durations = []
    for i in range(repeats):
        started = time.perf_counter()
        function(i)
        durations.append(time.perf_counter() - started)
    return durations


def short_prompt(i: int) -> str:
    """Return a distinct question of about ten words, so no cache can serve it."""
    rng = np.random.default_rng(i + 10_000)
    words = " ".join(rng.choice(SHORT_WORDS, size=3))
    return f"Question {i}: what links {words} in this case?"


def long_prompt(i: int) -> str:
    """Return a distinct prompt of about 400 words, longer than the encoder's 256-token window."""
    rng = np.random.default_rng(i + 20_000)
    body = " ".join(rng.choice(SHORT_WORDS, size=400))
    return f"Passage {i}. {body}\nQuestion: which word appears most often above?"


def fit_router(variant: str, dimension: int, seed: int = 0) -> ClusterRouter:
    """Fit a router of realistic size on random unit vectors (k = 30, m = 5, n = 2,000)."""
    rng = np.random.default_rng(seed)
    embeddings = rng.normal(size=(2000, dimension)).astype(np.float32)
    embeddings /= np.linalg.norm(embeddings, axis=1, keepdims=True)
    scores = rng.integers(0, 2, size=(2000, 5)).astype(float)
    costs = np.tile([1e-6, 5e-6, 2e-5, 1e-4, 5e-4], (2000, 1)) * rng.uniform(0.5, 1.5, size=(2000, 5))
    router = ClusterRouter(k=30, top_p=2, variant=variant, random_state=seed, n_init=1)
    return router.fit(embeddings, scores, costs, [f"model-{j}" for j in range(5)])


def measure(thread_counts: list[int], repeats: int, batch_size: int, seed: int = 0) -> list[dict[str, object]]:
    """Time every case and return the table rows.

    For each thread count, the encoder cases run interleaved in shuffled
    order, round after round. So a change in the load of a shared machine
    falls on every case alike instead of on whichever case ran at that
    moment.
    """
    import torch

    torch.set_num_threads(thread_counts[0])
    load_started = time.perf_counter()
    embedder = get_embedder(DEFAULT_EMBEDDER)
    loaded = time.perf_counter()
    embedder.encode([short_prompt(-1)])
    first_call = time.perf_counter() - loaded
    routers = {variant: fit_router(variant, embedder.dimension) for variant in ("avengers-pro", "knn")}
    default = routers["avengers-pro"]
    batch_rounds = max(5, repeats // 20)
    targets = {("short", 1): repeats, ("long", 1): max(20, repeats // 4),
               ("short", batch_size): batch_rounds, ("long", batch_size): max(3, batch_rounds // 2)}
    texts = {
        ("short", 1): [short_prompt(i) for i in range(targets[("short", 1)])],
        ("long", 1): [long_prompt(i) for i in range(targets[("long", 1)])],
        ("short", batch_size): [[short_prompt(10_000 + r * batch_size + j) for j in range(batch_size)]
                                for r in range(targets[("short", batch_size)])],
        ("long", batch_size): [[long_prompt(10_000 + r * batch_size + j) for j in range(batch_size)]
                               for r in range(targets[("long", batch_size)])],
    }

    def embed_case(key):
        if key[1] == 1:
            return lambda i: embedder.encode([texts[key][i]])
        return lambda i: embedder.encode(texts[key][i])

    def decision_case(key):
        if key[1] == 1:
            return lambda i: default.route_details(embedder.encode([embed_query_text(texts[key][i])]))
        return lambda i: default.route_details(embedder.encode([embed_query_text(t) for t in texts[key][i]]))

    durations: dict[tuple, list[float]] = {}
    cpu_times: dict[tuple, list[float]] = {}
    rng = np.random.default_rng(seed)
    for threads in thread_counts:
        # One thread count at a time: torch's worker threads from a 2-thread
        # call would otherwise still spin while a 1-thread call is timed.
        torch.set_num_threads(threads)
        cases = []
        for key, target in targets.items():
            cases.append(((threads, "embed", *key), embed_case(key), target))
            cases.append(((threads, "decision", *key), decision_case(key), target))
        for key, function, _ in cases:
            function(0)
            durations[key], cpu_times[key] = [], []
        for round_index in range(max(target for *_, target in cases)):
            for position in rng.permutation(len(cases)):
                key, function, target = cases[position]
                if round_index >= target:
                    continue
                started, cpu_started = time.perf_counter(), time.process_time()
                function(round_index)
                durations[key].append(time.perf_counter() - started)
                cpu_times[key].append(time.process_time() - cpu_started)

    rows: list[dict[str, object]] = [{"threads": thread_counts[0], "case": "embed, first call after load",
                                      "prompt": "short", "batch": 1, "p50_ms": round(first_call * 1000, 3),
                                      "p99_ms": round(first_call * 1000, 3), "mean_ms": round(first_call * 1000, 3),
                                      "n": 1, "per_query_p50_ms": round(first_call * 1000, 3),
                                      "load_s": round(loaded - load_started, 3)}]

    def add(threads: object, case: str, prompt: str, batch: int, samples: list[float],
            cpu_samples: list[float] | None = None) -> None:
        row = {"threads": threads, "case": case, "prompt": prompt, "batch": batch, **percentiles_ms(samples)}
        row["per_query_p50_ms"] = round(row["p50_ms"] / batch, 3)
        if cpu_samples:
            row["cpu_p50_ms"] = percentiles_ms(cpu_samples)["p50_ms"]
        rows.append(row)
        logger.info("%s", row)

    for (threads, case, prompt, batch), samples in sorted(durations.items(), key=lambda item: (
            item[0][0], item[0][2] != "short", item[0][3], item[0][1] != "embed")):
        add(threads, case, prompt, batch, samples, cpu_times[(threads, case, prompt, batch)])

    # Routing alone is numpy work, independent of torch's threads.
    query = embedder.encode([short_prompt(0)])
    many = embedder.encode([short_prompt(i) for i in range(batch_size)])
    for variant, router in routers.items():
        add("-", f"route ({variant})", "-", 1, time_calls(lambda i: router.route_details(query), repeats * 5))
        add("-", f"route ({variant})", "-", batch_size, time_calls(lambda i: router.route_details(many), repeats))
    return rows


def to_markdown(rows: list[dict[str, object]]) -> str:
    """Render result rows as a Markdown table."""
    header = "| threads | case | prompt | batch | p50 ms | p99 ms | per query p50 ms | CPU p50 ms | n |"
    lines = [header, "|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        lines.append(f"| {row['threads']} | {row['case']} | {row['prompt']} | {row['batch']} | {row['p50_ms']} | "
                     f"{row['p99_ms']} | {row['per_query_p50_ms']} | {row.get('cpu_p50_ms', '-')} | {row['n']} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2], help="torch thread counts to measure")
    parser.add_argument("--repeats", type=int, default=200, help="timed calls per single-query case")
    parser.add_argument("--batch-size", type=int, default=32, help="queries per batched call")
    parser.add_argument("--out", type=Path, default=None, help="write the results as JSON to this file")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")

    started = time.time()
    info = machine_info()
    rows = measure(args.threads, args.repeats, args.batch_size)
    info["load_average_after"] = [round(value, 2) for value in os.getloadavg()]
    result = {"benchmark": "routing_latency", "machine": info, "seconds": round(time.time() - started, 1),
              "rows": rows}
    print(to_markdown(rows))
    print(json.dumps(info))
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
