"""BIG-Bench Hard (27 tasks, 6,511 questions), zero-shot chain of thought.

No packaged copy exists: the data loads from ``<data_dir>/bbh.jsonl`` or from the Hugging Face hub when the ``datasets`` package and a route to the hub are available.

Run with ``inspect eval tasks/bbh.py --model PROVIDER/MODEL``; pass
``-T data_dir=FOLDER`` to read ``FOLDER/bbh.jsonl`` instead of the default sources.
"""

from inspect_ai import Task, task

from harness.benchmarks import load_task


@task
def bbh(data_dir: str | None = None) -> Task:
    """Return the bbh task; ``data_dir`` (or ``HARNESS_DATA_DIR``) is the folder of an optional ``bbh.jsonl``."""
    return load_task("bbh", data_dir)
