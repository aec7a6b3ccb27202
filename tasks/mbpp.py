"""MBPP test split (500 Python problems), graded by running the asserts in the code sandbox.

Run with ``inspect eval tasks/mbpp.py --model PROVIDER/MODEL``; pass
``-T data_dir=FOLDER`` to read ``FOLDER/mbpp.jsonl`` instead of the default sources.
"""

from inspect_ai import Task, task

from harness.benchmarks import load_task


@task
def mbpp(data_dir: str | None = None) -> Task:
    """Return the mbpp task; ``data_dir`` (or ``HARNESS_DATA_DIR``) is the folder of an optional ``mbpp.jsonl``."""
    return load_task("mbpp", data_dir)
