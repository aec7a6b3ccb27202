"""WinoGrande (xl) validation set (1,267 sentences, 2 options), zero-shot multiple choice.

Run with ``inspect eval tasks/winogrande.py --model PROVIDER/MODEL``; pass
``-T data_dir=FOLDER`` to read ``FOLDER/winogrande.jsonl`` instead of the default sources.
"""

from inspect_ai import Task, task

from harness.benchmarks import load_task


@task
def winogrande(data_dir: str | None = None) -> Task:
    """Return the winogrande task; ``data_dir`` (or ``HARNESS_DATA_DIR``) contains an optional ``winogrande.jsonl``."""
    return load_task("winogrande", data_dir)
