"""GPQA Diamond (198 questions, 4 shuffled options), zero-shot multiple choice.

No packaged copy exists: the data loads from ``<data_dir>/gpqa_diamond.jsonl`` or from the
Hugging Face hub (a gated data set) when ``datasets`` and a route to the hub are available.

Run with ``inspect eval tasks/gpqa_diamond.py --model PROVIDER/MODEL``; pass
``-T data_dir=FOLDER`` to read ``FOLDER/gpqa_diamond.jsonl`` instead of the default sources.
"""

from inspect_ai import Task, task

from harness.benchmarks import load_task


@task
def gpqa_diamond(data_dir: str | None = None) -> Task:
    """Return the gpqa_diamond task; ``data_dir`` (or ``HARNESS_DATA_DIR``) contains an optional ``gpqa_diamond.jsonl``."""
    return load_task("gpqa_diamond", data_dir)
