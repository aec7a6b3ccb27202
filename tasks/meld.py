"""MELD test set (emotion of Friends utterances, 7 labels, text only).

No packaged copy exists: the data loads from ``<data_dir>/meld.jsonl`` or from the Hugging Face hub when the ``datasets`` package and a route to the hub are available.

Run with ``inspect eval tasks/meld.py --model PROVIDER/MODEL``; pass
``-T data_dir=FOLDER`` to read ``FOLDER/meld.jsonl`` instead of the default sources.
"""

from inspect_ai import Task, task

from harness.benchmarks import load_task


@task
def meld(data_dir: str | None = None) -> Task:
    """Return the meld task; ``data_dir`` (or ``HARNESS_DATA_DIR``) is the folder of an optional ``meld.jsonl``."""
    return load_task("meld", data_dir)
