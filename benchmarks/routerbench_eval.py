"""Evaluate the router variants on the RouterBench zero-shot subset by replay (no model calls).

Run from the repository root:

    python benchmarks/routerbench_eval.py --seeds 5 --loo --out results/routerbench

It imports the six RouterBench files (ARC-Challenge, MBPP, WinoGrande; train
and test) from the ``shared/data/routerbench`` folder next to the repository
(or ``--data``). The train files are the calibration set and the test files
the test set. It runs ``harness evaluate``'s pipeline, writes the tables and
the Pareto plot to ``--out``, and prints these comparisons:

- each variant at alpha = 1 against the best single model chosen on train;
- each variant at the alpha chosen by cross-validation on train ("auto");
- read off the test-set alpha sweep: the cheapest router point that reaches
  the best single model's accuracy, and the most accurate point at no more
  than 50%, 40% and 10% of its cost, for each variant and for the dataset
  oracle swept over the same alphas. These points are picked on test, so
  they describe the frontier and are not a tuned result;
- how well the embeddings predict each model's correctness inside each
  benchmark (5-fold cross-validated ROC AUC of a logistic regression on the
  train embeddings), which bounds what any embedding router can gain there.

The same numbers come from the command line:

    harness import routerbench ../shared/data/routerbench/*_train.csv --out train.parquet
    harness import routerbench ../shared/data/routerbench/*_test.csv --out test.parquet
    harness evaluate train.parquet --test test.parquet --seeds 5 --loo --out results/routerbench
"""

from __future__ import annotations

import argparse
import json
import logging
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness.commands.evaluate import load_evaluation_data  # noqa: E402
from harness.commands.importer import routerbench_to_long  # noqa: E402
from harness.embedding import DEFAULT_EMBEDDER  # noqa: E402
from harness.evaluation import EvaluationConfig, evaluate  # noqa: E402
from harness.evaluation.report import format_table, write_outputs  # noqa: E402
from harness.matrix import write_matrix  # noqa: E402

logger = logging.getLogger("benchmarks.routerbench_eval")

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO_ROOT.parent / "shared" / "data" / "routerbench"
BENCHMARK_FILES = ("arc_challenge", "mbpp", "winograde")


def import_split(data_dir: Path, split: str, out: Path) -> Path:
    """Convert one split's three wide files into a long-format Parquet matrix."""
    files = [data_dir / f"{name}_{split}.csv" for name in BENCHMARK_FILES]
    missing = [str(path) for path in files if not path.is_file()]
    if missing:
        raise SystemExit(f"RouterBench file(s) not found: {', '.join(missing)}; pass --data DIR")
    return write_matrix(routerbench_to_long(files, keep_responses=False), out)


def frontier_claims(report) -> dict[str, object]:
    """Compare each variant's test-set sweep with the best single model's accuracy and cost."""
    rows = {row.name: row for row in report.methods if row.section == "in-distribution"}
    best = rows["best-single"]
    claims: dict[str, object] = {
        "best_single": {"model": best.model, "accuracy": best.accuracy, "total_cost": best.total_cost},
        "oracle": {"accuracy": rows["oracle"].accuracy, "total_cost": rows["oracle"].total_cost},
        "dataset_oracle": {"accuracy": rows["dataset-oracle"].accuracy, "total_cost": rows["dataset-oracle"].total_cost},
        "variants": {},
    }
    for variant, points in report.sweeps.items():
        entry: dict[str, object] = {
            "alpha_1": _row_summary(rows.get(f"router:{variant}@1.00"), best),
            "alpha_auto": _row_summary(rows.get(f"router:{variant}@auto"), best),
            **_sweep_summary(points, best),
        }
        claims["variants"][variant] = entry
    for name, points in report.baseline_sweeps.items():
        claims[f"{name}_sweep"] = _sweep_summary(points, best)
    return claims


