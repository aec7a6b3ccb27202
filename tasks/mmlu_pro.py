"""MMLU-Pro test set (12,032 questions, up to 10 options), zero-shot multiple choice.

No packaged copy exists: the data loads from ``<data_dir>/mmlu_pro.jsonl`` or from the
Hugging Face hub when the ``datasets`` package and a route to the hub are available.

Run with ``inspect eval tasks/mmlu_pro.py --model PROVIDER/MODEL``; pass
``-T data_dir=FOLDER`` to read ``FOLDER/mmlu_pro.jsonl`` instead of the default sources.
"""

from inspect_ai import Task, task

from harness.benchmarks import load_task


@task
def mmlu_pro(data_dir: str | None = None) -> Task:
    """Return the mmlu_pro task; ``data_dir`` (or ``HARNESS_DATA_DIR``) contains an optional ``mmlu_pro.jsonl``."""
    return load_task("mmlu_pro", data_dir)
