"""LiveMathBench v202412, English (119 problems), zero-shot, final answer in \\boxed{}.

No packaged copy exists: the data loads from ``<data_dir>/livemathbench.jsonl`` or from the
Hugging Face hub when the ``datasets`` package and a route to the hub are available.

Run with ``inspect eval tasks/livemathbench.py --model PROVIDER/MODEL``; pass
``-T data_dir=FOLDER`` to read ``FOLDER/livemathbench.jsonl`` instead of the default sources.
"""

from inspect_ai import Task, task

from harness.benchmarks import load_task


@task
def livemathbench(data_dir: str | None = None) -> Task:
    """Return the livemathbench task; ``data_dir`` (or ``HARNESS_DATA_DIR``) contains an optional ``livemathbench.jsonl``."""
    return load_task("livemathbench", data_dir)
