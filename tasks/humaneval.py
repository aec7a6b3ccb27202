"""HumanEval (164 Python functions), graded by running the unit tests in the code sandbox.

Run with ``inspect eval tasks/humaneval.py --model PROVIDER/MODEL``; pass
``-T data_dir=FOLDER`` to read ``FOLDER/humaneval.jsonl`` instead of the default sources.
"""

from inspect_ai import Task, task

from harness.benchmarks import load_task


@task
def humaneval(data_dir: str | None = None) -> Task:
    """Return the humaneval task; ``data_dir`` (or ``HARNESS_DATA_DIR``) is the folder of an optional ``humaneval.jsonl``."""
    return load_task("humaneval", data_dir)
