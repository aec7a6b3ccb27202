"""KOR-Bench (rule-following in 5 categories), answers in ``[[...]]``.

No packaged copy or verified hub repository exists: the data loads from ``<data_dir>/korbench.jsonl``.

Run with ``inspect eval tasks/korbench.py --model PROVIDER/MODEL``; pass
``-T data_dir=FOLDER`` to read ``FOLDER/korbench.jsonl`` instead of the default sources.
"""

from inspect_ai import Task, task

from harness.benchmarks import load_task


@task
def korbench(data_dir: str | None = None) -> Task:
    """Return the korbench task; ``data_dir`` (or ``HARNESS_DATA_DIR``) is the folder of an optional ``korbench.jsonl``."""
    return load_task("korbench", data_dir)
