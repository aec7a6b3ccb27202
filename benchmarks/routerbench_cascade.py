"""Check whether an agreement cascade of cheap models beats routing on the RouterBench subset.

Run from the repository root:

    python benchmarks/routerbench_cascade.py [--data DIR] [--json]

A cascade asks a set of cheap "voter" models first. When at least ``quorum``
of them give the same choice letter, it returns that answer; otherwise it
pays for the best single model as well and returns its answer. Its cost is
every voter's recorded cost plus the escalations. This is the cross-model
form of the self-consistency vote that the router offers for one model,
computed by replay from the recorded answers (no model calls).

Only ARC-Challenge and WinoGrande have answers that can be compared without
running them (one letter). MBPP answers are programs, so MBPP queries go to
the best single model in every cascade.

Everything is chosen on the train files: the best single model, and for each
cost budget (a share of the best single model's train cost per benchmark)
the voter set and quorum with the highest train accuracy. The test files
only score the chosen configurations.
"""

from __future__ import annotations

import argparse
import ast
import itertools
import json
import re
import sys
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO_ROOT.parent / "shared" / "data" / "routerbench"
BENCHMARKS = ("arc_challenge", "mbpp", "winograde")
LETTER_BENCHMARKS = ("arc_challenge", "winograde")
BUDGETS = (0.3, 0.4, 0.5, 0.6, 0.8)
MAX_VOTERS = 4
LEADING_LETTER = re.compile(r"^\(?([A-E])(?:[\).:\s]|$)")


def choice_letter(response: object) -> str | None:
    """Return the choice letter that a recorded response starts with, or None (no vote)."""
    if not isinstance(response, str):
        return None
    text = response
    try:
        value = ast.literal_eval(response)
    except (ValueError, SyntaxError):
        value = None
    if isinstance(value, list) and value:
        text = str(value[0])
    match = LEADING_LETTER.match(text.strip())
    return match.group(1) if match else None


def load(data_dir: Path, split: str) -> dict[str, pd.DataFrame]:
    """Read one split's three files, keeping the rows where every model has a result."""
    frames = {}
    for name in BENCHMARKS:
        path = data_dir / f"{name}_{split}.csv"
        if not path.is_file():
            raise SystemExit(f"RouterBench file not found: {path}; pass --data DIR")
        frames[name] = pd.read_csv(path)
    models = [column[: -len("|total_cost")] for column in frames[BENCHMARKS[0]].columns if column.endswith("|total_cost")]
    for name, frame in frames.items():
        frame = frame.dropna(subset=models).reset_index(drop=True)
        for model in models:
            frame[f"{model}|letter"] = frame[f"{model}|model_response"].map(choice_letter)
        frames[name] = frame
    return frames


def model_names(frames: dict[str, pd.DataFrame]) -> list[str]:
    frame = frames[BENCHMARKS[0]]
    return [column[: -len("|total_cost")] for column in frame.columns if column.endswith("|total_cost")]


def cascade(frame: pd.DataFrame, voters: tuple[str, ...], quorum: int, fallback: str) -> tuple[float, float, float]:
    """Return (accuracy, cost, share settled by the voters) of one cascade on one benchmark."""
    letters = frame[[f"{voter}|letter" for voter in voters]].to_numpy(dtype=object)
    scores = frame[list(voters)].to_numpy(dtype=float)
    voter_cost = frame[[f"{voter}|total_cost" for voter in voters]].to_numpy(dtype=float).sum(axis=1)
    result = frame[fallback].to_numpy(dtype=float).copy()
    cost = voter_cost + frame[f"{fallback}|total_cost"].to_numpy(dtype=float)
    settled = np.zeros(len(frame), dtype=bool)
    for row, votes in enumerate(letters):
        counts = Counter(vote for vote in votes if vote is not None)
        if not counts:
            continue
        letter, count = counts.most_common(1)[0]
        if count >= quorum and list(counts.values()).count(count) == 1:
            first = list(votes).index(letter)
            result[row] = scores[row, first]
            cost[row] = voter_cost[row]
            settled[row] = True
    return float(result.mean()), float(cost.sum()), float(settled.mean())


@dataclass
class Choice:
    benchmark: str
    budget: float
    voters: list[str]
    quorum: int
    train_accuracy: float
    train_cost_share: float
    test_accuracy: float
    test_cost_share: float
    test_settled_by_voters: float
    best_single_test_accuracy: float


