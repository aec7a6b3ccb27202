"""``harness evaluate``: replay a results matrix and compare router variants with baselines."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

import numpy as np

from harness.embedding import DEFAULT_EMBEDDER, embed_query_text, encode_cached
from harness.errors import HarnessError
from harness.evaluation import AUTO, DEFAULT_SWEEP_ALPHAS, EvaluationConfig, EvaluationData, evaluate
from harness.evaluation.report import format_table, report_to_json, write_outputs
from harness.evaluation.runner import fit_routers
from harness.evaluation.tuning import DEFAULT_K_GRID, DEFAULT_KNN_K_GRID, DEFAULT_TOP_P_GRID
from harness.matrix import read_matrix, to_arrays
from harness.router import VARIANTS

logger = logging.getLogger(__name__)


def _alpha_list(text: str) -> tuple[float | str, ...]:
    values: list[float | str] = []
    for item in text.split(","):
        item = item.strip()
        if not item:
            continue
        if item == AUTO:
            values.append(AUTO)
            continue
        try:
            value = float(item)
        except ValueError:
            raise argparse.ArgumentTypeError(f"invalid alpha {item!r}: use numbers in [0, 1] or 'auto', comma separated") from None
        if not 0.0 <= value <= 1.0:
            raise argparse.ArgumentTypeError(f"alpha {value} is outside [0, 1]")
        values.append(value)
    if not values:
        raise argparse.ArgumentTypeError("give at least one alpha")
    return tuple(values)


def _float_list(text: str) -> tuple[float, ...]:
    values = _alpha_list(text)
    if AUTO in values:
        raise argparse.ArgumentTypeError("'auto' is not allowed here; give numbers in [0, 1]")
    return tuple(float(v) for v in values)


def _int_list(text: str) -> tuple[int, ...]:
    try:
        values = tuple(int(item) for item in text.split(",") if item.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid list {text!r}: give comma-separated integers") from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"invalid list {text!r}: give integers >= 1")
    return values


def _int_or_auto(text: str) -> int | None:
    if text == AUTO:
        return None
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid value {text!r}: give an integer >= 1 or 'auto'") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"invalid value {value}: must be >= 1")
    return value


def _commas(values) -> str:
    return ",".join(f"{value:g}" if isinstance(value, float) else str(value) for value in values)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is invalid; give a whole number >= 1")
    return value


def _variant_list(text: str) -> tuple[str, ...]:
    names = tuple(item.strip() for item in text.split(",") if item.strip())
    unknown = [name for name in names if name not in VARIANTS]
    if not names:
        raise argparse.ArgumentTypeError(f"no variant given; choose from {', '.join(VARIANTS)}")
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown variant(s) {', '.join(unknown)}; choose from {', '.join(VARIANTS)}")
    return names


def load_evaluation_data(path: str, embedder_name: str, use_cache: bool, model_ids: list[str] | None = None) -> EvaluationData:
    """Read a matrix, embed its prompts and return aligned arrays (in ``model_ids`` order when given)."""
    frame = read_matrix(path)
    if model_ids is not None:
        extra = sorted(set(frame["model"]) - set(model_ids))
        missing = sorted(set(model_ids) - set(frame["model"]))
        if extra or missing:
            raise HarnessError(
                f"{path}: models differ from the calibration matrix (missing: {missing or 'none'}, extra: {extra or 'none'}); "
                "both matrices must cover the same pool"
            )
    arrays = to_arrays(frame, model_ids=model_ids)
    texts = [embed_query_text(prompt) for prompt in arrays.prompts]
    embeddings = encode_cached(texts, embedder_name, use_cache=use_cache)
    return EvaluationData.from_arrays(arrays, embeddings)


def run_evaluate(args: argparse.Namespace) -> int:
    """Evaluate, print the table (or JSON) and write the output files."""
    config = EvaluationConfig(
        seeds=args.seeds,
        alphas=args.alphas,
        sweep_alphas=args.sweep_alphas,
        variants=args.variants,
        k=args.k,
        top_p=args.top_p,
        k_grid=args.k_grid,
        top_p_grid=args.top_p_grid,
        knn_k=args.knn_k,
        knn_k_grid=args.knn_k_grid,
        min_cluster_size=args.min_cluster_size,
        dedup_threshold=None if args.no_dedup else args.dedup_threshold,
        calibration_fraction=args.calibration_fraction,
        n_folds=args.folds,
        n_bootstrap=args.bootstrap,
        loo=args.loo,
    )
    use_cache = not args.no_embedding_cache
    calibration = load_evaluation_data(args.matrix, args.embedder, use_cache)
    test = None
    if args.test:
        test = load_evaluation_data(args.test, args.embedder, use_cache, model_ids=calibration.model_ids)

    report = evaluate(calibration, test, config)

    if args.json:
        print(json.dumps(report_to_json(report), indent=2))
    else:
        print(format_table(report))
    if args.out:
        title = f"{Path(args.matrix).name}" + (f" -> {Path(args.test).name}" if args.test else " (70/30 split)")
        for path in write_outputs(report, args.out, title=title):
            logger.info("wrote %s", path)
    if args.save_router:
        _save_routers(calibration, config, report, args.save_router, args.embedder)
    return 0


def _save_routers(calibration: EvaluationData, config: EvaluationConfig, report, folder: str, embedder: str) -> None:
    """Fit each variant on the whole calibration matrix with seed 0's choices and save it."""
    from harness.evaluation.tuning import TuningResult

    chosen = {}
    for entry in report.tuning:
        if entry["seed"] == 0:
            chosen[entry["variant"]] = TuningResult(
                variant=entry["variant"],
                k=entry["k"],
                top_p=entry["top_p"],
                knn_k=entry.get("knn_k"),
                alpha=entry["alpha_auto"],
                cv_accuracy=entry["cv_accuracy_alpha_1"],
                best_single_cv_accuracy=entry["cv_accuracy_best_single"],
            )
    routers = fit_routers(calibration, config, seed=0, tuning=chosen)
    for variant, router in routers.items():
        router.embedder_name = embedder
        numeric = [a for a in config.alphas if a != AUTO]
        router.alpha = chosen[variant].alpha if AUTO in config.alphas and variant in chosen else float(numeric[0])
        target = Path(folder) / variant
        router.save(target)
        print(f"saved router {variant} (alpha {router.alpha:.2f}) to {target}")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``harness evaluate``."""
    parser = subparsers.add_parser(
        "evaluate",
        help="compare router variants with single models and oracles on a results matrix",
        description=(
            "Replay a results matrix: fit the cluster router on calibration samples, route test samples, "
            "and compare accuracy and cost with every single model, the best single model (chosen on calibration), "
            "the per-sample oracle, the dataset oracle, a random and the cheapest model."
        ),
    )
    parser.add_argument(
        "matrix",
        help="results matrix (.csv or .parquet), one row per (sample, model) with columns sample_id, benchmark, "
        "prompt, model, score in [0, 1] and cost in US dollars (empty = unknown); optional response and split. "
        "It is the calibration data when --test is given",
    )
    parser.add_argument("--test", metavar="MATRIX", help="separate test matrix; without it each seed splits MATRIX 70/30 per benchmark")

    parser.add_argument("--seeds", type=_positive_int, default=1, help="number of seeds (splits, k-means and CV folds); default 1")
    parser.add_argument("--alphas", type=_alpha_list, default=(1.0, AUTO), help="router alphas reported as rows, comma separated; 'auto' is chosen by CV (default: 1,auto)")
    parser.add_argument("--sweep-alphas", type=_float_list, default=DEFAULT_SWEEP_ALPHAS, help=f"alphas of the sweep for the Pareto plot and CV, comma separated (default: {_commas(DEFAULT_SWEEP_ALPHAS)})")
    parser.add_argument("--variants", type=_variant_list, default=tuple(VARIANTS), help=f"router variants, comma separated (default: {','.join(VARIANTS)})")

    parser.add_argument("--k", type=_int_or_auto, default=None, help="number of clusters, or 'auto' to choose by CV (default: auto)")
    parser.add_argument("--top-p", type=_int_or_auto, default=None, help="nearest clusters per query, or 'auto' (default: auto)")
    parser.add_argument("--k-grid", type=_int_list, default=DEFAULT_K_GRID, help=f"candidate k for CV, comma separated (default: {_commas(DEFAULT_K_GRID)})")
    parser.add_argument("--top-p-grid", type=_int_list, default=DEFAULT_TOP_P_GRID, help=f"candidate top_p for CV, comma separated (default: {_commas(DEFAULT_TOP_P_GRID)})")
    parser.add_argument("--knn-k", type=_int_or_auto, default=None, help="neighbours of the knn and neighbours variants, or 'auto' (default: auto)")
    parser.add_argument("--knn-k-grid", type=_int_list, default=DEFAULT_KNN_K_GRID, help=f"candidate knn_k for CV, comma separated (default: {_commas(DEFAULT_KNN_K_GRID)})")
    parser.add_argument("--min-cluster-size", type=int, default=5, help="clusters with fewer calibration samples use the global ranking (default: 5)")

    parser.add_argument("--dedup-threshold", type=float, default=0.95, help="drop test samples with cosine >= this to a calibration sample (default: 0.95)")
    parser.add_argument("--no-dedup", action="store_true", help="keep near-duplicate test samples")
    parser.add_argument("--calibration-fraction", type=float, default=0.7, help="calibration share per benchmark without --test (default: 0.7)")
    parser.add_argument("--folds", type=int, default=5, help="cross-validation folds inside calibration (default: 5)")
    parser.add_argument("--bootstrap", type=int, default=2000, help="bootstrap resamples for 95%% intervals (default: 2000)")
    parser.add_argument("--loo", action="store_true", help="also run leave-one-benchmark-out (router never sees the test benchmark)")

    parser.add_argument("--embedder", default=DEFAULT_EMBEDDER, help=f"sentence-transformers model name or path (default: {DEFAULT_EMBEDDER})")
    parser.add_argument("--no-embedding-cache", action="store_true", help="re-encode every prompt instead of reading the embedding cache")

    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    parser.add_argument("--out", metavar="DIR", help="write methods.csv, sweep.csv, tuning.csv, test_counts.csv, report.json and pareto.png here")
    parser.add_argument("--save-router", metavar="DIR", help="fit each variant on the whole MATRIX and save it to DIR/<variant>")
    parser.set_defaults(func=run_evaluate)