def _sweep_summary(points, best) -> dict[str, object]:
    """Return the cheapest sweep point reaching ``best``'s accuracy and the best points within 50% and 40% of its cost."""
    reaching = [p for p in points if p.accuracy >= best.accuracy - 1e-12]
    cheapest = min(reaching, key=lambda p: p.total_cost) if reaching else None
    summary: dict[str, object] = {
        "sweep_cheapest_reaching_best_single": None
        if cheapest is None
        else {"alpha": cheapest.alpha, "accuracy": cheapest.accuracy, "cost_share": cheapest.total_cost / best.total_cost},
    }
    for share in (0.5, 0.4, 0.1):
        within = [p for p in points if p.total_cost <= share * best.total_cost]
        top = max(within, key=lambda p: (p.accuracy, -p.total_cost)) if within else None
        summary[f"sweep_best_within_{int(share * 100)}pct_cost"] = None if top is None else {
            "alpha": top.alpha,
            "accuracy": top.accuracy,
            "accuracy_vs_best_single": top.accuracy - best.accuracy,
            "cost_share": top.total_cost / best.total_cost,
        }
    return summary


def correctness_auc(calibration) -> dict[str, dict[str, float]]:
    """Return, per benchmark and model, the cross-validated ROC AUC of predicting a correct answer from the embedding.

    Uses calibration samples with a result from every model; a model that is
    right (or wrong) on every sample of a benchmark is skipped.
    """
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    complete = ~np.isnan(calibration.scores).any(axis=1)
    result: dict[str, dict[str, float]] = {}
    for benchmark in sorted(set(calibration.benchmarks.tolist())):
        rows = np.flatnonzero(complete & (calibration.benchmarks == benchmark))
        per_model = {}
        for index, model in enumerate(calibration.model_ids):
            target = calibration.scores[rows, index] >= 0.5
            if target.all() or not target.any() or min(target.sum(), (~target).sum()) < 5:
                continue
            folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
            predicted = cross_val_predict(
                LogisticRegression(max_iter=2000), calibration.embeddings[rows], target, cv=folds, method="predict_proba"
            )[:, 1]
            per_model[model] = float(roc_auc_score(target, predicted))
        result[benchmark] = per_model
    return result


def _row_summary(row, best) -> dict[str, float] | None:
    if row is None:
        return None
    return {
        "alpha": row.alpha,
        "accuracy": row.accuracy,
        "delta_vs_best_single": row.delta_vs_best_single,
        "delta_ci95": [row.delta_ci_low, row.delta_ci_high],
        "cost_share": row.total_cost / best.total_cost,
    }


def main(argv: list[str] | None = None) -> int:
    """Run the evaluation and print the table and the claims."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder of the RouterBench CSV files")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "results" / "routerbench", help="output folder")
    parser.add_argument("--seeds", type=int, default=5, help="seeds (k-means and CV folds; the test set is fixed)")
    parser.add_argument("--loo", action="store_true", help="also run leave-one-benchmark-out")
    parser.add_argument("--embedder", default=DEFAULT_EMBEDDER, help="sentence-transformers model name or path")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", datefmt="%H:%M:%S")
    if not args.data.is_dir():
        print(f"RouterBench data folder not found: {args.data}; pass --data DIR", file=sys.stderr)
        return 2

    args.out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    train_path = import_split(args.data, "train", args.out / "train.parquet")
    test_path = import_split(args.data, "test", args.out / "test.parquet")
    calibration = load_evaluation_data(str(train_path), args.embedder, use_cache=True)
    test = load_evaluation_data(str(test_path), args.embedder, use_cache=True, model_ids=calibration.model_ids)

    config = EvaluationConfig(seeds=args.seeds, loo=args.loo)
    report = evaluate(calibration, test, config)
    elapsed = time.perf_counter() - started

    write_outputs(report, args.out, title="RouterBench zero-shot subset: train -> test")
    claims = frontier_claims(report)
    claims["runtime_seconds"] = round(elapsed, 1)
    claims["correctness_auc"] = correctness_auc(calibration)
    claims["machine"] = {"python": platform.python_version(), "platform": platform.platform()}
    (args.out / "claims.json").write_text(json.dumps(claims, indent=2) + "\n", encoding="utf-8")

    print(format_table(report))
    print()
    print(json.dumps(claims, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
