"""Tables, JSON and files of an :class:`EvaluationReport`."""

from __future__ import annotations

import json
import math
from dataclasses import asdict
from pathlib import Path

import pandas as pd

from harness.evaluation.aggregate import IN_DISTRIBUTION, EvaluationReport, MethodResult
from harness.router import variant_knn_weight

_KIND_ORDER = {"baseline": 0, "router": 1, "single": 2}
_BASELINE_ORDER = {"oracle": 0, "dataset-oracle": 1, "best-single": 2, "cheapest": 3, "random": 4}


def _sort_key(row: MethodResult) -> tuple:
    return (
        row.section != IN_DISTRIBUTION,
        _KIND_ORDER.get(row.kind, 9),
        _BASELINE_ORDER.get(row.name, 9),
        row.variant or "",
        -(row.alpha if row.alpha is not None else 0.0),
        -row.accuracy,
    )


def methods_frame(report: EvaluationReport) -> pd.DataFrame:
    """Return one row per method and section, baselines first, then routers, then single models."""
    records = []
    for row in sorted(report.methods, key=_sort_key):
        record = {key: value for key, value in asdict(row).items() if key not in ("per_benchmark", "accuracy_per_seed")}
        for benchmark, value in row.per_benchmark.items():
            record[f"accuracy[{benchmark}]"] = value
        records.append(record)
    return pd.DataFrame.from_records(records)


def sweep_frame(report: EvaluationReport) -> pd.DataFrame:
    """Return the alpha sweep, one row per (variant, alpha), averaged over seeds."""
    curves = {**report.sweeps, **report.baseline_sweeps}
    records = [{"variant": variant, **asdict(point)} for variant, points in curves.items() for point in points]
    return pd.DataFrame.from_records(records)


def _number(value: float | None, digits: int) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:.{digits}f}"


def _mean_count(values: list[int]) -> str:
    """Return the mean of per-seed counts: a whole number when every seed agrees, else one decimal."""
    mean = sum(values) / len(values)
    return f"{mean:.0f}" if float(mean).is_integer() else f"{mean:.1f}"


def format_table(report: EvaluationReport) -> str:
    """Return the report as aligned plain-text tables, one per section."""
    lines = []
    counts = report.test_counts
    kept = _mean_count([c["kept"] for c in counts])
    incomplete = _mean_count([c["dropped_incomplete"] for c in counts])
    duplicates = _mean_count([c["dropped_near_duplicates"] for c in counts])
    lines.append(
        f"test samples per seed: {kept} kept; dropped {incomplete} "
        f"without a result from every model and {duplicates} "
        f"near duplicates (cosine >= {report.config.dedup_threshold}) of calibration samples; "
        f"{report.config.seeds} seed(s); 95% CI by "
        f"{'bootstrap over test samples' if report.fixed_test or report.config.seeds == 1 else 'Student t over seeds'}"
    )
    frame = methods_frame(report)
    header = f"{'method':<46} {'alpha':>5} {'acc(bench)':>10} {'95% CI':>15} {'acc(sample)':>11} {'cost $':>8} {'$/sample':>9} {'vs best':>8} {'fallback':>8}"
    for section in frame["section"].unique():
        lines.append("")
        lines.append(f"[{section}]")
        lines.append(header)
        for row in frame[frame["section"] == section].itertuples(index=False):
            name = row.name
            if isinstance(row.model, str) and row.kind == "baseline":
                name = f"{name} ({row.model})"
            alpha = _number(row.alpha, 2) if row.alpha is not None and not pd.isna(row.alpha) else ""
            ci = f"[{_number(row.ci_low, 3)}, {_number(row.ci_high, 3)}]"
            fallback = "" if row.fallback_rate is None or pd.isna(row.fallback_rate) else f"{row.fallback_rate:.1%}"
            lines.append(
                f"{name[:46]:<46} {alpha:>5} {row.accuracy:>10.4f} {ci:>15} {row.accuracy_samples:>11.4f} "
                f"{_number(row.total_cost, 3):>8} {_number(row.cost_per_sample, 5):>9} "
                f"{row.delta_vs_best_single:>+8.4f} {fallback:>8}"
            )
    lines.append("")
    lines.append(
        "acc(bench): mean accuracy over benchmarks; acc(sample): mean over samples; vs best: acc(bench) minus the "
        "best single model's; fallback: share of test samples routed by the pool-wide ranking because a "
        "nearest cluster had fewer than --min-cluster-size calibration samples"
    )
    if report.tuning:
        lines.append("")
        lines.append("hyperparameters chosen by cross-validation inside calibration (per seed):")
        for entry in report.tuning:
            clusters = (
                "k=-   top_p=- "
                if variant_knn_weight(entry["variant"]) >= 1.0
                else f"k={entry['k']:<3} top_p={entry['top_p']} "
            )
            lines.append(
                f"  seed {entry['seed']} {entry['variant']:<13} "
                + clusters
                + (f"knn_k={entry['knn_k']} " if entry.get("knn_k") is not None else "")
                + f"auto alpha={entry['alpha_auto']:.2f} (CV accuracy at alpha=1 {entry['cv_accuracy_alpha_1']:.4f}, "
                f"best single {entry['cv_accuracy_best_single']:.4f})"
            )
    return "\n".join(lines)


