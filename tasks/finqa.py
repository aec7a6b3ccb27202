"""FinQA test set (1,147 questions over financial reports), numeric answers.

No packaged copy exists: the data loads from ``<data_dir>/finqa.jsonl`` or from the Hugging Face hub when the ``datasets`` package and a route to the hub are available.

Run with ``inspect eval tasks/finqa.py --model PROVIDER/MODEL``; pass
``-T data_dir=FOLDER`` to read ``FOLDER/finqa.jsonl`` instead of the default sources.
"""

from inspect_ai import Task, task

from harness.benchmarks import load_task


@task
def finqa(data_dir: str | None = None) -> Task:
    """Return the finqa task; ``data_dir`` (or ``HARNESS_DATA_DIR``) is the folder of an optional ``finqa.jsonl``."""
    return load_task("finqa", data_dir)
