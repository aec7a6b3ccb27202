"""ARC-Challenge test set (1,172 science questions), zero-shot multiple choice.

Run with ``inspect eval tasks/arc_challenge.py --model PROVIDER/MODEL``; pass
``-T data_dir=FOLDER`` to read ``FOLDER/arc_challenge.jsonl`` instead of the default sources.
"""

from inspect_ai import Task, task

from harness.benchmarks import load_task


@task
def arc_challenge(data_dir: str | None = None) -> Task:
    """Return the arc_challenge task; ``data_dir`` (or ``HARNESS_DATA_DIR``) contains an optional ``arc_challenge.jsonl``."""
    return load_task("arc_challenge", data_dir)
