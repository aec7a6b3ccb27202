"""MATH-500 (500 competition problems), zero-shot, final answer in \\boxed{}.

Run with ``inspect eval tasks/math500.py --model PROVIDER/MODEL``; pass
``-T data_dir=FOLDER`` to read ``FOLDER/math500.jsonl`` instead of the default sources.
"""

from inspect_ai import Task, task

from harness.benchmarks import load_task


@task
def math500(data_dir: str | None = None) -> Task:
    """Return the math500 task; ``data_dir`` (or ``HARNESS_DATA_DIR``) contains an optional ``math500.jsonl``."""
    return load_task("math500", data_dir)
