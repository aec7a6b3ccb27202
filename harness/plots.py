"""Accuracy-versus-cost plots (matplotlib, Agg backend, PNG output)."""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from harness.evaluation.metrics import pareto_frontier  # noqa: E402
from harness.evaluation.sweeps import SweepPoint  # noqa: E402


def plot_pareto(
    router_points: Mapping[str, Sequence[SweepPoint]] | Sequence[SweepPoint],
    single_points: Mapping[str, tuple[float, float]],
    path: str | Path,
    title: str,
    reference_points: Mapping[str, tuple[float, float]] | None = None,
    reference_curves: Mapping[str, Sequence[SweepPoint]] | None = None,
) -> Path:
    """Write a PNG of accuracy against total cost.

    Parameters
    ----------
    router_points : mapping or sequence of SweepPoint
        The router's alpha sweep, one sequence per variant (a bare sequence
        is drawn as ``router``). Every point is drawn, and the Pareto frontier
        of each variant is joined by a line.
    single_points : mapping
        Model name -> (total cost in US dollars, accuracy); drawn as labelled points.
    path : str or pathlib.Path
        Output PNG file; its folder is created.
    title : str
        Figure title.
    reference_points : mapping, optional
        Further labelled points such as the oracle, as (cost, accuracy).
    reference_curves : mapping, optional
        Baselines swept over alpha (such as the dataset oracle), drawn as
        dashed frontiers.

    Returns
    -------
    pathlib.Path
        The written file.
    """
    if not isinstance(router_points, Mapping):
        router_points = {"router": list(router_points)}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)

    figure, axes = plt.subplots(figsize=(9, 6), dpi=120)
    all_costs = []
    for index, (variant, points) in enumerate(router_points.items()):
        points = [p for p in points if p.total_cost == p.total_cost and p.total_cost > 0]
        if not points:
            continue
        color = f"C{index % 10}"
        costs = [p.total_cost for p in points]
        accuracies = [p.accuracy for p in points]
        all_costs.extend(costs)
        axes.scatter(costs, accuracies, s=10, color=color, alpha=0.35)
        frontier = pareto_frontier(costs, accuracies)
        axes.plot(
            [costs[i] for i in frontier],
            [accuracies[i] for i in frontier],
            "-o",
            markersize=3,
            color=color,
            label=f"{variant} (frontier over alpha)",
        )
        for i in frontier:
            if points[i].alpha in (0.0, 0.5, 0.9, 1.0):
                axes.annotate(f"a={points[i].alpha:g}", (costs[i], accuracies[i]), fontsize=6, color=color,
                              xytext=(3, -8), textcoords="offset points")  # fmt: skip

    for name, points in (reference_curves or {}).items():
        points = [p for p in points if p.total_cost == p.total_cost and p.total_cost > 0]
        if not points:
            continue
        costs = [p.total_cost for p in points]
        accuracies = [p.accuracy for p in points]
        all_costs.extend(costs)
        frontier = pareto_frontier(costs, accuracies)
        axes.plot([costs[i] for i in frontier], [accuracies[i] for i in frontier], "--", color="dimgray",
                  linewidth=1.2, label=f"{name} (frontier over alpha)")  # fmt: skip

    for name, (cost, accuracy) in single_points.items():
        if not cost == cost or cost <= 0:
            continue
        all_costs.append(cost)
        axes.scatter([cost], [accuracy], marker="s", s=28, color="black", zorder=3)
        axes.annotate(name, (cost, accuracy), fontsize=7, xytext=(4, 3), textcoords="offset points")
    for name, (cost, accuracy) in (reference_points or {}).items():
        if not cost == cost or cost <= 0:
            continue
        all_costs.append(cost)
        axes.scatter([cost], [accuracy], marker="*", s=80, color="crimson", zorder=3)
        # Below the point, so a label does not cover a single model at the same place.
        axes.annotate(name, (cost, accuracy), fontsize=7, color="crimson", xytext=(4, -11), textcoords="offset points")

    if all_costs and min(all_costs) > 0 and max(all_costs) / min(all_costs) > 20:
        axes.set_xscale("log")
    axes.set_xlabel("total cost on the test set (US dollars)")
    axes.set_ylabel("accuracy (mean over benchmarks)")
    axes.set_title(title)
    axes.grid(True, alpha=0.3)
    axes.legend(fontsize=7, loc="best")
    figure.tight_layout()
    figure.savefig(path, format="png")
    plt.close(figure)
    return path
