"""Soak test: one large ``harness run`` through a fake server that fails at a set rate.

Generates two benchmarks of local JSONL data, starts the fake OpenAI server
(``tests/fake_openai.py``) in its own process on 127.0.0.1, and runs
``harness run`` as a child process three ways:

1. fault-free, on its own cache: the expected matrix;
2. with faults (429, 5xx, resets, truncated and malformed bodies, empty
   choices) at ``--fault-rate``: failed samples are recorded, never scored;
3. the same command again, up to ``--max-reruns`` times, until no sample
   fails: a rerun pays only for what is missing.

It reports requests, retries and failures per pass and whether the final
matrix equals the expected one, and exits 1 when it does not. Not part of
the test suite; run it from the repository root:

    python benchmarks/soak.py --samples 200 --fault-rate 0.2
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from tests.conftest import write_pool  # noqa: E402
from tests.fake_openai import ExternalServer, answer_entries, write_benchmark_data  # noqa: E402

logger = logging.getLogger("soak")

MODELS = ["science", "maths", "generalist"]
MATRIX_KEY = ["benchmark", "sample_id", "model"]


def run_harness(workdir: Path, pool: Path, cache: Path, results: Path, env: dict[str, str], log_name: str) -> dict:
    """Run ``harness run`` in a child process; return its exit code, error line, wall time and summary.json."""
    command = [
        sys.executable, "-m", "harness.cli", "run", "--pool", str(pool), "--tasks", "arc_challenge", "gsm8k",
        "--all-samples", "--data-dir", str(workdir / "data"), "--cache-dir", str(cache),
        "--results-dir", str(results), "--run-name", "soak", "--k", "4", "--display", "none",
    ]
    run_dir = results / "soak"
    shutil.rmtree(run_dir, ignore_errors=True)
    started = time.perf_counter()
    with (workdir / log_name).open("w") as log:
        code = subprocess.run(command, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT).returncode
    output = (workdir / log_name).read_text()
    errors = [line for line in output.splitlines() if line.startswith("error:")]
    # Counted from the gateway's log lines, so they exist when the run stops early too.
    outcome = {"exit_code": code, "error": errors[-1] if errors else None,
               "wall_seconds": round(time.perf_counter() - started, 1),
               "logged_retries": output.count(" retrying model "),
               "logged_failed_calls": output.count(" failed after ")}
    if code == 0:
        outcome["summary"] = json.loads((run_dir / "summary.json").read_text())
        outcome["failed_samples"] = len(pd.read_csv(run_dir / "failures.csv"))
    elif code != 2:
        raise RuntimeError(f"harness run exited with {code}; end of {workdir / log_name}:\n{output[-3000:]}")
    return outcome


def read_matrix(results: Path) -> pd.DataFrame:
    matrix = pd.read_csv(results / "soak" / "matrix.csv", dtype={"sample_id": str})
    return matrix.sort_values(MATRIX_KEY).reset_index(drop=True)


def compare(matrix: pd.DataFrame, expected: pd.DataFrame) -> dict:
    """Return how ``matrix`` differs from ``expected``: rows missing, extra, or with other values."""
    merged = expected.merge(matrix, on=MATRIX_KEY, how="outer", suffixes=("_expected", "_got"), indicator=True)
    both = merged[merged["_merge"] == "both"]
    changed = 0
    for column in ("score", "cost", "response", "split"):
        if f"{column}_expected" in both:
            left, right = both[f"{column}_expected"], both[f"{column}_got"]
            changed += int((~((left == right) | (left.isna() & right.isna()))).sum())
    return {
        "missing_rows": int((merged["_merge"] == "left_only").sum()),
        "extra_rows": int((merged["_merge"] == "right_only").sum()),
        "changed_values": changed,
    }


def soak(samples: int, fault_rate: float, seed: int, max_attempts: int, max_reruns: int, workdir: Path) -> dict:
    """Run the three passes and return the figures; see the module docstring."""
    questions = write_benchmark_data(workdir / "data", samples)
    entries = answer_entries(questions, MODELS)
    env = {
        **os.environ,
        "HARNESS_MAX_ATTEMPTS": str(max_attempts),
        "HARNESS_BACKOFF_INITIAL": "0.01",
        "HARNESS_BACKOFF_MAX": "0.05",
    }
    report: dict = {"samples_per_benchmark": samples, "models": len(MODELS), "fault_rate": fault_rate,
                    "max_attempts": max_attempts, "seed": seed, "passes": []}

    with ExternalServer(workdir / "clean-server", {"answers": entries}) as clean:
        pool = write_pool(workdir / "clean-pool.yaml", clean.api_base, MODELS)
        logger.info("pass 1: fault-free run of %d calls", 2 * samples * len(MODELS))
        outcome = run_harness(workdir, pool, workdir / "clean-cache", workdir / "clean", env, "clean.log")
        if outcome["exit_code"] != 0:
            raise RuntimeError(f"the fault-free run failed: {outcome['error']}")
        report["expected_run"] = {"requests": len(clean.requests()), "wall_seconds": outcome["wall_seconds"]}
    expected = read_matrix(workdir / "clean")

    config = {"answers": entries, "fault_rate": fault_rate, "seed": seed}
    with ExternalServer(workdir / "faulty-server", config) as faulty:
        pool = write_pool(workdir / "faulty-pool.yaml", faulty.api_base, MODELS)
        for attempt in range(1 + max_reruns):
            before = len(faulty.requests())
            logger.info("pass %d: run with faults at rate %.2f", attempt + 2, fault_rate)
            outcome = run_harness(workdir, pool, workdir / "faulty-cache", workdir / "faulty", env, f"faulty-{attempt}.log")
            figures = {"requests": len(faulty.requests()) - before, "exit_code": outcome["exit_code"],
                       "wall_seconds": outcome["wall_seconds"], "logged_retries": outcome["logged_retries"],
                       "logged_failed_calls": outcome["logged_failed_calls"]}
            if outcome["exit_code"] != 0:
                # The run stopped with an error after its evals; a rerun resumes from the cache.
                report["passes"].append({**figures, "error": outcome["error"]})
                continue
            summary = outcome["summary"]
            difference = compare(read_matrix(workdir / "faulty"), expected)
            report["passes"].append({
                **figures,
                "new_answers": summary["calls"],
                "cache_hits": summary["cache_hits"],
                "retries": summary["retries"],
                "failed_samples": outcome["failed_samples"],
                **difference,
            })
            # A failed sample is no row, never a wrong one.
            if difference["extra_rows"] or difference["changed_values"] or outcome["failed_samples"] == 0:
                break

    final = report["passes"][-1]
    report["matrix_equals_expected"] = final["exit_code"] == 0 and (
        final["missing_rows"] == 0 and final["extra_rows"] == 0 and final["changed_values"] == 0
    )
    report["machine"] = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=200, help="samples per benchmark (default: 200)")
    parser.add_argument("--fault-rate", type=float, default=0.2, help="share of requests that fail, 0 to 1 (default: 0.2)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the fault draw (default: 0)")
    parser.add_argument("--max-attempts", type=int, default=6, help="gateway attempts per call (default: 6, the gateway default)")
    parser.add_argument("--max-reruns", type=int, default=3, help="reruns after the faulty pass (default: 3)")
    parser.add_argument("--workdir", default=None, help="folder for data, caches and results (default: a temporary folder)")
    parser.add_argument("--out", default=None, help="also write the report as JSON to this file")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    if args.samples < 1 or not 0.0 <= args.fault_rate < 1.0:
        parser.error("--samples must be >= 1 and --fault-rate in [0, 1)")

    with tempfile.TemporaryDirectory(prefix="harness-soak-") as temporary:
        workdir = Path(args.workdir or temporary)
        workdir.mkdir(parents=True, exist_ok=True)
        report = soak(args.samples, args.fault_rate, args.seed, args.max_attempts, args.max_reruns, workdir)

    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")
    return 0 if report["matrix_equals_expected"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
