"""EmoryNLP test set (emotion of Friends utterances, 7 labels).

No packaged copy or verified hub repository exists: the data loads from ``<data_dir>/emorynlp.jsonl``.

Run with ``inspect eval tasks/emorynlp.py --model PROVIDER/MODEL``; pass
``-T data_dir=FOLDER`` to read ``FOLDER/emorynlp.jsonl`` instead of the default sources.
"""

from inspect_ai import Task, task

from harness.benchmarks import load_task


@task
def emorynlp(data_dir: str | None = None) -> Task:
    """Return the emorynlp task; ``data_dir`` (or ``HARNESS_DATA_DIR``) is the folder of an optional ``emorynlp.jsonl``."""
    return load_task("emorynlp", data_dir)
