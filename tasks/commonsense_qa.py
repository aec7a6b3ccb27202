"""CommonsenseQA validation set (1,221 questions, 5 options), zero-shot multiple choice.

Run with ``inspect eval tasks/commonsense_qa.py --model PROVIDER/MODEL``; pass
``-T data_dir=FOLDER`` to read ``FOLDER/commonsense_qa.jsonl`` instead of the default sources.
"""

from inspect_ai import Task, task

from harness.benchmarks import load_task


@task
def commonsense_qa(data_dir: str | None = None) -> Task:
    """Return the commonsense_qa task; ``data_dir`` (or ``HARNESS_DATA_DIR``) contains an optional ``commonsense_qa.jsonl``."""
    return load_task("commonsense_qa", data_dir)