def best_single(train: dict[str, pd.DataFrame], models: list[str]) -> str:
    """Return the model with the highest mean train accuracy over the benchmarks (the cheaper one on ties)."""
    def key(model):
        accuracy = np.mean([train[name][model].mean() for name in BENCHMARKS])
        cost = sum(train[name][f"{model}|total_cost"].sum() for name in BENCHMARKS)
        return (-accuracy, cost)
    return min(models, key=key)


def choose(train: pd.DataFrame, test: pd.DataFrame, benchmark: str, models: list[str], best: str) -> list[Choice]:
    """For each budget, pick the voter set and quorum with the best train accuracy; score it on test."""
    best_train_cost = train[f"{best}|total_cost"].sum()
    best_test_cost = test[f"{best}|total_cost"].sum()
    cheap = [model for model in models if model != best and train[f"{model}|total_cost"].sum() < 0.5 * best_train_cost]
    candidates = []
    for size in range(2, MAX_VOTERS + 1):
        for voters in itertools.combinations(cheap, size):
            for quorum in range(size // 2 + 1, size + 1):
                accuracy, cost, _ = cascade(train, voters, quorum, best)
                candidates.append((accuracy, cost / best_train_cost, voters, quorum))
    choices = []
    for budget in BUDGETS:
        within = [entry for entry in candidates if entry[1] <= budget]
        if not within:
            continue
        accuracy, share, voters, quorum = max(within, key=lambda entry: (entry[0], -entry[1]))
        test_accuracy, test_cost, settled = cascade(test, voters, quorum, best)
        choices.append(
            Choice(
                benchmark=benchmark,
                budget=budget,
                voters=list(voters),
                quorum=quorum,
                train_accuracy=round(accuracy, 4),
                train_cost_share=round(share, 3),
                test_accuracy=round(test_accuracy, 4),
                test_cost_share=round(test_cost / best_test_cost, 3),
                test_settled_by_voters=round(settled, 3),
                best_single_test_accuracy=round(float(test[best].mean()), 4),
            )
        )
    return choices


def overall(test: dict[str, pd.DataFrame], choices: list[Choice], best: str) -> list[dict[str, object]]:
    """Combine the per-benchmark cascades at each budget with MBPP sent to the best single model."""
    rows = []
    best_cost = sum(test[name][f"{best}|total_cost"].sum() for name in BENCHMARKS)
    best_accuracy = np.mean([test[name][best].mean() for name in BENCHMARKS])
    for budget in BUDGETS:
        picked = {choice.benchmark: choice for choice in choices if choice.budget == budget}
        if set(picked) != set(LETTER_BENCHMARKS):
            continue
        accuracies, cost = [], 0.0
        for name in BENCHMARKS:
            if name in picked:
                accuracy, spent, _ = cascade(test[name], tuple(picked[name].voters), picked[name].quorum, best)
            else:
                accuracy, spent = float(test[name][best].mean()), float(test[name][f"{best}|total_cost"].sum())
            accuracies.append(accuracy)
            cost += spent
        rows.append(
            {
                "budget": budget,
                "accuracy": round(float(np.mean(accuracies)), 4),
                "best_single_accuracy": round(float(best_accuracy), 4),
                "cost_share": round(cost / best_cost, 3),
            }
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder with the six RouterBench CSV files")
    parser.add_argument("--json", action="store_true", help="print the results as one JSON object")
    args = parser.parse_args(argv)
    train, test = load(args.data, "train"), load(args.data, "test")
    models = model_names(train)
    best = best_single(train, models)
    choices = [choice for name in LETTER_BENCHMARKS for choice in choose(train[name], test[name], name, models, best)]
    totals = overall(test, choices, best)
    if args.json:
        print(json.dumps({"best_single": best, "per_benchmark": [asdict(c) for c in choices], "overall": totals}, indent=2))
        return 0
    print(f"best single model on train: {best}")
    print("benchmark      budget  voters (quorum)                                   train acc  test acc  best single  test cost share  settled by voters")
    for c in choices:
        voters = ", ".join(v.split("/")[-1] for v in c.voters) + f" ({c.quorum})"
        print(
            f"{c.benchmark:<14} {c.budget:>5.0%}   {voters:<50} {c.train_accuracy:>8.4f}  {c.test_accuracy:>8.4f}  "
            f"{c.best_single_test_accuracy:>10.4f}  {c.test_cost_share:>14.1%}  {c.test_settled_by_voters:>17.1%}"
        )
    print("\nall three benchmarks (MBPP to the best single model), mean accuracy over benchmarks:")
    for row in totals:
        print(
            f"  budget {row['budget']:.0%}: accuracy {row['accuracy']:.4f} vs {row['best_single_accuracy']:.4f} "
            f"at {row['cost_share']:.1%} of the best single model's cost"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
