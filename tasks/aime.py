"""AIME 2024 and 2025 (45 problems, integer answers), zero-shot, final answer in \\boxed{}.

Run with ``inspect eval tasks/aime.py --model PROVIDER/MODEL``; pass
``-T data_dir=FOLDER`` to read ``FOLDER/aime.jsonl`` instead of the default sources.
"""

from inspect_ai import Task, task

from harness.benchmarks import load_task


@task
def aime(data_dir: str | None = None) -> Task:
    """Return the aime task; ``data_dir`` (or ``HARNESS_DATA_DIR``) contains an optional ``aime.jsonl``."""
    return load_task("aime", data_dir)
