"""Reports of a run: summary table, router choices, Pareto plot, printed to the terminal and written to disk."""

from __future__ import annotations

import json
import logging
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from harness.pool import Pool

if TYPE_CHECKING:
    from harness.runner import RunOutcome

logger = logging.getLogger(__name__)


def summary_table(test_matrix: pd.DataFrame, router_rows: pd.DataFrame, pool: Pool) -> pd.DataFrame:
    """Return one row per pool model and one for the router, scored on the same test samples.

    Accuracy per benchmark is the mean score over that benchmark's test
    samples; ``mean_accuracy`` is the mean over benchmarks (each benchmark
    weighs the same). ``cost_usd`` is the total recorded cost of the test
    calls; ``calls`` counts answered samples.
    """
    frames = [test_matrix.assign(method=test_matrix["model"]), router_rows.assign(method="router")]
    rows = pd.concat(frames, ignore_index=True)
    benchmarks = sorted(rows["benchmark"].unique())
    table = []
    for method in [*pool.ids, "router"]:
        part = rows[rows["method"] == method]
        record: dict[str, object] = {"method": method}
        for benchmark in benchmarks:
            scores = part.loc[part["benchmark"] == benchmark, "score"]
            record[benchmark] = float(scores.mean()) if len(scores) else np.nan
        per_benchmark = [record[b] for b in benchmarks]
        record["mean_accuracy"] = float(np.nanmean(per_benchmark)) if part.size else np.nan
        record["cost_usd"] = float(part["cost"].sum(min_count=1)) if part.size else np.nan
        record["calls"] = int(len(part))
        table.append(record)
    return pd.DataFrame(table)


def choice_counts(router_rows: pd.DataFrame) -> pd.DataFrame:
    """Return how many test samples of each benchmark the router sent to each model."""
    if router_rows.empty:
        return pd.DataFrame(columns=["benchmark"])
    counts = router_rows.groupby(["benchmark", "served_by"]).size().unstack(fill_value=0)
    return counts.reset_index()


def format_table(table: pd.DataFrame) -> str:
    """Render the summary table as fixed-width text: accuracies in %, cost in US dollars."""
    shown = table.copy()
    for column in shown.columns:
        if column in ("method", "calls"):
            continue
        if column == "cost_usd":
            shown[column] = shown[column].map(lambda v: "n/a" if pd.isna(v) else f"${v:.6f}")
        else:
            shown[column] = shown[column].map(lambda v: "n/a" if pd.isna(v) else f"{100 * v:.1f}")
    return shown.to_string(index=False)


def write_reports(outcome: "RunOutcome", pool: Pool) -> None:
    """Write the run's tables and plot into its folder, then print the summary."""
    from harness.plots import plot_pareto

    out = outcome.out_dir
    test_matrix = outcome.matrix[outcome.matrix["split"] == "test"]
    table = summary_table(test_matrix, outcome.router_rows, pool)
    choices = choice_counts(outcome.router_rows)
    routed = outcome.extra["routed_test"]

    table.to_csv(out / "summary.csv", index=False)
    choices.to_csv(out / "router_choices.csv", index=False)
    outcome.matrix.drop(columns=["served_by", "cached"], errors="ignore").to_csv(out / "matrix.csv", index=False)
    outcome.failures.to_csv(out / "failures.csv", index=False)
    pd.DataFrame([asdict(point) for point in routed["sweep"]]).to_csv(out / "alpha_sweep.csv", index=False)
    plot_pareto(
        routed["sweep"],
        routed["singles"],
        out / "pareto.png",
        title=f"{pool.name}: router over alpha vs single models (test split)",
    )
    summary = {
        "run": out.name,
        "pool": pool.name,
        "rows": json.loads(table.to_json(orient="records")),
        "router_choices": json.loads(choices.to_json(orient="records")),
        "calls": outcome.calls,
        "cache_hits": outcome.cache_hits,
        "retries": outcome.retries,
        "new_cost_usd": outcome.new_cost,
        "recorded_cost_usd": outcome.recorded_cost,
        "failed_samples": int(len(outcome.failures)),
        "calibration_samples": len(outcome.calibration_keys),
        "test_samples": len(outcome.test_keys),
        "router": outcome.extra["router"],
        "seconds": round(outcome.seconds, 1),
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=str))

    print()
    print(f"Test split: {len(outcome.test_keys)} samples; router fitted on {len(outcome.calibration_keys)} calibration samples.")
    print("Accuracy in % per benchmark and mean over benchmarks; cost in US dollars over the test samples.")
    print(format_table(table))
    print()
    print("Router choices (test samples per model):")
    print(choices.to_string(index=False) if not choices.empty else "  none")
    print()
    if outcome.calls == 0:
        print(f"Zero model calls: all {outcome.cache_hits} answers came from the cache (new spend $0).")
    else:
        print(f"Model calls: {outcome.calls} new (spend ${outcome.new_cost:.6f}), {outcome.cache_hits} from the cache.")
    if len(outcome.failures):
        print(f"Failed samples: {len(outcome.failures)} (see failures.csv); they count as no result, not as wrong.")
    print(f"Results: {out}/ (summary.csv, summary.json, router_choices.csv, pareto.png, matrix.csv, logs/)")
    print(f"Browse the logs with: inspect view --log-dir {out / 'logs'}")
