"""Repeat evaluation rounds over seeds and aggregate them into report rows with 95% intervals."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from harness.errors import HarnessError
from harness.evaluation.data import EvaluationData
from harness.evaluation.metrics import bootstrap_ci, mean_ci, summarise
from harness.evaluation.runner import AUTO, EvaluationConfig, RoundResult, concatenate_rounds, run_round
from harness.evaluation.splits import complete_rows, near_duplicates, split_per_benchmark
from harness.evaluation.sweeps import SweepPoint

logger = logging.getLogger(__name__)

IN_DISTRIBUTION = "in-distribution"
LEAVE_ONE_OUT = "leave-one-benchmark-out"


@dataclass
class MethodResult:
    """One report row: a method's metrics averaged over seeds.

    Attributes
    ----------
    section : str
        ``in-distribution`` or ``leave-one-benchmark-out``.
    name : str
        Method name (``oracle``, ``best-single``, ``router:shrunk@1.00``, ...).
    kind : str
        ``router``, ``baseline`` or ``single``.
    alpha : float or None
        Router alpha, averaged over seeds when chosen per seed.
    model : str or None
        Model behind a single-model baseline (``varies`` if seeds disagree).
    accuracy, accuracy_samples : float
        Mean over benchmarks and mean over samples, in [0, 1].
    total_cost, cost_per_sample : float
        US dollars; NaN if any chosen cost is unknown.
    ci_low, ci_high : float
        95% interval of ``accuracy``.
    ci_method : str
        ``bootstrap`` (test samples resampled within benchmarks) or ``seeds``
        (Student t over per-seed values).
    delta_vs_best_single, delta_ci_low, delta_ci_high : float
        Accuracy minus the best single model's, with its paired 95% interval.
    fallback_rate : float or None
        Router queries that used a fallback cluster, as a share.
    n_test : float
        Test samples per seed (mean over seeds).
    per_benchmark : dict
        Benchmark -> accuracy, mean over seeds.
    accuracy_per_seed : list of float
        Accuracy of each seed.
    """

    section: str
    name: str
    kind: str
    alpha: float | None
    model: str | None
    accuracy: float
    accuracy_samples: float
    total_cost: float
    cost_per_sample: float
    ci_low: float
    ci_high: float
    ci_method: str
    delta_vs_best_single: float
    delta_ci_low: float
    delta_ci_high: float
    fallback_rate: float | None
    n_test: float
    per_benchmark: dict[str, float] = field(default_factory=dict)
    accuracy_per_seed: list[float] = field(default_factory=list)
    requested_alpha: float | str | None = None
    variant: str | None = None


@dataclass
class EvaluationReport:
    """Result of :func:`evaluate`.

    Attributes
    ----------
    config : EvaluationConfig
    methods : list of MethodResult
        Rows of both sections.
    sweeps : dict
        Variant -> list of SweepPoint averaged over seeds (in-distribution).
    baseline_sweeps : dict
        ``dataset-oracle`` -> its sweep over the same alphas, averaged over seeds.
    tuning : list of dict
        Chosen hyperparameters per seed and variant.
    test_counts : list of dict
        Per seed: test samples before filtering, dropped as incomplete,
        dropped as near duplicates, kept.
    fixed_test : bool
        True when a separate test matrix was given.
    """

    config: EvaluationConfig
    methods: list[MethodResult]
    sweeps: dict[str, list[SweepPoint]]
    tuning: list[dict[str, object]]
    test_counts: list[dict[str, int]]
    fixed_test: bool
    baseline_sweeps: dict[str, list[SweepPoint]] = field(default_factory=dict)


def _filter_test(calibration: EvaluationData, test: EvaluationData, config: EvaluationConfig) -> tuple[EvaluationData, dict[str, int]]:
    complete = complete_rows(test.scores)
    counts = {"test_samples": len(test), "dropped_incomplete": int((~complete).sum())}
    keep = complete.copy()
    if config.dedup_threshold is not None:
        duplicates = near_duplicates(test.embeddings, calibration.embeddings, config.dedup_threshold)
        counts["dropped_near_duplicates"] = int((duplicates & complete).sum())
        keep &= ~duplicates
    else:
        counts["dropped_near_duplicates"] = 0
    counts["kept"] = int(keep.sum())
    if counts["kept"] == 0:
        raise HarnessError(
            f"no test sample left: {counts['dropped_incomplete']} lack a result from some model and "
            f"{counts['dropped_near_duplicates']} are near duplicates of calibration samples"
        )
    return test.subset(keep), counts


def _leave_one_out_round(calibration: EvaluationData, test: EvaluationData, config: EvaluationConfig, seed: int) -> RoundResult:
    parts = []
    for benchmark in sorted(set(test.benchmarks.tolist())):
        held_cal = calibration.subset(calibration.benchmarks != benchmark)
        held_test = test.subset(test.benchmarks == benchmark)
        if len(held_cal) == 0:
            raise HarnessError("leave-one-benchmark-out needs at least two benchmarks in the calibration data")
        logger.info("leave-one-benchmark-out, seed %d: holding out %s (%d test samples)", seed, benchmark, len(held_test))
        parts.append(run_round(held_cal, held_test, config, seed, with_sweeps=False, with_dataset_oracle=False))
    return concatenate_rounds(parts)


def evaluate(calibration: EvaluationData, test: EvaluationData | None, config: EvaluationConfig) -> EvaluationReport:
    """Run every seed (and the leave-one-benchmark-out rounds when asked) and aggregate.

    Parameters
    ----------
    calibration : EvaluationData
        Calibration matrix, or the whole matrix when ``test`` is None.
    test : EvaluationData or None
        Separate test matrix in the same model order; None splits
        ``calibration`` 70/30 per benchmark with each seed.
    config : EvaluationConfig

    Returns
    -------
    EvaluationReport
    """
    if test is not None and test.model_ids != calibration.model_ids:
        raise HarnessError("the test matrix must list the calibration matrix's models in the same order")
    rounds: dict[str, list[RoundResult]] = {IN_DISTRIBUTION: [], LEAVE_ONE_OUT: []}
    benchmarks_of_round: dict[str, list[np.ndarray]] = {IN_DISTRIBUTION: [], LEAVE_ONE_OUT: []}
    test_counts, tuning_rows = [], []

    for seed in range(config.seeds):
        if test is None:
            cal_rows, test_rows = split_per_benchmark(calibration.benchmarks, seed, config.calibration_fraction)
            cal, raw_test = calibration.subset(cal_rows), calibration.subset(test_rows)
        else:
            cal, raw_test = calibration, test
        kept, counts = _filter_test(cal, raw_test, config)
        test_counts.append({"seed": seed, **counts})
        logger.info(
            "seed %d: %d calibration samples, %d test samples (%d incomplete and %d near duplicates dropped)",
            seed, len(cal), counts["kept"], counts["dropped_incomplete"], counts["dropped_near_duplicates"],
        )  # fmt: skip
        result = run_round(cal, kept, config, seed)
        rounds[IN_DISTRIBUTION].append(result)
        benchmarks_of_round[IN_DISTRIBUTION].append(kept.benchmarks)
        for variant, chosen in result.tuning.items():
            tuning_rows.append(
                {
                    "seed": seed,
                    "variant": variant,
                    "k": chosen.k,
                    "top_p": chosen.top_p,
                    "knn_k": chosen.knn_k,
                    "alpha_auto": chosen.alpha,
                    "cv_accuracy_alpha_1": chosen.cv_accuracy,
                    "cv_accuracy_best_single": chosen.best_single_cv_accuracy,
                }
            )
        if config.loo:
            loo_benchmarks = np.concatenate(
                [kept.benchmarks[kept.benchmarks == name] for name in sorted(set(kept.benchmarks.tolist()))]
            )
            rounds[LEAVE_ONE_OUT].append(_leave_one_out_round(cal, kept, config, seed))
            benchmarks_of_round[LEAVE_ONE_OUT].append(loo_benchmarks)

    methods = []
    for section, section_rounds in rounds.items():
        if section_rounds:
            methods.extend(_aggregate(section, section_rounds, benchmarks_of_round[section], test is not None, config))
    sweeps = _mean_sweeps([result.sweeps for result in rounds[IN_DISTRIBUTION]])
    baseline_sweeps = _mean_sweeps([result.baseline_sweeps for result in rounds[IN_DISTRIBUTION]])
    return EvaluationReport(
        config=config,
        methods=methods,
        sweeps=sweeps,
        tuning=tuning_rows,
        test_counts=test_counts,
        fixed_test=test is not None,
        baseline_sweeps=baseline_sweeps,
    )


def _aggregate(
    section: str, rounds: list[RoundResult], benchmarks: list[np.ndarray], fixed_test: bool, config: EvaluationConfig
) -> list[MethodResult]:
    """Average each method over seeds and attach confidence intervals."""
    names = [name for name in rounds[0].outcomes if all(name in result.outcomes for result in rounds)]
    # With one test set for every seed the per-sample outcomes line up, so the
    # bootstrap runs on their mean over seeds. With a new split per seed, each
    # seed is one draw of the Student t interval.
    use_bootstrap = fixed_test or len(rounds) == 1
    best_scores = [result.outcomes["best-single"].scores for result in rounds]
    rows = []
    for name in names:
        outcomes = [result.outcomes[name] for result in rounds]
        summaries = [summarise(o.scores, o.costs, b) for o, b in zip(outcomes, benchmarks)]
        accuracy = [s.accuracy for s in summaries]
        deltas = [s.accuracy - summarise(best, o.costs, b).accuracy for s, best, o, b in zip(summaries, best_scores, outcomes, benchmarks)]
        if use_bootstrap:
            mean_scores = np.mean([o.scores for o in outcomes], axis=0)
            mean_best = np.mean(best_scores, axis=0)
            ci = bootstrap_ci(mean_scores, benchmarks[0], config.n_bootstrap, seed=0)
            delta_ci = bootstrap_ci(mean_scores, benchmarks[0], config.n_bootstrap, seed=0, paired_with=mean_best)
            method = "bootstrap"
        else:
            ci, delta_ci, method = mean_ci(accuracy), mean_ci(deltas), "seeds"
        first = outcomes[0]
        models = {o.model for o in outcomes}
        per_benchmark = {key: float(np.mean([s.per_benchmark[key] for s in summaries])) for key in summaries[0].per_benchmark}
        rows.append(
            MethodResult(
                section=section,
                name=name,
                kind=first.kind,
                alpha=None if first.alpha is None else float(np.mean([o.alpha for o in outcomes])),
                model=first.model if len(models) == 1 else "varies",
                accuracy=float(np.mean(accuracy)),
                accuracy_samples=float(np.mean([s.accuracy_samples for s in summaries])),
                total_cost=float(np.mean([s.total_cost for s in summaries])),
                cost_per_sample=float(np.mean([s.cost_per_sample for s in summaries])),
                ci_low=ci[0],
                ci_high=ci[1],
                ci_method=method,
                delta_vs_best_single=float(np.mean(deltas)),
                delta_ci_low=delta_ci[0],
                delta_ci_high=delta_ci[1],
                fallback_rate=None if first.fallback_rate is None else float(np.mean([o.fallback_rate for o in outcomes])),
                n_test=float(np.mean([s.n_samples for s in summaries])),
                per_benchmark=per_benchmark,
                accuracy_per_seed=accuracy,
                requested_alpha=first.requested_alpha,
                variant=first.variant,
            )
        )
    return rows


def _mean_sweeps(per_seed: list[dict[str, list[SweepPoint]]]) -> dict[str, list[SweepPoint]]:
    if not per_seed or not per_seed[0]:
        return {}
    averaged = {}
    for variant, points in per_seed[0].items():
        merged = []
        for index, point in enumerate(points):
            same = [sweeps[variant][index] for sweeps in per_seed]
            merged.append(
                SweepPoint(
                    alpha=point.alpha,
                    accuracy=float(np.mean([p.accuracy for p in same])),
                    accuracy_samples=float(np.mean([p.accuracy_samples for p in same])),
                    total_cost=float(np.mean([p.total_cost for p in same])),
                    cost_per_sample=float(np.mean([p.cost_per_sample for p in same])),
                    fallback_rate=float(np.mean([p.fallback_rate for p in same])),
                )
            )
        averaged[variant] = merged
    return averaged


__all__ = ["AUTO", "EvaluationReport", "MethodResult", "evaluate"]
