"""HellaSwag validation set (10,042 contexts, 4 endings), zero-shot multiple choice.

Run with ``inspect eval tasks/hellaswag.py --model PROVIDER/MODEL``; pass
``-T data_dir=FOLDER`` to read ``FOLDER/hellaswag.jsonl`` instead of the default sources.
"""

from inspect_ai import Task, task

from harness.benchmarks import load_task


@task
def hellaswag(data_dir: str | None = None) -> Task:
    """Return the hellaswag task; ``data_dir`` (or ``HARNESS_DATA_DIR``) contains an optional ``hellaswag.jsonl``."""
    return load_task("hellaswag", data_dir)
