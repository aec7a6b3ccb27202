"""Task builder shared by the free-form answer benchmarks (logic, finance, emotion)."""

from __future__ import annotations

from inspect_ai import Task
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.model import GenerateConfig
from inspect_ai.scorer import Scorer
from inspect_ai.solver import generate

from harness.benchmarks.spec import BenchmarkSpec


def generation_task(
    spec: BenchmarkSpec,
    samples: list[Sample],
    scorer: Scorer,
    max_tokens: int,
    stop_seqs: list[str] | None = None,
) -> Task:
    """Build a zero-shot generate-then-grade Task with greedy decoding and a ``max_tokens`` budget."""
    return Task(
        dataset=MemoryDataset(samples, name=spec.name),
        solver=generate(),
        scorer=scorer,
        config=GenerateConfig(max_tokens=max_tokens, temperature=0.0, stop_seqs=stop_seqs),
        name=spec.name,
        metadata={"benchmark": spec.name, "group": spec.group, "split": spec.split},
    )