def _clean(value):
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {key: _clean(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_clean(item) for item in value]
    return value


def report_to_json(report: EvaluationReport) -> dict:
    """Return the report as one JSON-ready object; NaN becomes null."""
    rows = []
    for row in sorted(report.methods, key=_sort_key):
        rows.append(
            {
                "section": row.section,
                "name": row.name,
                "kind": row.kind,
                "variant": row.variant,
                "alpha": row.alpha,
                "requested_alpha": row.requested_alpha,
                "model": row.model,
                "accuracy_mean_over_benchmarks": row.accuracy,
                "accuracy_mean_over_samples": row.accuracy_samples,
                "total_cost_usd": row.total_cost,
                "cost_per_sample_usd": row.cost_per_sample,
                "ci95": [row.ci_low, row.ci_high],
                "ci_method": row.ci_method,
                "delta_vs_best_single": row.delta_vs_best_single,
                "delta_ci95": [row.delta_ci_low, row.delta_ci_high],
                "fallback_rate": row.fallback_rate,
                "n_test": int(row.n_test) if float(row.n_test).is_integer() else row.n_test,
                "accuracy_per_benchmark": row.per_benchmark,
                "accuracy_per_seed": row.accuracy_per_seed,
            }
        )
    config = asdict(report.config)
    return _clean(
        {
            "config": config,
            "fixed_test": report.fixed_test,
            "test_counts": report.test_counts,
            "tuning": report.tuning,
            "methods": rows,
            "sweeps": {variant: [asdict(point) for point in points] for variant, points in report.sweeps.items()},
            "baseline_sweeps": {name: [asdict(point) for point in points] for name, points in report.baseline_sweeps.items()},
        }
    )


def write_outputs(report: EvaluationReport, out_dir: str | Path, title: str = "Router vs single models") -> list[Path]:
    """Write methods.csv, sweep.csv, tuning.csv, test_counts.csv, report.json and pareto.png; return the paths."""
    from harness.plots import plot_pareto

    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    methods = methods_frame(report)
    methods.to_csv(folder / "methods.csv", index=False)
    written.append(folder / "methods.csv")
    if report.sweeps:
        sweep_frame(report).to_csv(folder / "sweep.csv", index=False)
        written.append(folder / "sweep.csv")
    if report.tuning:
        tuning = pd.DataFrame.from_records(report.tuning)
        if "knn_k" in tuning:
            tuning["knn_k"] = tuning["knn_k"].astype("Int64")  # empty for variants without kNN, not 20.0
        tuning.to_csv(folder / "tuning.csv", index=False)
        written.append(folder / "tuning.csv")
    pd.DataFrame.from_records(report.test_counts).to_csv(folder / "test_counts.csv", index=False)
    written.append(folder / "test_counts.csv")
    (folder / "report.json").write_text(json.dumps(report_to_json(report), indent=2) + "\n", encoding="utf-8")
    written.append(folder / "report.json")

    in_distribution = methods[methods["section"] == IN_DISTRIBUTION]
    singles = {
        row.model: (row.total_cost, row.accuracy) for row in in_distribution.itertuples(index=False) if row.kind == "single"
    }
    references = {
        row.name: (row.total_cost, row.accuracy)
        for row in in_distribution.itertuples(index=False)
        if row.name in ("oracle", "dataset-oracle")
    }
    if report.sweeps:
        written.append(
            plot_pareto(
                report.sweeps,
                singles,
                folder / "pareto.png",
                title,
                reference_points=references,
                reference_curves=report.baseline_sweeps,
            )
        )
    return written
