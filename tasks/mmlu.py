"""MMLU test set (14,042 questions in 57 subjects), zero-shot multiple choice.

Run with ``inspect eval tasks/mmlu.py --model PROVIDER/MODEL``; pass
``-T data_dir=FOLDER`` to read ``FOLDER/mmlu.jsonl`` instead of the default sources.
"""

from inspect_ai import Task, task

from harness.benchmarks import load_task


@task
def mmlu(data_dir: str | None = None) -> Task:
    """Return the mmlu task; ``data_dir`` (or ``HARNESS_DATA_DIR``) contains an optional ``mmlu.jsonl``."""
    return load_task("mmlu", data_dir)
