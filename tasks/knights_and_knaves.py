"""Knights and Knaves test set (700 puzzles, 2-8 inhabitants); every role must be right.

No packaged copy exists: the data loads from ``<data_dir>/knights_and_knaves.jsonl`` or from the Hugging Face hub when the ``datasets`` package and a route to the hub are available.

Run with ``inspect eval tasks/knights_and_knaves.py --model PROVIDER/MODEL``; pass
``-T data_dir=FOLDER`` to read ``FOLDER/knights_and_knaves.jsonl`` instead of the default sources.
"""

from inspect_ai import Task, task

from harness.benchmarks import load_task


@task
def knights_and_knaves(data_dir: str | None = None) -> Task:
    """Return the knights_and_knaves task; ``data_dir`` (or ``HARNESS_DATA_DIR``) is the folder of an optional ``knights_and_knaves.jsonl``."""
    return load_task("knights_and_knaves", data_dir)
