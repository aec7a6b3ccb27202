"""MedQA USMLE test set (1,273 questions, 5 options), zero-shot multiple choice.

Run with ``inspect eval tasks/medqa.py --model PROVIDER/MODEL``; pass
``-T data_dir=FOLDER`` to read ``FOLDER/medqa.jsonl`` instead of the default sources.
"""

from inspect_ai import Task, task

from harness.benchmarks import load_task


@task
def medqa(data_dir: str | None = None) -> Task:
    """Return the medqa task; ``data_dir`` (or ``HARNESS_DATA_DIR``) contains an optional ``medqa.jsonl``."""
    return load_task("medqa", data_dir)
