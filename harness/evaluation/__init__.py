"""Replay evaluation of routers against baselines on a results matrix.

Every choice (best single model, dataset oracle, k, top_p, "auto" alpha) is
made on calibration data only and scored on test.
"""

from harness.evaluation.aggregate import EvaluationReport, MethodResult, evaluate
from harness.evaluation.baselines import (
    benchmark_mean_accuracy,
    best_single_model,
    cheapest_model,
    dataset_oracle_selection,
    dataset_router_selection,
    oracle_selection,
    random_outcome,
)
from harness.evaluation.data import EvaluationData
from harness.evaluation.metrics import Summary, bootstrap_ci, mean_ci, pareto_frontier, summarise, take
from harness.evaluation.runner import AUTO, EvaluationConfig, run_round
from harness.evaluation.splits import complete_rows, near_duplicates, split_per_benchmark, stratified_folds
from harness.evaluation.sweeps import DEFAULT_SWEEP_ALPHAS, SweepPoint, alpha_sweep
from harness.evaluation.tuning import TuningResult, tune_router

__all__ = [
    "AUTO",
    "DEFAULT_SWEEP_ALPHAS",
    "EvaluationConfig",
    "EvaluationData",
    "EvaluationReport",
    "MethodResult",
    "Summary",
    "SweepPoint",
    "TuningResult",
    "alpha_sweep",
    "benchmark_mean_accuracy",
    "best_single_model",
    "bootstrap_ci",
    "cheapest_model",
    "complete_rows",
    "dataset_oracle_selection",
    "dataset_router_selection",
    "evaluate",
    "mean_ci",
    "near_duplicates",
    "oracle_selection",
    "pareto_frontier",
    "random_outcome",
    "run_round",
    "split_per_benchmark",
    "stratified_folds",
    "summarise",
    "take",
    "tune_router",
]
