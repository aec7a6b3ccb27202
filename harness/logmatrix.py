"""Build the results matrix (samples x models) from inspect-ai eval logs."""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any

import pandas as pd
from inspect_ai.log import EvalLog, EvalSample, read_eval_log
from inspect_ai.scorer import value_to_float

logger = logging.getLogger(__name__)

_to_float = value_to_float()


def sample_prompt(sample: EvalSample) -> str:
    """Return the text of the last user message sent before the first answer: what the router embeds."""
    prompt = sample.input if isinstance(sample.input, str) else ""
    for message in sample.messages:
        if message.role == "assistant":
            break
        if message.role == "user":
            prompt = message.text
    return prompt


def sample_score(sample: EvalSample) -> float | None:
    """Return the sample's first score as a float in [0, 1], or None when it was not scored."""
    if not sample.scores:
        return None
    score = next(iter(sample.scores.values()))
    value = _to_float(score.value)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return float(min(1.0, max(0.0, value)))


def sample_cost(sample: EvalSample) -> float | None:
    """Return the cost in US dollars the gateway recorded for the sample's model call(s)."""
    metadata = sample.output.metadata if sample.output and sample.output.metadata else {}
    cost = metadata.get("cost_usd")
    if cost is not None:
        return float(cost)
    total = [u.total_cost for u in (sample.model_usage or {}).values() if u.total_cost is not None]
    return float(sum(total)) if total else None


def log_rows(log: EvalLog, model_id: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Return the matrix rows and the failure rows of one eval log."""
    benchmark = log.eval.task.split("/")[-1]
    rows: list[dict[str, Any]] = []
    failures: list[dict[str, Any]] = []
    for sample in log.samples or []:
        metadata = sample.output.metadata if sample.output and sample.output.metadata else {}
        base = {"sample_id": str(sample.id), "benchmark": benchmark, "model": model_id}
        score = sample_score(sample)
        if sample.error is not None or score is None:
            # A failed call is not a wrong answer: it gets no matrix row, so
            # the sample counts as "no result" for this model.
            message = sample.error.message if sample.error is not None else "no score"
            failures.append({**base, "error": message})
            continue
        rows.append(
            {
                **base,
                "prompt": sample_prompt(sample),
                "score": score,
                "cost": sample_cost(sample),
                "response": sample.output.completion if sample.output else "",
                "served_by": metadata.get("served_by", model_id),
                "cached": bool(metadata.get("cached", False)),
            }
        )
    return rows, failures


def matrix_from_logs(log_paths: list[Path], model_of_log: dict[str, str] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read eval logs and return (matrix rows, failures) as data frames.

    ``model_of_log`` maps a log path to the model id to record; by default the
    id is the log's model name without its provider prefix.
    """
    rows: list[dict[str, Any]] = []
    failures: list[dict[str, Any]] = []
    for path in log_paths:
        log = read_eval_log(str(path))
        model_id = (model_of_log or {}).get(str(path)) or log.eval.model.split("/", 1)[-1]
        new_rows, new_failures = log_rows(log, model_id)
        rows.extend(new_rows)
        failures.extend(new_failures)
    matrix = pd.DataFrame(rows, columns=["sample_id", "benchmark", "prompt", "model", "score", "cost", "response", "served_by", "cached"])
    failed = pd.DataFrame(failures, columns=["sample_id", "benchmark", "model", "error"])
    return matrix, failed
