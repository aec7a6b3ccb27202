"""GSM8K test set (1,319 word problems), zero-shot, final answer in \\boxed{}.

Run with ``inspect eval tasks/gsm8k.py --model PROVIDER/MODEL``; pass
``-T data_dir=FOLDER`` to read ``FOLDER/gsm8k.jsonl`` instead of the default sources.
"""

from inspect_ai import Task, task

from harness.benchmarks import load_task


@task
def gsm8k(data_dir: str | None = None) -> Task:
    """Return the gsm8k task; ``data_dir`` (or ``HARNESS_DATA_DIR``) contains an optional ``gsm8k.jsonl``."""
    return load_task("gsm8k", data_dir)
